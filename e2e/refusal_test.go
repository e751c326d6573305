package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
	"festa/demo"
)

// refusalWords are the words each refusal must put in front of the
// student, per language: a piece of the catalogue message, so a test fails
// when the message is missing, untranslated or a different one.
var refusalWords = map[string]map[string]string{
	"ko": {
		"wrong_code": "학번 또는 접속 코드가 맞지 않아요",
		"taken":      "방금 다른 사람이 C12 좌석을 잡았어요",
		"paused":     "무대 점검 중",
		"closed":     "예매가 마감됐어요",
		"expired":    "좌석을 잡아 둔 시간이 지났어요",
		"limit":      "1장까지만",
		"cancelled":  "이미 취소된 티켓이에요",
		"checked_in": "이미 입장에 쓰인 티켓은 취소할 수 없어요",
		"offline":    "인터넷에 연결되지 않았어요",
		"server":     "잠시 문제가 생겼어요",
		"busy":       "지금 예매가 몰리고 있어요",
	},
	"en": {
		"wrong_code": "don't match",
		"taken":      "Someone took C12 a moment ago",
		"paused":     "Sales are paused: 무대 점검 중",
		"closed":     "Sales are closed",
		"expired":    "Your hold ran out",
		"limit":      "at most 1 ticket for",
		"cancelled":  "already cancelled",
		"checked_in": "already used at the gate cannot be cancelled",
		"offline":    "not connected to the internet",
		"server":     "Something went wrong",
		"busy":       "Booking is very busy right now",
	},
}

// Every refusal of the booking flow, met the way a student meets it on a
// phone: the reason appears in #messages, in the page's language, as an
// alert, on screen and not under the dock; the seat map and the hold panel
// show the truth; and the database is exactly as it was.
func TestEveryRefusalReachesTheStudentOnAPhone(t *testing.T) {
	for _, lang := range []string{"ko", "en"} {
		t.Run(lang, func(t *testing.T) { refusals(t, lang) })
	}
}

func refusals(t *testing.T, lang string) {
	words := refusalWords[lang]
	accept := "ko-KR,ko"
	if lang == "en" {
		accept = "en-US,en"
	}
	app := apptest.Start(t, apptest.Options{Students: 4})
	me, rival := app.Demo.Students[0], app.Demo.Students[1]
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2, Lang: accept})
	acceptDialogs(ctx)

	// A wrong access code: the sign-in form says so and nobody is signed in.
	before := app.Fingerprint(t)
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/login?next=%2Fp%2Fopening"),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, me.No),
		chromedp.SendKeys(`input[name="code"]`, "WRONGCODE1"),
		chromedp.Submit(`input[name="code"]`),
	)
	expectAlert(t, ctx, "main", words["wrong_code"])
	if after := app.Fingerprint(t); after != before {
		t.Error("wrong code: the database changed")
	}
	signIn(t, ctx, app, me, "/p/opening")
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#live-status[data-live="open"]`))

	// Two students race for C12 and this one loses: their map still showed
	// it free (the live update had not arrived), so they tap it.
	other := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	signIn(t, other, app, rival, "/p/opening")
	browsertest.Run(t, other,
		chromedp.WaitVisible(`#seat-C12`),
		clickSeat("C12"),
		chromedp.WaitVisible(`#seat-C12[data-state="mine"]`),
	)
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#seat-C12[data-state="held"]`, chromedp.ByQuery),
		chromedp.Evaluate(`(function(){var s=document.getElementById('seat-C12');s.dataset.state='available';s.removeAttribute('data-holder')})()`, nil),
	)
	refused(t, app, ctx, words["taken"], clickSeat("C12"))
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#seat-C12[data-state="held"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#best-seat`, chromedp.ByQuery),
	)
	if lang == "ko" {
		saveViewport(t, ctx, "refusal-phone.png")
	}
	// The message can be put away (or the next one replaces it).
	browsertest.Run(t, ctx,
		chromedp.Click(`#messages [data-dismiss]`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`#messages .flash`, chromedp.ByQuery),
	)
	// Sales paused by the council, with a reason.
	app.Exec(t, `UPDATE performances SET paused = true, pause_message = '무대 점검 중' WHERE slug = 'opening'`)
	refused(t, app, ctx, words["paused"], clickSeat("D5"))
	seatState(t, ctx, "D5", "available")
	app.Exec(t, `UPDATE performances SET paused = false, pause_message = '' WHERE slug = 'opening'`)

	// Sales closed.
	app.Exec(t, `UPDATE performances SET sales_close_at = now() - interval '1 second' WHERE slug = 'opening'`)
	refused(t, app, ctx, words["closed"], clickSeat("D6"))
	app.Exec(t, `UPDATE performances SET sales_close_at = now() + interval '1 day' WHERE slug = 'opening'`)
	// The live map's periodic catch-up may have read the sales while they
	// were closed, and the rival's open page keeps the hub, and that
	// reading, alive. A page joining it then gets a banner saying sales
	// closed and reloads itself within two seconds (festa.js): a reload
	// that could land between the next steps, with a tap sent before htmx
	// is back (a plain form post). The council's own change would send a
	// sales NOTIFY; this SQL does not, so the test wakes the hub's sales as
	// that NOTIFY would, then the student reloads the page.
	perf, err := app.Store.PerformanceBySlug(t.Context(), "opening")
	if err != nil {
		t.Fatal(err)
	}
	app.Live.WakeSales(perf.ID)
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/p/opening"),
		chromedp.WaitVisible(`#live-status[data-live="open"]`, chromedp.ByQuery),
	)

	// A hold that ran out before confirm: the reason, and the panel goes
	// back to picking, the seat back to free.
	browsertest.Run(t, ctx,
		clickSeat("D7"),
		chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`#messages [role="alert"]`, chromedp.ByQuery),
	)
	app.Exec(t, `UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE state = 'held' AND held_until > now() - interval '1 hour' AND student_id = (SELECT id FROM students WHERE student_no = $1)`, me.No)
	refused(t, app, ctx, words["expired"], chromedp.Evaluate(`document.getElementById('confirm-hold').click()`, nil))
	browsertest.Run(t, ctx,
		chromedp.WaitNotPresent(`#confirm-hold`, chromedp.ByQuery),
		chromedp.WaitVisible(`#best-seat`, chromedp.ByQuery),
	)
	seatState(t, ctx, "D7", "available")

	// The ticket limit: the same student booked E5 on another device; this
	// page still offers seats.
	phone2 := app.NewClient(t)
	phone2.SignIn(me.No)
	phone2.Get("/p/opening")
	if status, body := phone2.Post("/p/opening/hold", url.Values{"seat": {"E5"}}, true); status != 200 {
		t.Fatalf("hold E5 on the other device: %d %s", status, body)
	}
	ticket := confirmOver(t, app, phone2)
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#seat-E5[data-state="mine"]`, chromedp.ByQuery))
	refused(t, app, ctx, words["limit"], clickSeat("E9"))
	seatState(t, ctx, "E9", "available")
	var panel string
	browsertest.Run(t, ctx, chromedp.Text(`#hold-panel`, &panel, chromedp.ByQuery))
	if !strings.Contains(panel, "E5") {
		t.Errorf("after the limit refusal the hold panel does not show the E5 ticket: %q", panel)
	}

	// Cancelling a ticket that was cancelled (or used) meanwhile.
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/tickets/"+ticket),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
	)
	app.Exec(t, `INSERT INTO check_ins (ticket_id, gate) VALUES ($1, 'north')`, ticket)
	refused(t, app, ctx, words["checked_in"], chromedp.Click(`form[hx-post$="/cancel"] button`, chromedp.ByQuery))
	app.Exec(t, `DELETE FROM check_ins`)
	browsertest.Run(t, ctx, chromedp.Reload(), chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery))
	if status, _ := phone2.Post("/tickets/"+ticket+"/cancel", nil, true); status != 200 {
		t.Fatalf("cancel on the other device: %d", status)
	}
	refused(t, app, ctx, words["cancelled"], chromedp.Click(`form[hx-post$="/cancel"] button`, chromedp.ByQuery))

	// No network at all.
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/p/opening"),
		chromedp.WaitVisible(`#live-status[data-live="open"]`, chromedp.ByQuery),
		network.EmulateNetworkConditions(true, 0, -1, -1),
	)
	refused(t, app, ctx, words["offline"], clickSeat("F5"))
	browsertest.Run(t, ctx, network.EmulateNetworkConditions(false, 0, -1, -1))

	// A proxy in front answers 502 with its own page: the student reads a
	// message of festa's, and the hold panel is not replaced by the proxy's
	// HTML.
	browsertest.Run(t, ctx, fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*/p/opening/hold"}}))
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			go chromedp.Run(ctx, fetch.FulfillRequest(e.RequestID, 502).
				WithResponseHeaders([]*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html"}}).
				WithBody(base64.StdEncoding.EncodeToString([]byte("<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"))))
		}
	})
	refused(t, app, ctx, words["server"], clickSeat("F6"))
	browsertest.Run(t, ctx, fetch.Disable(), chromedp.WaitVisible(`#best-seat`, chromedp.ByQuery))
	var html string
	browsertest.Run(t, ctx, chromedp.OuterHTML(`#main`, &html, chromedp.ByQuery))
	if strings.Contains(html, "Bad Gateway") {
		t.Error("the proxy's error page was swapped into the page")
	}

	// "Best available" loses every race it runs (the database answers that
	// each seat it tries was taken a moment ago, as in a crowd): after its
	// last try the student is told to try again in a moment.
	app.Exec(t, `CREATE OR REPLACE FUNCTION festa_hold(p_performance bigint, p_label text, p_student bigint,
		p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text,
		OUT r_code text, OUT r_seat_id bigint, OUT r_label text, OUT r_row_label text, OUT r_number int,
		OUT r_x int, OUT r_y int, OUT r_kind text, OUT r_state text, OUT r_student_id bigint,
		OUT r_held_until timestamptz, OUT r_version bigint, OUT r_released text[])
		LANGUAGE plpgsql AS $$ BEGIN r_code := 'seat_taken'; END $$`)
	refused(t, app, ctx, words["busy"], chromedp.Click(`#best-seat`, chromedp.ByQuery))

	// The session ended meanwhile (signed out elsewhere): a tap leads to
	// the sign-in page instead of doing nothing.
	app.Exec(t, `DELETE FROM sessions`)
	browsertest.Run(t, ctx,
		clickSeat("F7"),
		chromedp.WaitVisible(`input[name="student_no"]`, chromedp.ByQuery),
	)
}

// acceptDialogs answers every confirm() with OK (the ticket's cancel asks
// first).
func acceptDialogs(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})
}

// signIn signs the browser in through the form and waits for next.
func signIn(t *testing.T, ctx context.Context, app *apptest.App, s demo.Student, next string) {
	t.Helper()
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/login?next="+url.QueryEscape(next)),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, s.No),
		chromedp.SendKeys(`input[name="code"]`, s.Code),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitNotPresent(`input[name="code"]`, chromedp.ByQuery),
	)
}

// clickSeat taps a seat the way a second tap on a zoomed phone map does
// (a click with no pointer travel, which festa.js does not take for a
// zoom).
func clickSeat(label string) chromedp.Action {
	return chromedp.Evaluate(`document.getElementById('seat-`+label+`').click()`, nil)
}

func seatState(t *testing.T, ctx context.Context, label, want string) {
	t.Helper()
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#seat-`+label+`[data-state="`+want+`"]`, chromedp.ByQuery))
}

// refused runs act, waits for the alert that explains the refusal in
// #messages and checks the database did not move.
func refused(t *testing.T, app *apptest.App, ctx context.Context, want string, act chromedp.Action) {
	t.Helper()
	before := app.Fingerprint(t)
	browsertest.Run(t, ctx, act)
	expectAlert(t, ctx, "#messages", want)
	if app.Fingerprint(t) != before {
		t.Errorf("refusal %q: the database changed", want)
	}
}

// expectAlert waits until an alert inside scope says want, then checks a
// person can see it: inside the viewport and not covered by anything (the
// phone's dock included).
func expectAlert(t *testing.T, ctx context.Context, scope, want string) {
	t.Helper()
	q, _ := json.Marshal(scope + ` [role="alert"]`)
	w, _ := json.Marshal(want)
	find := `Array.from(document.querySelectorAll(` + string(q) + `)).find(function (e) { return e.textContent.indexOf(` + string(w) + `) >= 0 })`
	// Poll by hand: a form post navigates, and an evaluation during the
	// navigation fails; that is not the answer yet. Finding the alert and
	// judging whether it can be seen is one evaluation: the page may go on
	// to reload itself (a live banner saying sales closed does that), and
	// the alert must have been there to read when it was found.
	check := `(function () {
		var m = ` + find + `;
		if (!m) return "";
		var r = m.getBoundingClientRect();
		if (r.width < 1 || r.height < 1) return "it has no size";
		if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return "it is off screen: " + JSON.stringify(r);
		var e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!e || !(m === e || m.contains(e))) return "it is covered by " + (e ? e.outerHTML.slice(0, 120) : "nothing");
		return "ok";
	})()`
	var where string
	for deadline := time.Now().Add(10 * time.Second); where == "" && time.Now().Before(deadline); {
		if err := chromedp.Run(ctx, chromedp.Evaluate(check, &where)); err != nil || where == "" {
			where = ""
			time.Sleep(50 * time.Millisecond)
		}
	}
	if where == "" {
		var got string
		chromedp.Run(ctx, chromedp.Evaluate(`location.pathname + ": " + ((document.querySelector(`+string(q)+`) || {}).textContent || "(no alert in `+scope+`)")`, &got))
		t.Errorf("no alert saying %q in %s (shown: %q)", want, scope, got)
		return
	}
	if where != "ok" {
		t.Errorf("the alert %q is not visible: %s", want, where)
	}
}

var hxTicket = regexp.MustCompile(`/tickets/([0-9a-f-]{36})`)

// confirmOver confirms a client's hold over HTTP and returns the ticket id.
func confirmOver(t *testing.T, app *apptest.App, c *apptest.Client) string {
	t.Helper()
	form := url.Values{"_csrf": {c.Token()}}
	req, _ := http.NewRequest("POST", app.URL+"/p/opening/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, body := c.Do(req)
	m := hxTicket.FindStringSubmatch(resp.Header.Get("HX-Redirect"))
	if m == nil {
		t.Fatalf("confirm over HTTP: %d %q %s", resp.StatusCode, resp.Header.Get("HX-Redirect"), body)
	}
	return m[1]
}

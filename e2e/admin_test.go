package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
	"festa/db"
)

// councilClient is an HTTP client signed in as the demo council account.
func councilClient(t *testing.T, app *apptest.App) *apptest.Client {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/staff/login")
	if status, _ := c.Post("/staff/login", url.Values{"username": {"council"}, "password": {staffPassword(t, app, "council")}}, false); status != http.StatusSeeOther {
		t.Fatalf("council sign-in: %d", status)
	}
	c.Get("/admin")
	return c
}

// bannerText waits until the page's #sales-banner holds want ("" for an
// emptied banner) and returns what it shows.
func waitBanner(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	js := `(function () { var b = document.getElementById("sales-banner"); return b ? b.innerText.trim() : "(none)"; })()`
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &got)); err != nil {
			continue
		}
		if (want == "" && got == "") || (want != "" && strings.Contains(got, want)) {
			return
		}
	}
	t.Fatalf("#sales-banner shows %q, want %q", got, want)
}

// A student's performance page on a phone and the home page, both open,
// receive the council's pause over their sockets at once, with the
// message, without a reload; the resume empties both.
func TestPauseBannerReachesOpenPagesLive(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3, LiveCatchUp: time.Hour})
	phone := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	signIn(t, phone, app, app.Demo.Students[0], "/p/opening")
	browsertest.Run(t, phone,
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
	)
	home := browsertest.New(t, browsertest.Options{Width: 1280, Height: 800})
	browsertest.Run(t, home, dark(),
		chromedp.Navigate(app.URL+"/"),
		chromedp.WaitVisible(`[data-performance="opening"]`),
		// The home socket is up once it has sent the availability.
		chromedp.Poll(`document.querySelector('#avail-opening') && window.htmx && true`, nil),
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
	)
	time.Sleep(500 * time.Millisecond) // the home socket's first message
	waitBanner(t, phone, "")
	waitBanner(t, home, "")

	council := councilClient(t, app)
	const msg = "음향 점검 중이에요. 10분 뒤에 다시 열어요."
	if status, body := council.Post("/admin/p/opening/pause", url.Values{"message": {msg}}, true); status != http.StatusOK {
		t.Fatalf("pause: %d %.300s", status, body)
	}
	waitBanner(t, phone, msg)
	waitBanner(t, home, msg)
	var title string
	var stayed, stayedHome bool
	browsertest.Run(t, phone,
		chromedp.Text(`#sales-banner .pause-banner p`, &title),
		chromedp.Evaluate(`window.__notReloaded === true`, &stayed),
	)
	browsertest.Run(t, home, chromedp.Evaluate(`window.__notReloaded === true`, &stayedHome))
	if !stayed || !stayedHome {
		t.Fatalf("a page reloaded to show the pause (phone kept its marker: %v, home: %v)", stayed, stayedHome)
	}
	if !strings.Contains(title, "멈췄어요") {
		t.Errorf("the banner's title: %q", title)
	}
	saveViewport(t, phone, "sales-paused-phone.png")

	// A tap on a seat while paused is refused with the council's words.
	browsertest.Run(t, phone, chromedp.Evaluate(`document.getElementById('seat-C12').click()`, nil))
	expectAlert(t, phone, "#messages", msg)

	if status, _ := council.Post("/admin/p/opening/resume", nil, true); status != http.StatusOK {
		t.Fatalf("resume: %d", status)
	}
	waitBanner(t, phone, "")
	waitBanner(t, home, "")
	browsertest.Run(t, phone, chromedp.Evaluate(`window.__notReloaded === true`, &stayed))
	if !stayed {
		t.Error("the phone reloaded on the resume")
	}
	// The live region itself stayed (its inside was swapped), so screen
	// readers hear the news.
	var role string
	browsertest.Run(t, phone, chromedp.AttributeValue(`#sales-banner`, "role", &role, nil))
	if role != "status" {
		t.Errorf("#sales-banner role %q after the swaps", role)
	}
}

// The council runs a pause from the console in a browser: the form posts
// with htmx, the card comes back with the notice and the message, an
// error stays in place; the console fits a phone. Screenshots of the
// console (1280×800) and the audit log.
func TestCouncilConsoleInABrowser(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 8})
	// Some life in the hall: tickets, holds and admissions at two doors.
	tokens := []string{bookTicket(t, app, "10101", "C10"), bookTicket(t, app, "10102", "C11"), bookTicket(t, app, "10103", "F14")}
	bookTicket(t, app, "10104", "H7")
	var gateID int64
	app.Store.Pool.QueryRow(context.Background(), `SELECT id FROM staff WHERE username = 'gate'`).Scan(&gateID)
	for i, door := range []string{"정문", "정문", "후문"} {
		id := ticketIDOf(t, app, tokens[i])
		if _, err := app.Store.RecordScan(context.Background(), db.Scan{Performance: "opening", Gate: door, StaffID: gateID, TicketID: id, Token: tokens[i]}); err != nil {
			t.Fatal(err)
		}
	}
	hold := app.NewClient(t)
	hold.SignIn("10105")
	hold.Post("/p/opening/hold", url.Values{"seat": {"E9"}}, true)
	// Three people watching the seat map and one the home page.
	watch(t, app, "/ws/p/opening", 3)
	watch(t, app, "/ws/home", 1)

	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 800})
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	run(dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#perf-opening`),
	)
	var sold, inside string
	run(
		chromedp.AttributeValue(`#stats-opening`, "data-sold", &sold, nil),
		chromedp.AttributeValue(`#stats-opening`, "data-checked-in", &inside, nil),
	)
	var viewers string
	run(chromedp.AttributeValue(`#stats-opening`, "data-viewers", &viewers, nil))
	if sold != "4" || inside != "3" || viewers != "3" {
		t.Errorf("overview: sold %s, inside %s, viewers %s; want 4, 3 and 3", sold, inside, viewers)
	}
	const msg = "무대 점검으로 잠시 멈춰요"
	run(
		chromedp.SendKeys(`#pause-opening`, msg),
		chromedp.Click(`#perf-opening form[action$="/pause"] button[type="submit"]`),
		chromedp.WaitVisible(`#perf-opening [data-action="resume"]`),
	)
	var card string
	run(chromedp.Text(`#perf-opening`, &card))
	if !strings.Contains(card, "일시 중지했어요") || !strings.Contains(card, msg) {
		t.Errorf("the card after the pause: %q", card)
	}
	if p, _ := app.Store.PerformanceBySlug(context.Background(), "opening"); !p.Paused || p.PauseMessage != msg {
		t.Errorf("the database after the pause: paused %v, %q", p.Paused, p.PauseMessage)
	}
	// A closing time before the opening is refused beside its field.
	run(
		chromedp.SetValue(`#closing-night`, "2000-01-01T10:00"),
		chromedp.Click(`#perf-night form[action$="/closing"] button[type="submit"]`),
		chromedp.WaitVisible(`#closing-night-error`),
	)
	var errText string
	run(chromedp.Text(`#closing-night-error`, &errText))
	if !strings.Contains(errText, "예매 시작") {
		t.Errorf("closing-time error: %q", errText)
	}
	run(chromedp.Evaluate(`window.scrollTo(0, 0)`, nil))
	saveViewport(t, ctx, "admin-console.png")
	// axe-core, serious and critical, on the console with a refused form
	// in place, and on the audit log.
	a11yCheck(t, ctx, "console")

	run(
		chromedp.Navigate(app.URL+"/admin/audit?performance=opening"),
		chromedp.WaitVisible(`#audit-table`),
	)
	saveViewport(t, ctx, "admin-audit.png")
	a11yCheck(t, ctx, "audit log")
	run(chromedp.Navigate(app.URL+"/admin/audit?student=123"), chromedp.WaitVisible(`#audit-student-error`))
	a11yCheck(t, ctx, "audit log with an error")

	// On a phone nothing scrolls sideways but the audit table's own box.
	phone := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	browsertest.Run(t, phone, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#perf-opening`),
	)
	for _, page := range []string{"/admin", "/admin/audit"} {
		var overflow bool
		browsertest.Run(t, phone,
			chromedp.Navigate(app.URL+page),
			chromedp.WaitVisible(`#main`, chromedp.ByQuery),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
		)
		if overflow {
			t.Errorf("%s scrolls sideways on a phone", page)
		}
	}
	browsertest.Run(t, phone, chromedp.Navigate(app.URL+"/admin"), chromedp.WaitVisible(`#perf-opening`))
	saveViewport(t, phone, "admin-console-phone.png")
}

// ticketIDOf reads the ticket id a token names.
func ticketIDOf(t *testing.T, app *apptest.App, token string) string {
	t.Helper()
	var id string
	if err := app.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM tickets WHERE token = $1`, token).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// A performance page waiting for sales to open (the map locked, the
// countdown to the old opening time) is drawn again when the council opens
// sales early: the map unlocks without the student touching anything.
func TestOpenNowUnlocksWaitingPages(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2, LiveCatchUp: time.Hour})
	phone := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	signIn(t, phone, app, app.Demo.Students[0], "/p/night")
	browsertest.Run(t, phone,
		chromedp.WaitVisible(`#seatmap-frame[data-sales="soon"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.Evaluate(`window.__before = true`, nil),
	)
	council := councilClient(t, app)
	if status, body := council.Post("/admin/p/night/open", nil, true); status != http.StatusOK {
		t.Fatalf("open now: %d %.300s", status, body)
	}
	// Poll by hand: an evaluation during the reload fails, which is not
	// the answer yet.
	var reloaded bool
	for deadline := time.Now().Add(10 * time.Second); !reloaded && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		chromedp.Run(phone, chromedp.Evaluate(`window.__before !== true && !!document.getElementById("best-seat")`, &reloaded))
	}
	if !reloaded {
		t.Fatal("the waiting page was not drawn again when sales opened")
	}
	var locked bool
	browsertest.Run(t, phone, chromedp.Evaluate(`document.getElementById("seatmap-frame").hasAttribute("data-sales")`, &locked))
	if locked {
		t.Error("the map is still locked after sales opened")
	}
}

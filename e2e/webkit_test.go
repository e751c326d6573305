package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/browsertest"
	"festa/db"
	"festa/demo"
	"festa/i18n"
)

// Most students' phones are iPhones, whose browsers all run WebKit, so the
// phone booking flow and its refusals run in WebKitGTK too (Debian's
// webkit2gtk-driver under Xvfb; see browsertest.WebKit).
//
// WebKitGTK has no device emulation: the phone is a 390×844 window with
// mouse input (its WebDriver delivers even touch actions as a mouse), so a
// click on the hall's overview picks the seat at once, as on a desktop; the
// tap-to-zoom step of a real touch screen is covered by the chromium phone
// tests.

func webkitPhone(t *testing.T) *browsertest.WebKit {
	return browsertest.NewWebKit(t, browsertest.WebKitOptions{Width: 390, Height: 844})
}

// webkitSignIn signs the student in through the login form, in Korean, and
// waits for the page at next. WebKitGTK's Accept-Language follows a C
// locale the machine may lack, so Korean is chosen with the language switch.
func webkitSignIn(t *testing.T, w *browsertest.WebKit, app *apptest.App, s demo.Student, next string) {
	t.Helper()
	login := "/login?next=" + url.QueryEscape(next)
	w.Navigate(app.URL + "/lang/ko?next=" + url.QueryEscape(login))
	w.SendKeys(`input[name="student_no"]`, s.No)
	w.SendKeys(`input[name="code"]`, s.Code)
	w.Click(`form[action="/login"] button[type="submit"]`)
	w.WaitUntil("the page "+next+" after sign-in", `return location.pathname === arguments[0] && document.readyState === "complete"`, next)
	if lang := w.Attr("html", "lang"); lang != "ko" {
		t.Fatalf("the page is in %q, want ko", lang)
	}
}

// webkitSave writes a screenshot of the window when FESTA_SCREENSHOTS names
// a folder.
func webkitSave(t *testing.T, w *browsertest.WebKit, name string) {
	t.Helper()
	if dir := os.Getenv("FESTA_SCREENSHOTS"); dir != "" {
		w.Screenshot(filepath.Join(dir, name))
	}
}

// A student on an iPhone-sized WebKit: sign in, watch the live map, pick a
// seat, confirm, and land on the ticket with its signed token.
func TestWebKitPhoneBooksASeat(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	student := app.Demo.Students[0]
	w := webkitPhone(t)
	webkitSignIn(t, w, app, student, "/p/opening")
	if width, _ := w.Viewport(); width != 390 {
		t.Errorf("the page is %d px wide, want a phone's 390", width)
	}
	w.WaitVisible(`#live-status[data-live="open"]`)
	w.WaitVisible(`#seat-E15[data-state="available"]`)
	webkitSave(t, w, "webkit-seatmap-phone.png")

	w.Click(`#seat-E15`)
	w.WaitVisible(`#seat-E15[data-state="mine"]`)
	w.WaitVisible(`#confirm-hold`)
	if held := w.Text(`#hold-panel`); !strings.Contains(held, "E15") {
		t.Errorf("the hold panel shows %q, want E15", held)
	}
	if n := app.Count(t, `SELECT count(*) FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		JOIN performances p ON p.id = ps.performance_id WHERE p.slug = 'opening' AND s.label = 'E15' AND ps.state = 'held'`); n != 1 {
		t.Errorf("E15 is held %d times in the database", n)
	}

	w.Click(`#confirm-hold`)
	w.WaitVisible(`[data-ticket-token]`)
	if !strings.Contains(w.URL(), "/tickets/") {
		t.Errorf("after confirming the page is %s", w.URL())
	}
	token := w.Attr(`[data-ticket-token]`, "data-ticket-token")
	claims, err := app.Ring.Verify(token)
	if err != nil || claims.Seat != "E15" || claims.Performance != "opening" {
		t.Fatalf("the page's token: %+v %v", claims, err)
	}
	if n := app.Count(t, `SELECT count(*) FROM tickets WHERE status = 'active'`); n != 1 {
		t.Errorf("%d active tickets", n)
	}
}

// Two students want D7. Student B's hold commits just as student A taps D7
// on a map that still shows it free: A must see why nothing happened, in
// Korean, in the message area by the hold panel, and nothing may change.
//
// To make "just as" certain, B's hold goes through the same database
// function the hold handler calls, without the handler's wake-up of live
// viewers, and the live feed's periodic catch-up is an hour away: A's map
// cannot learn of it before the tap.
func TestWebKitPhoneSeesWhyASeatWasRefused(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3, LiveCatchUp: time.Hour})
	a, b := app.Demo.Students[0], app.Demo.Students[1]
	w := webkitPhone(t)
	webkitSignIn(t, w, app, a, "/p/opening")
	w.WaitVisible(`#live-status[data-live="open"]`)
	w.WaitVisible(`#seat-D7[data-state="available"]`)

	var perfID, studentID int64
	ctx := context.Background()
	if err := app.Store.Pool.QueryRow(ctx, `SELECT id FROM performances WHERE slug = 'opening'`).Scan(&perfID); err != nil {
		t.Fatal(err)
	}
	if err := app.Store.Pool.QueryRow(ctx, `SELECT id FROM students WHERE student_no = $1`, b.No).Scan(&studentID); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.Hold(ctx, perfID, "D7", studentID, db.Actor{Kind: "student", ID: studentID, IP: "127.0.0.1"}); err != nil {
		t.Fatalf("B's hold: %v", err)
	}
	if state := w.Attr(`#seat-D7`, "data-state"); state != "available" {
		t.Fatalf("A's map already shows D7 %q; the race this test needs did not happen", state)
	}
	before := app.Fingerprint(t)

	messages, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	want := messages.Localizer("ko").T("booking.seat_taken", "seat", "D7")
	w.Click(`#seat-D7`)
	w.WaitUntil("the refusal in #messages", `var m = document.getElementById("messages");
		return !!m && m.textContent.trim() !== "" && m.getClientRects().length > 0`)
	if got := strings.TrimSpace(w.Text(`#messages`)); !strings.Contains(got, want) {
		t.Errorf("#messages says %q, want %q", got, want)
	}
	// Where the student is looking: inside the window, not scrolled away,
	// not under the phone's dock or anything else.
	var where string
	w.Eval(&where, `var m = document.getElementById("messages"), r = m.getBoundingClientRect();
		if (r.width < 1 || r.height < 1) return "it has no size";
		if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return "it is off screen: " + JSON.stringify(r);
		var e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!e || !(m === e || m.contains(e))) return "it is covered by " + (e ? e.outerHTML.slice(0, 120) : "nothing");
		return "ok";`)
	if where != "ok" {
		t.Errorf("the refusal is not visible: %s", where)
	}
	webkitSave(t, w, "webkit-refusal-phone.png")
	if after := app.Fingerprint(t); after != before {
		t.Error("the refused tap changed the database")
	}
	if n := app.Count(t, `SELECT count(*) FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND s.label = 'D7' AND ps.state = 'held' AND ps.student_id = $2`, perfID, studentID); n != 1 {
		t.Errorf("B no longer holds D7 (%d rows)", n)
	}
	// The map returns to the truth with the refusal, not at the next
	// catch-up: D7 is held by someone else, not free and not A's.
	w.WaitVisible(`#seat-D7[data-state="held"]`)
}

// The other refusals of the booking flow in the same WebKit window, one
// after another: sales paused with the council's reason, a hold that ran
// out before confirm, and the ticket limit reached from another device.
// Each must put the exact Korean message in #messages, on screen and not
// under the dock, and leave the database as it was.
func TestWebKitPhoneSeesOtherRefusals(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	me := app.Demo.Students[0]
	messages, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	ko := messages.Localizer("ko")
	w := webkitPhone(t)
	webkitSignIn(t, w, app, me, "/p/opening")
	w.WaitVisible(`#live-status[data-live="open"]`)
	w.WaitVisible(`#seat-D5[data-state="available"]`)

	// Sales paused by the council, with a reason: the reason is shown and
	// the seat stays free.
	app.Exec(t, `UPDATE performances SET paused = true, pause_message = '무대 점검 중' WHERE slug = 'opening'`)
	webkitRefused(t, w, app, ko.T("booking.sales_paused_because", "message", "무대 점검 중"), func() { w.Click(`#seat-D5`) })
	w.WaitVisible(`#seat-D5[data-state="available"]`)
	webkitSave(t, w, "webkit-refusal-paused-phone.png")
	app.Exec(t, `UPDATE performances SET paused = false, pause_message = '' WHERE slug = 'opening'`)

	// A hold that ran out before confirm: the reason, and the panel goes
	// back to picking.
	w.Click(`#seat-D7`)
	w.WaitVisible(`#seat-D7[data-state="mine"]`)
	w.WaitVisible(`#confirm-hold`)
	app.Exec(t, `UPDATE performance_seats SET held_until = now() - interval '1 second'
		WHERE state = 'held' AND student_id = (SELECT id FROM students WHERE student_no = $1)`, me.No)
	webkitRefused(t, w, app, ko.T("booking.hold_expired"), func() { w.Click(`#confirm-hold`) })
	w.WaitUntil("the hold panel back to picking", `return !document.getElementById("confirm-hold")`)

	// The ticket limit: the same student booked E5 on another device, and
	// this page still offers seats.
	limit := app.Count(t, `SELECT ticket_limit FROM performances WHERE slug = 'opening'`)
	other := app.NewClient(t)
	other.SignIn(me.No)
	other.Get("/p/opening")
	if status, body := other.Post("/p/opening/hold", url.Values{"seat": {"E5"}}, true); status != 200 {
		t.Fatalf("hold E5 on the other device: %d %s", status, body)
	}
	confirmOver(t, app, other)
	w.WaitVisible(`#seat-E5[data-state="mine"]`)
	webkitRefused(t, w, app, ko.T("booking.limit", "count", limit), func() { w.Click(`#seat-E9`) })
	w.WaitVisible(`#seat-E9[data-state="available"]`)
}

// webkitRefused runs act, waits for the message want inside #messages,
// checks a person can see it (in the window, not covered by the dock or
// anything else) and that the database did not move.
func webkitRefused(t *testing.T, w *browsertest.WebKit, app *apptest.App, want string, act func()) {
	t.Helper()
	before := app.Fingerprint(t)
	act()
	// The refusal is a role="alert" in #messages saying exactly want.
	const find = `var want = arguments[0];
		var e = Array.from(document.querySelectorAll("#messages [role=alert]")).find(function (a) {
			return a.textContent.trim() === want && a.getClientRects().length > 0;
		});`
	w.WaitUntil("#messages to say "+want, find+` return !!e;`, want)
	var where string
	w.Eval(&where, find+`
		var r = e.getBoundingClientRect();
		if (r.width < 1 || r.height < 1) return "it has no size";
		if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return "it is off screen: " + JSON.stringify(r);
		var at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!at || !(e === at || e.contains(at))) return "it is covered by " + (at ? at.outerHTML.slice(0, 120) : "nothing");
		return "ok";`, want)
	if where != "ok" {
		t.Errorf("the refusal %q is not visible: %s", want, where)
	}
	if after := app.Fingerprint(t); after != before {
		t.Errorf("the refusal %q changed the database", want)
	}
}

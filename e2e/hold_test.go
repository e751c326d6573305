package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

func phone(t *testing.T) context.Context {
	return browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
}

// A hold's last stretch and its end, on a phone: the countdown warns in
// colour and words (and once to a screen reader), then the panel says the
// hold is over and offers seats again, all without reloading the page.
func TestHoldWarnsThenEndsWithoutReload(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	// The shortest hold the schema allows: it warns in its last third, 10 s.
	app.Exec(t, `UPDATE performances SET hold_seconds = 30 WHERE slug = 'opening'`)
	ctx := phone(t)
	signIn(t, ctx, app, app.Demo.Students[0], "/p/opening")
	browsertest.Run(t, ctx, clickSeat("C12"), chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery))
	// Skip most of the wait: the hold now ends in 13 s, and the page is
	// drawn again from that.
	app.Exec(t, `UPDATE performance_seats SET held_until = now() + interval '13 seconds' WHERE state = 'held'`)
	var warning string
	var warned bool
	browsertest.Run(t, ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
		chromedp.Evaluate(`document.getElementById('hold-panel').classList.contains('is-warning')`, &warned),
	)
	if warned {
		t.Fatal("the hold warns with 13 s left; it should wait for the last 10")
	}
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#hold-panel.is-warning [data-hold-warning]`, chromedp.ByQuery),
		chromedp.Text(`[data-hold-warning]`, &warning, chromedp.ByQuery),
	)
	if !strings.Contains(warning, "초 남음 — 지금 확정하세요") {
		t.Errorf("warning line %q", warning)
	}
	var alerts []string
	browsertest.Run(t, ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll('#hold-panel [role="alert"]')).map(function (e) { return e.textContent })`, &alerts))
	if len(alerts) != 1 || !strings.Contains(alerts[0], "지금 확정하세요") {
		t.Errorf("screen readers hear %q, want the warning once", alerts)
	}
	var clock string
	browsertest.Run(t, ctx, chromedp.Evaluate(`getComputedStyle(document.querySelector('.hold-clock')).color`, &clock))
	if clock == "rgb(227, 179, 65)" {
		t.Errorf("the warned countdown is still amber (%s)", clock)
	}
	saveViewport(t, ctx, "hold-warning-phone.png")
	// Seconds later the warning has not been said again.
	time.Sleep(2 * time.Second)
	browsertest.Run(t, ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll('#hold-panel [role="alert"]')).map(function (e) { return e.textContent })`, &alerts))
	if len(alerts) != 1 || !strings.Contains(alerts[0], "지금 확정하세요") {
		t.Errorf("later, screen readers hear %q", alerts)
	}

	// The end: the panel says so, then offers seats again; the map stays,
	// with C12 free; the page never reloaded.
	var over string
	var kept bool
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#hold-panel .hold-expired`, chromedp.ByQuery),
		chromedp.Text(`#hold-panel .hold-expired`, &over, chromedp.ByQuery),
		chromedp.WaitNotPresent(`#confirm-hold`, chromedp.ByQuery),
		chromedp.WaitVisible(`#best-seat`, chromedp.ByQuery),
		chromedp.WaitVisible(`#seat-C12[data-state="available"]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded === true`, &kept),
	)
	if !strings.Contains(over, "좌석 잡기 시간이 끝났어요") || !strings.Contains(over, "C12") {
		t.Errorf("expiry notice %q", over)
	}
	browsertest.Run(t, ctx, chromedp.Text(`#hold-panel .hold-expired`, &over, chromedp.ByQuery))
	if !strings.Contains(over, "좌석 잡기 시간이 끝났어요") {
		t.Errorf("the fresh panel lost the notice: %q", over)
	}
	if !kept {
		t.Error("the page reloaded at the end of the hold")
	}
	saveViewport(t, ctx, "hold-expired-phone.png")
	if n := app.Count(t, `SELECT count(*) FROM tickets`); n != 0 {
		t.Errorf("%d tickets", n)
	}
}

// Back after confirming shows the seat as bought, never the old hold with
// a countdown and a confirm button; and the ticket's "booked" moment is
// there once, right after confirming.
func TestBackAfterConfirmShowsTheSeatAsMine(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	ctx := phone(t)
	signIn(t, ctx, app, app.Demo.Students[0], "/p/opening")
	var banner, focused, search string
	browsertest.Run(t, ctx,
		clickSeat("D9"),
		chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery),
		chromedp.Click(`#confirm-hold`, chromedp.ByQuery),
		chromedp.WaitVisible(`.booked-banner`, chromedp.ByQuery),
		chromedp.Text(`.booked-banner`, &banner, chromedp.ByQuery),
		chromedp.Evaluate(`document.activeElement.className`, &focused),
		chromedp.Evaluate(`location.search`, &search),
	)
	if !strings.Contains(banner, "예매 완료") || !strings.Contains(banner, "D9") {
		t.Errorf("booked banner %q", banner)
	}
	if !strings.Contains(focused, "booked-banner") {
		t.Errorf("focus is on %q, not on the banner (screen readers would not hear it)", focused)
	}
	if search != "" {
		t.Errorf("the address keeps %q: a reload would show the banner again", search)
	}
	save(t, ctx, "ticket-booked-phone.png")

	browsertest.Run(t, ctx,
		chromedp.NavigateBack(),
		chromedp.WaitVisible(`#seat-D9[data-state="mine"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#hold-panel .ticket-done`, chromedp.ByQuery),
	)
	var stale int
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.querySelectorAll('#confirm-hold, #hold-panel [data-expires-at]').length`, &stale))
	if stale != 0 {
		t.Error("back after confirm shows the old hold")
	}
	// A page the browser restores from its back/forward cache (pageshow
	// with persisted) is loaded afresh.
	var kept bool
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`window.__notReloaded = true; window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))`, nil),
		chromedp.WaitVisible(`#seat-D9[data-state="mine"]`, chromedp.ByQuery),
	)
	deadline := time.Now().Add(5 * time.Second)
	for kept = true; kept && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		chromedp.Run(ctx, chromedp.Evaluate(`window.__notReloaded === true`, &kept))
	}
	if kept {
		t.Error("a page restored from the back/forward cache was not reloaded")
	}

	// Later visits to the ticket have no banner.
	var banners int
	browsertest.Run(t, ctx,
		chromedp.NavigateForward(),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
		chromedp.Reload(),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('.booked-banner').length`, &banners),
	)
	if banners != 0 {
		t.Error("the booked banner shows again on a later visit")
	}
}

// A seat tapped while signed out survives the sign-in: the page comes back
// with it chosen and one button to hold it. Coming back does not hold it
// (a GET never holds); a bad label is ignored; a seat taken meanwhile is
// explained.
func TestSeatTappedSignedOutIsChosenAfterSignIn(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	ctx := phone(t)
	var next string
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/p/opening"),
		chromedp.WaitVisible(`#seat-C12`, chromedp.ByQuery),
		clickSeat("C12"),
		chromedp.WaitVisible(`input[name="student_no"]`, chromedp.ByQuery),
		chromedp.Value(`input[name="next"]`, &next, chromedp.ByQuery),
	)
	if next != "/p/opening?seat=C12" {
		t.Fatalf("sign-in comes back to %q", next)
	}
	me := app.Demo.Students[0]
	var chosen, button string
	browsertest.Run(t, ctx,
		chromedp.SendKeys(`input[name="student_no"]`, me.No),
		chromedp.SendKeys(`input[name="code"]`, me.Code),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#hold-selected`, chromedp.ByQuery),
		chromedp.Text(`#hold-panel .hold-seat`, &chosen, chromedp.ByQuery),
		chromedp.Text(`#hold-selected`, &button, chromedp.ByQuery),
	)
	if chosen != "C12" || button != "이 좌석 잡기" {
		t.Errorf("the panel offers %q with %q", chosen, button)
	}
	if n := app.Count(t, `SELECT count(*) FROM performance_seats WHERE state IN ('held', 'sold')`); n != 0 {
		t.Errorf("coming back from sign-in held %d seats", n)
	}
	browsertest.Run(t, ctx,
		chromedp.Click(`#hold-selected`, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery),
		chromedp.WaitVisible(`#seat-C12[data-state="mine"]`, chromedp.ByQuery),
	)
	if n := app.Count(t, `SELECT count(*) FROM performance_seats WHERE state = 'held'`); n != 1 {
		t.Errorf("%d seats held", n)
	}

	// A label that is not a seat is ignored.
	var offered int
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/p/opening?seat="+url.QueryEscape("C12'><script>")),
		chromedp.WaitVisible(`#hold-panel`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#hold-selected').length`, &offered),
	)
	if offered != 0 {
		t.Error("a malformed ?seat= was offered")
	}
	// Someone else took the chosen seat meanwhile: the page says so.
	other := app.NewClient(t)
	other.SignIn(app.Demo.Students[1].No)
	other.Get("/p/opening")
	if status, _ := other.Post("/p/opening/hold", url.Values{"seat": {"D3"}}, true); status != 200 {
		t.Fatalf("other hold: %d", status)
	}
	app.Exec(t, `UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
		WHERE student_id = (SELECT id FROM students WHERE student_no = $1)`, me.No)
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/p/opening?seat=D3"),
		chromedp.WaitVisible(`#best-seat`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#hold-selected').length`, &offered),
	)
	if offered != 0 {
		t.Error("a seat someone else holds was offered")
	}
	expectAlert(t, ctx, "#messages", "방금 다른 사람이 D3 좌석을 잡았어요")
}

// saveViewport writes what the screen shows (not the whole page: the phone
// dock sticks to the bottom of the screen, which a full-page picture
// cannot show) when FESTA_SCREENSHOTS names a folder.
func saveViewport(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FESTA_SCREENSHOTS")
	if dir == "" {
		return
	}
	var buf []byte
	browsertest.Run(t, ctx, chromedp.CaptureScreenshot(&buf))
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

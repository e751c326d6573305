package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// After a release the hold panel comes back from the server without the
// hall (a booking answer carries only the rows with a free seat), and the
// list picker still works: its rows are the free ones, its seat list is
// filled from the live map, and picking from it holds the seat.
func TestListPickerAfterARelease(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	ctx := phone(t)
	signIn(t, ctx, app, app.Demo.Students[0], "/p/opening")
	browsertest.Run(t, ctx,
		clickSeat("C12"),
		chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery),
		chromedp.Click(`#hold-panel form[action$="/release"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#best-seat`, chromedp.ByQuery),
	)
	seatState(t, ctx, "C12", "available")
	var rows, seats []string
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`document.querySelector('details.picker').open = true`, nil),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#pick-row option')).map(function (o) { return o.value })`, &rows),
		chromedp.SetValue(`#pick-row`, "C", chromedp.ByQuery),
		chromedp.Evaluate(`(function () { var r = document.getElementById('pick-row'); r.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, nil),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#pick-seat option')).map(function (o) { return o.value })`, &seats),
	)
	if len(rows) < 10 || rows[0] != "A" || !strings.Contains(strings.Join(rows, ","), "C") {
		t.Fatalf("picker rows after a release: %v, want every row with a free seat, front first", rows)
	}
	if len(seats) < 20 || !strings.Contains(","+strings.Join(seats, ",")+",", ",C12,") {
		t.Fatalf("row C's seats in the picker: %v, want the free ones from the live map, C12 among them", seats)
	}
	browsertest.Run(t, ctx,
		chromedp.SetValue(`#pick-seat`, "C12", chromedp.ByQuery),
		chromedp.Click(`#pick-submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm-hold`, chromedp.ByQuery),
	)
	seatState(t, ctx, "C12", "mine")
}

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// The ticket desk in a browser: the council finds a student by number,
// moves their ticket to another seat with a reason (the page comes back
// with a notice and the ticket in its new seat), tries a seat someone is
// picking and is told why in place, and opens the printable ticket.
func TestDeskMovesATicketInTheBrowser(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 6})
	st := app.Demo.Students[0]
	bookTicket(t, app, st.No, "D7")
	bookTicket(t, app, app.Demo.Students[1].No, "D9")
	picker := app.NewClient(t)
	picker.SignIn(app.Demo.Students[2].No)
	if status, _ := picker.Post("/p/opening/hold", url.Values{"seat": {"D10"}}, true); status != http.StatusOK {
		t.Fatal("hold D10")
	}

	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	var notice, seat string
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fdesk"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#desk-q`),
		chromedp.SendKeys(`#desk-q`, st.No),
		chromedp.Submit(`#desk-q`),
		chromedp.WaitVisible(`#desk-student [data-ticket-status="active"]`),
		// A seat someone is picking: refused in place, nothing moves.
		chromedp.Evaluate(`document.querySelector('[data-move-form]').closest('details').open = true`, nil),
		chromedp.SendKeys(`[data-move-form] input[name="seat"]`, "D10"),
		chromedp.SendKeys(`[data-move-form] input[name="reason"]`, "시야 가림"),
		chromedp.Click(`[data-move-form] button[type="submit"]`),
		chromedp.WaitVisible(`#messages [role="alert"]`),
		chromedp.Text(`#messages`, &notice),
	)
	if !strings.Contains(notice, "D10") || !strings.Contains(notice, "아무것도 바뀌지 않았어요") {
		t.Errorf("refusal %q", notice)
	}
	browsertest.Run(t, ctx,
		chromedp.SetValue(`[data-move-form] input[name="seat"]`, "E12"),
		chromedp.Click(`[data-move-form] button[type="submit"]`),
		chromedp.WaitVisible(`#desk-notice`),
		chromedp.Text(`#desk-notice`, &notice),
		chromedp.Text(`#desk-student [data-ticket-status="active"] .text-3xl`, &seat),
	)
	if !strings.Contains(notice, "D7에서 E12(으)로") || strings.TrimSpace(seat) != "E12" {
		t.Errorf("after the move: notice %q, seat %q", notice, seat)
	}
	// The shot shows the move form open, as the council uses it.
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.querySelector('[data-move-form]').closest('details').open = true`, nil))
	save(t, ctx, "admin-desk.png")

	// The seat's page shows the trail with the reason; the ticket prints.
	var trail string
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/admin/desk/p/opening/seats/E12"),
		chromedp.WaitVisible(`#desk-seat[data-state="sold"]`),
		chromedp.Text(`#desk-seat [data-trail]`, &trail),
	)
	if !strings.Contains(trail, "좌석 이동") || !strings.Contains(trail, "시야 가림") {
		t.Errorf("the seat's trail: %q", trail)
	}
	var href string
	var ok bool
	browsertest.Run(t, ctx, chromedp.AttributeValue(`[data-print-link]`, "href", &href, &ok))
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+href),
		chromedp.WaitVisible(`.paper-qr`),
	)
	save(t, ctx, "ticket-print.png")
	// On paper: one A6 page (105 × 148 mm is 297.6 × 419.5 pt).
	var pdf []byte
	browsertest.Run(t, ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		pdf, _, err = page.PrintToPDF().WithPreferCSSPageSize(true).WithPrintBackground(true).Do(ctx)
		return err
	}))
	pages := regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1)
	box := regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)`).FindSubmatch(pdf)
	if len(pages) != 1 || box == nil || !near(string(box[1]), 297.6) || !near(string(box[2]), 419.5) {
		t.Errorf("the printed ticket: %d pages, media box %q", len(pages), box)
	}
}

// near reports whether the number s is within 1.5 of want.
func near(s string, want float64) bool {
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f > want-1.5 && f < want+1.5
}

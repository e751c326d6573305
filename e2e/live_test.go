package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// Two browsers on the same performance: when one student holds a seat, the
// other viewer's map shows it held without a reload, and the counts follow.
func TestSeatMapFillsLiveInAnotherBrowser(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	viewer := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	browsertest.Run(t, viewer, dark(),
		chromedp.Navigate(app.URL+"/p/opening"),
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.WaitVisible(`#seat-C12[data-state="available"]`),
		// A marker that survives only if the page is not reloaded.
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
	)

	student := app.Demo.Students[0]
	picker := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true})
	browsertest.Run(t, picker,
		chromedp.Navigate(app.URL+"/login?next=%2Fp%2Fopening"),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, student.No),
		chromedp.SendKeys(`input[name="code"]`, student.Code),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#seat-C12`),
		chromedp.Evaluate(`document.getElementById('seat-C12').click()`, nil),
		chromedp.WaitVisible(`#seat-C12[data-state="mine"]`),
	)

	var held, stillThere string
	var notReloaded bool
	browsertest.Run(t, viewer,
		chromedp.WaitVisible(`#seat-C12[data-state="held"]`),
		chromedp.WaitVisible(`#occupancy[data-held="1"]`),
		chromedp.AttributeValue(`#seat-C12`, "aria-label", &held, nil),
		chromedp.Evaluate(`window.__notReloaded === true`, &notReloaded),
		chromedp.AttributeValue(`#seat-C11`, "data-state", &stillThere, nil),
	)
	if !notReloaded {
		t.Error("the viewer's page was reloaded")
	}
	if held == "" || strings.Contains(held, "예매 가능") {
		t.Errorf("C12's label did not follow its state: %q", held)
	}
	if stillThere != "available" {
		t.Errorf("C11 is %q", stillThere)
	}
	save(t, viewer, "seatmap-live-desktop.png")

	// Confirming sells it for the viewer too.
	browsertest.Run(t, picker, chromedp.Click(`#confirm-hold`), chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery))
	browsertest.Run(t, viewer,
		chromedp.WaitVisible(`#seat-C12[data-state="sold"]`),
		chromedp.WaitVisible(`#occupancy[data-sold="1"][data-held="0"]`),
	)
}

// A page just loaded already shows the hall: its socket sends no whole
// grid (a 93 KB swap and a second of a phone's main thread), only the
// changes that come after, and #live-version follows them.
func TestFreshPageGetsOnlyChanges(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true})
	var version string
	browsertest.Run(t, ctx,
		chromedp.ActionFunc(func(c context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(`window.__grids = 0; window.__messages = 0;
				document.addEventListener("htmx:oobBeforeSwap", e => { if (e.target.id === "seatmap") window.__grids++; });
				document.addEventListener("htmx:wsAfterMessage", () => window.__messages++);`).Do(c)
			return err
		}),
		chromedp.Navigate(app.URL+"/p/opening"),
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.AttributeValue(`#live-version`, "data-v", &version, nil),
	)
	c := app.NewClient(t)
	c.SignIn(app.Demo.Students[0].No)
	c.Get("/p/opening")
	if status, body := c.Post("/p/opening/hold", url.Values{"seat": {"C12"}}, true); status != http.StatusOK {
		t.Fatalf("hold: %d\n%.300s", status, body)
	}
	var grids, messages int
	var after string
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#seat-C12[data-state="held"]`),
		chromedp.Evaluate(`window.__grids`, &grids),
		chromedp.Evaluate(`window.__messages`, &messages),
		chromedp.AttributeValue(`#live-version`, "data-v", &after, nil),
	)
	if grids != 0 || messages != 1 {
		t.Errorf("after a fresh load and one hold the socket sent %d messages and %d whole grids, want the one change", messages, grids)
	}
	if after == version || after == "" {
		t.Errorf("#live-version stayed %q after a change (page drawn at %q)", after, version)
	}
}

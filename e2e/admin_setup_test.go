package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// The grid editor in a browser: the council types a hall's plan and the
// preview beside it draws it with the students' seat map as they type; a
// wrong character is named by line and column instead; on a phone the
// preview fits the screen's width.
func TestGridEditorPreviewsAsYouType(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	for _, size := range []struct {
		name string
		opts browsertest.Options
	}{
		{"desktop", browsertest.Options{Width: 1280, Height: 900}},
		{"phone", browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2}},
	} {
		ctx := browsertest.New(t, size.opts)
		var count, bad string
		var seats, overflow int
		browsertest.Run(t, ctx, dark(),
			chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fsetup"),
			chromedp.WaitVisible(`input[name="username"]`),
			chromedp.SendKeys(`input[name="username"]`, "council"),
			chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
			chromedp.Submit(`input[name="password"]`),
			chromedp.WaitVisible(`#hall-grid`),
			chromedp.SendKeys(`#hall-form input[name="name"]`, "소강당"),
			chromedp.SendKeys(`#hall-form input[name="slug"]`, "small-hall"),
			chromedp.SendKeys(`#hall-grid`, "AAA#"),
			chromedp.WaitVisible(`#hall-grid-error`),
			chromedp.Text(`#hall-grid-error`, &bad),
			chromedp.Evaluate(`document.querySelector('#hall-grid').value = ''`, nil),
			chromedp.SendKeys(`#hall-grid`, "xxAAAAAAAAAAAAxx\nAAAA.AAAAAAAA.AAAA\nAAAA.AAAAAAAA.AAAA\nAAAA.AAAAAAAA.AAAA\n\nwwAA.AAAAAAAA.AArr\nAAAA.AAAAAAAA.AAAA"),
			chromedp.WaitVisible(`#hall-preview #seatmap`),
			chromedp.Text(`#hall-preview-count`, &count),
			chromedp.Evaluate(`document.querySelectorAll('#hall-preview [data-seat]').length`, &seats),
			chromedp.Evaluate(`Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`, &overflow),
			chromedp.ScrollIntoView(`#hall-grid`),
		)
		if !strings.Contains(bad, "1번째 줄 4번째 칸") {
			t.Errorf("%s: the bad character: %q", size.name, bad)
		}
		if !strings.Contains(count, "6열, 96자리") || seats != 96 {
			t.Errorf("%s: preview %q with %d seats", size.name, count, seats)
		}
		if overflow > 0 {
			t.Errorf("%s: the page scrolls sideways by %dpx", size.name, overflow)
		}
		// The editor, its preview and the forms pass axe.
		a11yCheck(t, ctx, "grid editor "+size.name)
		if size.name == "desktop" {
			saveViewport(t, ctx, "admin-grid-editor.png")
			// Creating the hall lists it with its places and guests' seats.
			var halls string
			browsertest.Run(t, ctx,
				chromedp.Click(`#hall-form button[type="submit"]`),
				chromedp.WaitVisible(`#halls li:nth-child(2)`),
				chromedp.Text(`#halls ul`, &halls),
			)
			if !strings.Contains(halls, "소강당") || !strings.Contains(halls, "좌석 96석 · 귀빈석 2석") {
				t.Errorf("halls after creating one: %q", halls)
			}
		} else {
			// On a phone the preview comes under the form.
			browsertest.Run(t, ctx, chromedp.ScrollIntoView(`#hall-preview`))
			saveViewport(t, ctx, "admin-grid-editor-phone.png")
		}
	}
}

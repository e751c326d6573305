package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func dark() chromedp.Action {
	return emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}})
}

func TestHomeInKoreanAndEnglish(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	for _, size := range []struct {
		name          string
		width, height int
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 900, false}} {
		ctx := browsertest.New(t, browsertest.Options{Width: size.width, Height: size.height, Mobile: size.mobile, Scale: 1})
		var lang, cards, body string
		browsertest.Run(t, ctx, dark(),
			chromedp.Navigate(app.URL+"/"),
			chromedp.WaitVisible(`[data-performance="night"]`),
			chromedp.AttributeValue("html", "lang", &lang, nil),
			chromedp.Text(`main`, &cards),
		)
		if lang != "ko" || !strings.Contains(cards, "개막 공연") || !strings.Contains(cards, "밤 공연") || !strings.Contains(cards, "예매 중") {
			t.Errorf("%s: Korean home: lang %q, text %q", size.name, lang, cards)
		}
		save(t, ctx, "home-ko-"+size.name+".png")
		// The language switch is a plain link in the header.
		browsertest.Run(t, ctx,
			chromedp.Click(`a[hreflang="en"]`),
			chromedp.WaitVisible(`html[lang="en"]`),
			chromedp.Text(`main`, &body),
		)
		if !strings.Contains(body, "Opening Night") || !strings.Contains(body, "On sale") || !strings.Contains(body, "Opening soon") {
			t.Errorf("%s: English home: %q", size.name, body)
		}
		save(t, ctx, "home-en-"+size.name+".png")
		// Nothing overflows a phone screen sideways.
		var overflow bool
		browsertest.Run(t, ctx, chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow))
		if overflow {
			t.Errorf("%s: the page scrolls sideways", size.name)
		}
	}
}

// save writes a full-page screenshot when FESTA_SCREENSHOTS names a folder.
func save(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FESTA_SCREENSHOTS")
	if dir == "" {
		return
	}
	browsertest.Screenshot(t, ctx, filepath.Join(dir, name))
}

package components

import (
	"bytes"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func salesHTML(t *testing.T, lang string, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(langCtx(t, lang), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The socket sends the sales banner and badge rendered by the page's own
// components: the out-of-band copy is the page's markup plus hx-swap-oob
// (innerHTML for the banner, so its live region stays), nothing else.
func TestSalesRegionsAreThePagesOwn(t *testing.T) {
	paused := SalesBannerView{Status: "paused", Message: "음향 점검 중 <곧> 열어요"}
	for name, c := range map[string]struct {
		page, oob templ.Component
		swap      string
	}{
		"banner paused": {SalesBanner(paused, false), SalesBanner(paused, true), ` hx-swap-oob="innerHTML"`},
		"banner open":   {SalesBanner(SalesBannerView{Status: "open"}, false), SalesBanner(SalesBannerView{Status: "open"}, true), ` hx-swap-oob="innerHTML"`},
		"home banner": {HomeSalesBanner([]PausedSales{{Slug: "opening", Title: "개막 공연", Message: "잠시만요"}}, false),
			HomeSalesBanner([]PausedSales{{Slug: "opening", Title: "개막 공연", Message: "잠시만요"}}, true), ` hx-swap-oob="innerHTML"`},
		"pill": {SalesPill("sales-pill", "paused", false), SalesPill("sales-pill", "paused", true), ` hx-swap-oob="true"`},
	} {
		page, oob := salesHTML(t, "ko", c.page), salesHTML(t, "ko", c.oob)
		if !strings.Contains(oob, c.swap) || strings.Replace(oob, c.swap, "", 1) != page {
			t.Errorf("%s: the socket's copy is not the page's own\npage %s\noob  %s", name, page, oob)
		}
	}
	b := salesHTML(t, "en", SalesBanner(paused, false))
	if !strings.Contains(b, `id="sales-banner"`) || !strings.Contains(b, "음향 점검 중 &lt;곧&gt; 열어요") || !strings.Contains(b, "Sales are paused") ||
		!strings.Contains(b, `data-key="`+paused.Key()+`"`) || !strings.Contains(b, `role="status"`) {
		t.Errorf("paused banner: %s", b)
	}
	if b := salesHTML(t, "ko", SalesBanner(SalesBannerView{Status: "paused"}, false)); !strings.Contains(b, "곧 다시 열려요") {
		t.Errorf("a pause without a message shows no words of its own: %s", b)
	}
	if b := salesHTML(t, "ko", SalesBanner(SalesBannerView{Status: "open", Message: "old"}, false)); strings.Contains(b, "pause-banner") || strings.Contains(b, "old") {
		t.Errorf("open sales show a banner: %s", b)
	}
}

// A banner's key changes with what it shows and only then.
func TestSalesBannerKey(t *testing.T) {
	a, b := SalesBannerView{Status: "paused", Message: "a"}, SalesBannerView{Status: "paused", Message: "b"}
	if a.Key() == b.Key() || a.Key() != (SalesBannerView{Status: "paused", Message: "a"}).Key() {
		t.Errorf("paused keys: %q %q", a.Key(), b.Key())
	}
	if k := (SalesBannerView{Status: "open", Message: "left over"}).Key(); k != "open" {
		t.Errorf("open key %q", k)
	}
	if k := a.Key(); len(k) > 32 || strings.ContainsAny(k, "&?#= ") {
		t.Errorf("key %q does not fit a socket URL", k)
	}
}

package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"festa/apptest"
	"festa/browsertest"
	"festa/db"
)

// trafficSale gives the app an hour of a sale's life: page views before
// and after an opening 25 minutes ago (written as the counter would), and
// students who sign in from the opening's page, hold and confirm through
// real HTTP, a few for the night.
func trafficSale(t *testing.T, app *apptest.App) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	var counts []db.PageViewCount
	for ago := 59; ago >= 1; ago-- {
		at := now.Add(-time.Duration(ago) * time.Minute)
		// A trickle before sales open 25 minutes ago, the rush at the
		// opening, then a fading tail with a little wobble.
		opening := 3 + (ago*3)%5
		if ago <= 25 {
			opening = int(180*math.Exp(-float64(25-ago)/7)) + 12 + (ago*7)%9
		}
		counts = append(counts,
			db.PageViewCount{Minute: at, Kind: "performance", PerformanceSlug: "opening", Views: opening},
			db.PageViewCount{Minute: at, Kind: "performance", PerformanceSlug: "night", Views: 1 + ago%3},
			db.PageViewCount{Minute: at, Kind: "home", Views: 3 + opening/4},
			db.PageViewCount{Minute: at, Kind: "login", Views: 1 + opening/6},
		)
	}
	if err := app.Store.AddPageViews(ctx, counts); err != nil {
		t.Fatal(err)
	}
	for i, s := range app.Demo.Students[:17] {
		perf := "opening"
		if i >= 14 {
			perf = "night"
		}
		c := app.NewClient(t)
		c.Get("/p/" + perf)
		c.Get("/login?next=" + url.QueryEscape("/p/"+perf))
		if status, _ := c.Post("/login", url.Values{"student_no": {s.No}, "code": {s.Code}, "next": {"/p/" + perf}}, false); status != http.StatusSeeOther {
			t.Fatalf("sign in %s: %d", s.No, status)
		}
		c.Get("/p/" + perf)
		if perf != "opening" || i >= 9 {
			continue
		}
		if status, body := c.Post("/p/opening/hold", url.Values{"seat": {fmt.Sprintf("D%d", 10+i)}}, true); status != http.StatusOK {
			t.Fatalf("hold: %d %.300s", status, body)
		}
		if i < 6 {
			if status, _ := c.Post("/p/opening/confirm", nil, true); status != http.StatusOK {
				t.Fatalf("confirm: %d", status)
			}
		}
	}
	if err := app.PageViews.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// watch opens n live sockets on path, as seat maps (or the home page) do.
func watch(t *testing.T, app *apptest.App, path string, n int) {
	t.Helper()
	for range n {
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(app.URL, "http")+path, nil)
		cancel()
		if err != nil {
			t.Fatalf("watch %s: %v", path, err)
		}
		c.SetReadLimit(1 << 20)
		go func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		t.Cleanup(func() { c.CloseNow() })
	}
}

// councilBrowser signs a browser in as the council and opens path.
func councilBrowser(t *testing.T, app *apptest.App, opts browsertest.Options, path string) context.Context {
	t.Helper()
	ctx := browsertest.New(t, opts)
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next="+url.QueryEscape(path)),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#traffic-chart`),
	)
	return ctx
}

// The traffic view in a browser, on a desktop and a phone: the SVG chart
// with a bar per minute that had views, its title and description, live
// viewers from the open sockets, and the funnel's figures equal to the
// audit log's and the page views'; it refreshes by itself; axe finds
// nothing serious; the phone, in English, fits the screen. Screenshots of
// both.
func TestTrafficViewInABrowser(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 20})
	trafficSale(t, app)
	watch(t, app, "/ws/p/opening", 5)
	watch(t, app, "/ws/home", 2)

	ctx := councilBrowser(t, app, browsertest.Options{Width: 1280, Height: 900}, "/admin/traffic?performance=opening")
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	var bars int
	var role, title, desc, viewers, from string
	steps := map[string]string{}
	run(
		chromedp.Evaluate(`document.querySelectorAll('#traffic-chart rect[data-views]').length`, &bars),
		chromedp.AttributeValue(`#traffic-chart`, "role", &role, nil),
		// SVG elements have no innerText; their text is textContent.
		chromedp.Evaluate(`document.querySelector('#traffic-chart > title').textContent`, &title),
		chromedp.Evaluate(`document.getElementById('traffic-chart-desc').textContent`, &desc),
		chromedp.AttributeValue(`#traffic-live`, "data-viewers", &viewers, nil),
		chromedp.AttributeValue(`#traffic-chart`, "data-from", &from, nil),
	)
	for _, step := range []string{"viewed", "signed_in", "held", "confirmed"} {
		var n string
		run(chromedp.AttributeValue(`#traffic-funnel [data-funnel-step="`+step+`"]`, "data-count", &n, nil))
		steps[step] = n
	}
	// Every minute of the hour had views: 59 written, the current one's
	// from the students' own visits (one fewer when a minute turned since).
	if bars < 59 || role != "img" || title != "분당 페이지 조회" || !strings.Contains(desc, "지난 60분 동안") {
		t.Errorf("chart: %d bars, role %q, title %q, desc %q", bars, role, title, desc)
	}
	if viewers != "7" {
		t.Errorf("watching now: %s, want 7 (5 seat maps, 2 home pages)", viewers)
	}
	opening := app.Count(t, `SELECT id FROM performances WHERE slug = 'opening'`)
	// The window the page showed, from its first minute.
	since, err := time.Parse(time.RFC3339, from)
	if err != nil {
		t.Fatalf("the chart's data-from %q: %v", from, err)
	}
	people := func(actions string) int {
		return app.Count(t, `SELECT count(DISTINCT actor_id) FROM audit_log WHERE actor_kind = 'student'
			AND action IN (`+actions+`) AND performance_id = $1 AND at >= $2`, opening, since)
	}
	want := map[string]int{
		"viewed":    app.Count(t, `SELECT sum(views) FROM page_views WHERE performance_id = $1 AND minute >= $2`, opening, since),
		"signed_in": people(`'login', 'hold', 'confirm'`),
		"held":      people(`'hold', 'confirm'`),
		"confirmed": people(`'confirm'`),
	}
	for step, n := range want {
		if steps[step] != strconv.Itoa(n) {
			t.Errorf("funnel %s shows %s, the data says %d", step, steps[step], n)
		}
	}
	if want["signed_in"] != 14 || want["held"] != 9 || want["confirmed"] != 6 {
		t.Errorf("the scripted sale: %v, want 14 signed in, 9 held, 6 confirmed", want)
	}
	a11yCheck(t, ctx, "traffic desktop")
	run(chromedp.Evaluate(`window.scrollTo(0, 0)`, nil))
	save(t, ctx, "admin-traffic.png")

	// The numbers refresh by themselves, and show the database's.
	var before string
	run(chromedp.AttributeValue(`#traffic-views`, "data-views", &before, nil))
	if err := app.Store.AddPageViews(context.Background(), []db.PageViewCount{{Minute: time.Now(), Kind: "performance", PerformanceSlug: "opening", Views: 50}}); err != nil {
		t.Fatal(err)
	}
	var after string
	run(
		chromedp.Poll(`document.querySelector('#traffic-views').dataset.views != "`+before+`"`, nil, chromedp.WithPollingTimeout(25*time.Second)),
		chromedp.AttributeValue(`#traffic-views`, "data-views", &after, nil),
		chromedp.AttributeValue(`#traffic-chart`, "data-from", &from, nil),
	)
	if n := app.Count(t, `SELECT sum(views) FROM page_views WHERE performance_id = $1 AND minute >= $2`, opening, from); after != strconv.Itoa(n) {
		t.Errorf("after the refresh the page shows %s views, the database %d", after, n)
	}

	// The phone in English.
	phone := councilBrowser(t, app, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2, Lang: "en-US,en"}, "/admin/traffic")
	var heading string
	browsertest.Run(t, phone, chromedp.Text(`#traffic-funnel-heading`, &heading))
	if heading != "Booking funnel" {
		t.Errorf("the English funnel's heading: %q", heading)
	}
	var overflow bool
	// Against the phone's own width: a mobile browser widens its layout
	// viewport (innerWidth) to fit content that overflows.
	browsertest.Run(t, phone, chromedp.Evaluate(`document.documentElement.scrollWidth > 390`, &overflow))
	if overflow {
		t.Error("the traffic view is wider than the phone")
	}
	a11yCheck(t, phone, "traffic phone")
	save(t, phone, "admin-traffic-phone-en.png")
}

// A gate account opening the traffic view is refused in words it can
// read on the screen, and sees none of the numbers.
func TestTrafficViewRefusesTheGate(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	var text string
	var charts int
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Ftraffic"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "gate"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "gate")),
		chromedp.Submit(`input[name="password"]`),
		// The sign-in page's own heading is visible until the browser has
		// moved on: wait for its form to go first.
		chromedp.WaitNotPresent(`input[name="password"]`),
		chromedp.WaitVisible(`main h1`),
		chromedp.Text(`main`, &text),
		chromedp.Evaluate(`document.querySelectorAll('#traffic-chart, #traffic-funnel').length`, &charts),
	)
	if !strings.Contains(text, "이 계정으로는 볼 수 없는") || charts != 0 {
		t.Errorf("the gate sees %q (%d traffic elements)", text, charts)
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"festa/apptest"
)

var funnelStepRE = regexp.MustCompile(`data-funnel-step="([a-z_]+)" data-count="([0-9]+)"`)

// funnelOnPage reads the funnel the traffic page shows, by step.
func funnelOnPage(t *testing.T, body string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range funnelStepRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	if len(out) != 4 {
		t.Fatalf("the page shows %d funnel steps, want 4:\n%.2000s", len(out), body)
	}
	return out
}

// funnelFromData counts a performance's funnel (0: every performance)
// straight from page_views and audit_log, the plain way: each step the
// distinct students who got at least that far.
func funnelFromData(t *testing.T, app *apptest.App, perf int64) map[string]int {
	t.Helper()
	scope := `($1::bigint = 0 OR performance_id = $1)`
	people := func(actions string) int {
		return app.Count(t, `SELECT count(DISTINCT actor_id) FROM audit_log WHERE actor_kind = 'student' AND action IN (`+actions+`) AND `+scope, perf)
	}
	return map[string]int{
		"viewed":    app.Count(t, `SELECT coalesce(sum(views), 0) FROM page_views WHERE kind = 'performance' AND `+scope, perf),
		"signed_in": people(`'login', 'hold', 'confirm'`),
		"held":      people(`'hold', 'confirm'`),
		"confirmed": people(`'confirm'`),
	}
}

// signInFrom opens the sign-in page from next and signs in there, as a
// student tapping "sign in to book" on a performance page does.
func signInFrom(t *testing.T, app *apptest.App, c *apptest.Client, no, next string) {
	t.Helper()
	code := ""
	for _, s := range app.Demo.Students {
		if s.No == no {
			code = s.Code
		}
	}
	c.Get("/login?next=" + url.QueryEscape(next))
	if status, body := c.Post("/login", url.Values{"student_no": {no}, "code": {code}, "next": {next}}, false); status != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d\n%.500s", no, status, body)
	}
}

// A scripted session through real HTTP: students look at pages, sign in,
// hold and confirm, with requests that are not page views mixed in. The
// traffic view's funnel equals the counts read straight from page_views
// and audit_log, and those are the session's own numbers.
func TestTrafficFunnelMatchesAScriptedSession(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 4})
	ctx := context.Background()
	get := func(c *apptest.Client, path string, want int) {
		t.Helper()
		if status, body := c.Get(path); status != want {
			t.Fatalf("GET %s: %d, want %d\n%.500s", path, status, want, body)
		}
	}
	post := func(c *apptest.Client, path string, form url.Values) {
		t.Helper()
		if status, body := c.Post(path, form, true); status != http.StatusOK {
			t.Fatalf("POST %s: %d\n%.500s", path, status, body)
		}
	}
	alice, bob, carol := app.NewClient(t), app.NewClient(t), app.NewClient(t)
	a, b, c := app.Demo.Students[0].No, app.Demo.Students[1].No, app.Demo.Students[2].No

	// alice: home, the opening's page, signs in from it, back to the page,
	// holds, confirms, looks at her tickets.
	get(alice, "/", 200)
	get(alice, "/p/opening", 200)
	signInFrom(t, app, alice, a, "/p/opening")
	get(alice, "/p/opening", 200)
	post(alice, "/p/opening/hold", url.Values{"seat": {"C5"}})
	resp, _ := alice.Do(htmxPost(t, app, alice, "/p/opening/confirm", nil))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") == "" {
		t.Fatalf("alice's confirm: %d", resp.StatusCode)
	}
	get(alice, "/tickets", 200)
	// bob: the same way in, holds C6, lets it go, holds C7, stops there.
	get(bob, "/p/opening", 200)
	signInFrom(t, app, bob, b, "/p/opening")
	get(bob, "/p/opening", 200)
	post(bob, "/p/opening/hold", url.Values{"seat": {"C6"}})
	post(bob, "/p/opening/release", url.Values{"seat": {"C6"}})
	post(bob, "/p/opening/hold", url.Values{"seat": {"C7"}})
	// carol signs in from the home page and looks at the night's page.
	signInFrom(t, app, carol, c, "/")
	get(carol, "/", 200)
	get(carol, "/p/night", 200)

	// Not page views: a crawler, an htmx fragment request, a page that is
	// not there, health, metrics, static files and the console.
	bot, _ := http.NewRequest(http.MethodGet, app.URL+"/p/opening", nil)
	bot.Header.Set("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")
	alice.Do(bot)
	frag, _ := http.NewRequest(http.MethodGet, app.URL+"/p/opening", nil)
	frag.Header.Set("HX-Request", "true")
	alice.Do(frag)
	get(alice, "/p/no-such-show", 404)
	get(alice, "/healthz", 200)
	get(alice, "/metrics", 200)
	council := gateStaff(t, app, "council")
	get(council, "/admin", 200)

	if err := app.PageViews.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	opening, night := app.Count(t, `SELECT id FROM performances WHERE slug = 'opening'`), app.Count(t, `SELECT id FROM performances WHERE slug = 'night'`)
	for kind, want := range map[string]int{"home": 2, "login": 3, "tickets": 1} {
		if n := app.Count(t, `SELECT coalesce(sum(views), 0) FROM page_views WHERE kind = $1`, kind); n != want {
			t.Errorf("%s page views %d, want %d", kind, n, want)
		}
	}

	for _, tc := range []struct {
		query string
		perf  int
		want  map[string]int
	}{
		{"?performance=opening", opening, map[string]int{"viewed": 4, "signed_in": 2, "held": 2, "confirmed": 1}},
		{"?performance=night&window=hour", night, map[string]int{"viewed": 1, "signed_in": 0, "held": 0, "confirmed": 0}},
		{"", 0, map[string]int{"viewed": 5, "signed_in": 3, "held": 2, "confirmed": 1}},
		{"?window=all", 0, map[string]int{"viewed": 5, "signed_in": 3, "held": 2, "confirmed": 1}},
	} {
		status, body := council.Get("/admin/traffic" + tc.query)
		if status != http.StatusOK {
			t.Fatalf("GET /admin/traffic%s: %d", tc.query, status)
		}
		shown, data := funnelOnPage(t, body), funnelFromData(t, app, int64(tc.perf))
		for step, want := range tc.want {
			if shown[step] != data[step] || shown[step] != want {
				t.Errorf("%q %s: page shows %d, the data says %d, the session did %d", tc.query, step, shown[step], data[step], want)
			}
		}
	}
	// The sign-ins are in the audit log without an address or browser.
	if n := app.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'login' AND ip = '' AND user_agent = ''`); n != 3 {
		t.Errorf("%d sign-in rows without an address, want 3", n)
	}
}

// The page's chart and numbers: an SVG with its title, description and
// role, one bar per minute with views, the numbers as a table; the
// refresh answers the numbers alone; in English too.
func TestTrafficPageDrawsTheChart(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	visitor := app.NewClient(t)
	for range 3 {
		visitor.Get("/p/opening")
	}
	if err := app.PageViews.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	council := gateStaff(t, app, "council")
	status, body := council.Get("/admin/traffic")
	if status != http.StatusOK {
		t.Fatalf("traffic page: %d", status)
	}
	for _, want := range []string{
		`<svg id="traffic-chart"`, `role="img"`, `aria-describedby="traffic-chart-desc"`, `<title>분당 페이지 조회</title>`,
		`data-total="3"`, `data-views="3"`, `지난 60분 동안 3회 조회했어요`, `id="traffic-minutes"`,
		`href="/admin/traffic" aria-current="page"`, `hx-trigger="every 10s"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	refresh, _ := http.NewRequest(http.MethodGet, app.URL+"/admin/traffic?performance=opening", nil)
	refresh.Header.Set("HX-Request", "true")
	resp, fragment := council.Do(refresh)
	if resp.StatusCode != http.StatusOK || strings.Contains(fragment, "<html") || !strings.Contains(fragment, `id="traffic-chart"`) || !strings.Contains(fragment, `data-funnel-step="viewed" data-count="3"`) {
		t.Errorf("the refresh: %d\n%.500s", resp.StatusCode, fragment)
	}
	council.Lang = "en"
	if _, body := council.Get("/admin/traffic"); !strings.Contains(body, "Booking funnel") || !strings.Contains(body, "3 page views in the last 60 minutes") {
		t.Errorf("the English page:\n%.1500s", body)
	}
	if status, _ := council.Get("/admin/traffic?performance=no-such-show"); status != http.StatusNotFound {
		t.Errorf("an unknown performance: %d, want 404", status)
	}
}

// Only the council sees the traffic view: a gate account is refused in
// words, a student and anyone signed out are sent to the staff sign-in.
func TestTrafficViewIsTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	gate := gateStaff(t, app, "gate")
	if status, body := gate.Get("/admin/traffic"); status != http.StatusForbidden || !strings.Contains(body, "이 계정으로는 볼 수 없는") {
		t.Errorf("gate: %d\n%.300s", status, body)
	}
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	anon := app.NewClient(t)
	for name, c := range map[string]*apptest.Client{"student": student, "signed out": anon} {
		resp, body := c.Do(mustRequest(t, http.MethodGet, app.URL+"/admin/traffic"))
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login?next=") || strings.Contains(body, "traffic-chart") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// Watching now is the home page's and the seat maps' sockets: a gate
// scanner and a projection screen, which the broker also counts, are not
// people looking at the sale.
func TestTrafficWatchersAreSeatMapsAndHome(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	council := gateStaff(t, app, "council")
	for _, w := range []struct {
		path string
		c    *apptest.Client
	}{{"/ws/p/opening", nil}, {"/ws/p/night", nil}, {"/ws/home", nil}, {"/ws/gate/opening", council}, {"/ws/screen/opening", council}} {
		opts := &websocket.DialOptions{}
		if w.c != nil {
			opts.HTTPClient = w.c.HTTP
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+w.path, opts)
		cancel()
		if err != nil {
			t.Fatalf("dial %s: %v", w.path, err)
		}
		conn.SetReadLimit(1 << 20)
		go func() {
			for {
				if _, _, err := conn.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		t.Cleanup(func() { conn.CloseNow() })
	}
	want := `id="traffic-live" data-viewers="3"`
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, body = council.Get("/admin/traffic"); strings.Contains(body, want) {
			break
		}
	}
	if !strings.Contains(body, want) {
		i := strings.Index(body, `id="traffic-live"`)
		t.Errorf("watching now: %.60s, want 3 (two seat maps and the home page)", body[max(i, 0):])
	}
	if app.Live.Viewers()[0] != 1 || len(app.Live.Viewers()) < 5 {
		t.Errorf("the broker counts %v: the test relies on it counting the gate and the screen too", app.Live.Viewers())
	}
}

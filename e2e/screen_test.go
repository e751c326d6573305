package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

var screenNewKey = regexp.MustCompile(`data-new-key-url[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-new-key-url`)

// screenKeyFor makes a display key for the opening performance in the
// console, as the council, and returns the key.
func screenKeyFor(t *testing.T, app *apptest.App) string {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/staff/login")
	if status, _ := c.Post("/staff/login", url.Values{"username": {"council"}, "password": {staffPassword(t, app, "council")}}, false); status != http.StatusSeeOther {
		t.Fatalf("council sign-in: %d", status)
	}
	c.Get("/admin/p/opening/screen-keys")
	status, body := c.Post("/admin/p/opening/screen-keys", url.Values{"label": {"강당 프로젝터"}}, false)
	m := screenNewKey.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("make a display key: %d", status)
	}
	u, err := url.Parse(strings.ReplaceAll(m[1]+m[2], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("key")
}

// switchFront is a reverse proxy whose backend can be cut (every request
// answered 502, as while festa restarts) and changed: the projector keeps
// one address while the server behind it is replaced.
type switchFront struct {
	URL     string
	backend atomic.Pointer[httputil.ReverseProxy]
}

func newSwitchFront(t *testing.T, backend string) *switchFront {
	t.Helper()
	f := &switchFront{}
	f.to(t, backend)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := f.backend.Load()
		if p == nil {
			http.Error(w, "restarting", http.StatusBadGateway)
			return
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *switchFront) to(t *testing.T, backend string) {
	t.Helper()
	if backend == "" {
		f.backend.Store(nil)
		return
	}
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	f.backend.Store(httputil.NewSingleHostReverseProxy(u))
}

// The projection screen at 1920×1080, opened with a display key: it fits
// the screen without a scrollbar, names nobody, and follows the hall live
// without a reload — a seat sold on another device, a ticket let in at a
// door, a pause and its end, and a festa restart in between.
func TestScreenFollowsTheHallLiveAt1080p(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 40})
	key := screenKeyFor(t, app)

	// An evening under way: seats sold, two being picked, people in at
	// three doors.
	seats := []string{"A10", "A11", "A12", "A13", "B9", "B10", "B11", "B14", "B15", "C12", "C13", "C14", "C15", "C16",
		"D3", "D4", "D5", "D20", "D21", "E12", "E13", "F24", "F25", "G9", "G10", "H18", "J2", "K27", "M12", "M13"}
	var tokens []string
	for i, s := range seats {
		tokens = append(tokens, bookTicket(t, app, app.Demo.Students[i].No, s))
	}
	for i, no := range []string{app.Demo.Students[35].No, app.Demo.Students[36].No} {
		c := app.NewClient(t)
		c.SignIn(no)
		if status, _ := c.Post("/p/opening/hold", url.Values{"seat": {[]string{"E20", "H5"}[i]}}, true); status != http.StatusOK {
			t.Fatalf("hold: %d", status)
		}
	}
	doors := map[string]func(string) string{"정문": gateDoor(t, app, "정문"), "후문": gateDoor(t, app, "후문"), "2층": gateDoor(t, app, "2층")}
	for i, token := range tokens[:11] {
		door := []string{"정문", "정문", "후문", "정문", "2층", "후문", "정문", "정문", "후문", "정문", "2층"}[i]
		if body := doors[door](token); !strings.Contains(body, `data-result="admitted"`) {
			t.Fatalf("scan %d at %s: %.300s", i, door, body)
		}
	}

	front := newSwitchFront(t, app.URL)
	ctx := browsertest.New(t, browsertest.Options{Width: 1920, Height: 1080})
	browsertest.Run(t, ctx,
		chromedp.Navigate(front.URL+"/screen/opening?key="+url.QueryEscape(key)),
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.WaitVisible(`#occupancy[data-sold="30"][data-held="2"][data-checked-in="11"]`),
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
	)
	var fits bool
	var html string
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight
			&& getComputedStyle(document.body).overflow === "hidden"`, &fits),
		chromedp.OuterHTML(`html`, &html),
	)
	if !fits {
		t.Error("the screen scrolls at 1920×1080")
	}
	for _, s := range app.Demo.Students {
		if strings.Contains(html, s.Name) || strings.Contains(html, s.No) {
			t.Fatalf("the screen names student %s", s.No)
		}
	}
	if strings.Contains(html, "<button") || strings.Contains(html, "<a ") || strings.Contains(html, "<input") {
		t.Error("the screen has a control")
	}
	save(t, ctx, "screen-1080p.png")

	// A seat sold elsewhere, over HTTP: the hall and the counts follow.
	token := bookTicket(t, app, app.Demo.Students[30].No, "E10")
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#seat-E10[data-state="sold"]`),
		chromedp.WaitVisible(`#occupancy[data-sold="31"]`),
	)
	// A ticket let in at a door: inside, the door's count and the ticker.
	if body := doors["후문"](token); !strings.Contains(body, `data-result="admitted"`) {
		t.Fatalf("scan E10: %.300s", body)
	}
	var ticker string
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#occupancy[data-checked-in="12"]`),
		chromedp.Text(`#screen-ticker li:first-child`, &ticker),
	)
	if !strings.Contains(ticker, "E10") || !strings.Contains(ticker, "후문") {
		t.Errorf("the ticker's newest line is %q", ticker)
	}

	// A pause shows the council's message; resuming takes it away.
	var perfID int64
	app.Store.Pool.QueryRow(context.Background(), `SELECT id FROM performances WHERE slug = 'opening'`).Scan(&perfID)
	app.Exec(t, `UPDATE performances SET paused = true, pause_message = '음향 점검 중이에요. 10분 뒤에 다시 열어요.' WHERE id = $1`, perfID)
	app.Notifier.Poke(perfID)
	var banner string
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#sales-banner`),
		chromedp.Text(`#sales-banner`, &banner),
	)
	if !strings.Contains(banner, "음향 점검 중이에요") {
		t.Errorf("pause banner %q", banner)
	}
	save(t, ctx, "screen-paused-1080p.png")
	app.Exec(t, `UPDATE performances SET paused = false, pause_message = '' WHERE id = $1`, perfID)
	app.Notifier.Poke(perfID)
	browsertest.Run(t, ctx, chromedp.WaitNotPresent(`#sales-banner`))

	// festa restarts: the old server's sockets close (1012), the address
	// answers 502 for a moment, then a new server answers on the same
	// database. The screen reconnects by itself and catches up.
	front.to(t, "")
	shutdown, cancel := context.WithCancel(context.Background())
	cancel()
	app.Live.Close(shutdown)
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#live-status:not([data-live="open"])`))
	next := apptest.Serve(t, app.Store, app.Demo, apptest.Options{})
	bookTicket(t, next, app.Demo.Students[31].No, "F10")
	front.to(t, next.URL)
	var notReloaded bool
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.WaitVisible(`#seat-F10[data-state="sold"]`),
		chromedp.WaitVisible(`#occupancy[data-sold="32"][data-checked-in="12"]`),
		chromedp.Evaluate(`window.__notReloaded === true`, &notReloaded),
	)
	if !notReloaded {
		t.Error("the screen reloaded")
	}
}

// The console's display keys in a browser: the council makes a key, sees
// its address once, and that address opens the screen in a browser that
// has never signed in (the borrowed projector laptop).
func TestScreenKeyMadeInTheConsoleOpensTheScreen(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	console := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	var address string
	browsertest.Run(t, console, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fscreens"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#key-label`),
		chromedp.SendKeys(`#key-label`, "강당 프로젝터"),
		chromedp.Submit(`#key-label`),
		chromedp.WaitVisible(`#new-key-url`),
		chromedp.Value(`#new-key-url`, &address),
		chromedp.WaitVisible(`#keys-table tr[data-key-state="live"]`),
	)
	if !strings.Contains(address, "/screen/opening?key=") {
		t.Fatalf("the new key's address is %q", address)
	}
	save(t, console, "admin-screen-keys.png")

	projector := browsertest.New(t, browsertest.Options{Width: 1280, Height: 720})
	u, _ := url.Parse(address)
	browsertest.Run(t, projector,
		chromedp.Navigate(app.URL+u.RequestURI()),
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
		chromedp.WaitVisible(`#occupancy[data-capacity="588"]`),
	)
	var fits bool
	browsertest.Run(t, projector, chromedp.Evaluate(`document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth`, &fits))
	if !fits {
		t.Error("the screen scrolls at 1280×720")
	}

	// The council revokes the key: the projector, without a reload of
	// its own doing, ends on the refusal page.
	acceptDialogs(console)
	browsertest.Run(t, console,
		chromedp.Click(`#keys-table tr[data-key-state="live"] form[action$="/revoke"] button`),
		chromedp.WaitVisible(`#keys-table tr[data-key-state="revoked"]`),
	)
	browsertest.Run(t, projector, chromedp.WaitVisible(`[data-refused]`))
}

// Package apptest runs a whole festa server for tests: a fresh migrated
// database (dbtest), the demo festival with cheap code hashes, and the real
// handler stack on an httptest server. Clients keep cookies and send the
// CSRF token like a browser page would.
package apptest

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/handlers"
	"festa/passhash"
	"festa/realtime"
	"festa/seatview"
	"festa/server"
	"festa/tickets"
	"festa/traffic"
)

// App is a running test server.
type App struct {
	URL      string
	Store    *db.Store
	Demo     demo.Result
	Handler  *handlers.Handler
	Registry *prometheus.Registry
	Ring     *tickets.Ring
	// Live is the app's live-update broker and Notifier what its handlers
	// poke after a seat change; tests that change seats in SQL poke it too.
	Live     *realtime.Broker
	Notifier *realtime.Notifier
	// PageViews counts the app's page views; tests Flush it rather than
	// wait for its periodic write.
	PageViews *traffic.Counter
	// DatabaseURL is the database's connection string, set by StartEmpty
	// for tests that run the real `festa` command against it.
	DatabaseURL string
}

// Options tune Start.
type Options struct {
	Students int              // demo roster size; default 60
	Now      func() time.Time // the server's clock; default time.Now
	// LiveCatchUp is the live listener's periodic catch-up; default 2 s.
	// A test that must see an update arrive by NOTIFY alone sets it long.
	LiveCatchUp time.Duration
	// Hash is the cost of the demo codes' hashes; default passhash.Fast.
	// A test of sign-in under load uses passhash.Default, as production.
	Hash passhash.Params
	// TrustedProxies are believed in X-Forwarded-For (handlers.Config);
	// default none, so the client address is the TCP peer.
	TrustedProxies []netip.Prefix
	// SignInChecks and SignInWait tune the sign-in gate (handlers.Config);
	// zero keeps the defaults.
	SignInChecks int
	SignInWait   time.Duration
	// SweepEvery is the hold sweeper's interval. The test server runs the
	// sweeper as festa serve does, but by default only once an hour, so a
	// test that makes a hold run out decides itself what happens to it; a
	// test of sweeping sets it short.
	SweepEvery time.Duration
	// Logger receives the server's logs; default none.
	Logger *slog.Logger
}

// Start serves festa on a fresh database loaded with the demo festival.
func Start(t testing.TB, opts Options) *App {
	t.Helper()
	if opts.Students == 0 {
		opts.Students = 60
	}
	store := dbtest.New(t)
	if opts.Hash == (passhash.Params{}) {
		opts.Hash = passhash.Fast
	}
	res, err := demo.Load(context.Background(), store, demo.Options{Students: opts.Students, Hash: opts.Hash})
	if err != nil {
		t.Fatalf("apptest: demo: %v", err)
	}
	return Serve(t, store, res, opts)
}

// StartEmpty serves festa on a fresh migrated database with nothing in
// it, as `festa serve` first finds a school's: no festival, no staff, no
// students. opts.Students and opts.Hash are unused.
func StartEmpty(t testing.TB, opts Options) *App {
	t.Helper()
	url := dbtest.URL(t)
	store, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("apptest: %v", err)
	}
	t.Cleanup(store.Close)
	app := Serve(t, store, demo.Result{}, opts)
	app.DatabaseURL = url
	return app
}

// Serve runs the handler stack on store.
func Serve(t testing.TB, store *db.Store, res demo.Result, opts Options) *App {
	t.Helper()
	reg := prometheus.NewRegistry()
	key, err := tickets.GenerateKey("test1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := tickets.NewRing(key)
	if err != nil {
		t.Fatal(err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// The instance `festa serve` runs, on a test clock and a test key.
	app, err := server.New(server.Options{
		Store: store, Logger: logger, Registry: reg, Tickets: ring,
		Holders: seatview.NewHolders([]byte("apptest holder key")),
		Config: handlers.Config{BaseURL: "http://festa.test", TrustedProxies: opts.TrustedProxies,
			SignInChecks: opts.SignInChecks, SignInWait: opts.SignInWait},
		Now: opts.Now, LiveCatchUp: opts.LiveCatchUp,
		SweepEvery: cmp.Or(opts.SweepEvery, time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler.Echo())
	t.Cleanup(srv.Close)
	// Runs before srv.Close (cleanups run last first): viewers get 1012,
	// then the background work stops, before the database goes.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		app.Close(ctx)
	})
	return &App{URL: srv.URL, Store: store, Demo: res, Handler: app.Handler, Registry: reg, Ring: ring,
		Live: app.Live, Notifier: app.Notifier, PageViews: app.PageViews}
}

// Client is a cookie-keeping HTTP client that remembers the page's CSRF
// token, like a browser tab.
type Client struct {
	t    testing.TB
	app  *App
	HTTP *http.Client
	// CSRF is the last page's token. Tests that share one client between
	// goroutines (a device sending sign-ins in parallel) read it before
	// they start; mu guards the updates Do makes while they run.
	CSRF string
	Lang string // sent as Accept-Language; default ko
	mu   sync.Mutex
}

// NewClient returns a client with an empty cookie jar that does not follow
// redirects (tests look at them).
func (a *App) NewClient(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, app: a, Lang: "ko", HTTP: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// Get fetches path and returns status and body; it remembers the CSRF token
// of an HTML page.
func (c *Client) Get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.URL+path, nil)
	return c.do(req)
}

// Post submits form to path with the remembered CSRF token (as the _csrf
// field) unless form already has one. htmx marks it as an htmx request.
func (c *Client) Post(path string, form url.Values, htmx bool) (int, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	c.mu.Lock()
	token := c.CSRF
	c.mu.Unlock()
	if _, ok := form["_csrf"]; !ok && token != "" {
		form.Set("_csrf", token)
	}
	req, _ := http.NewRequest(http.MethodPost, c.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return c.do(req)
}

// Do sends req as is (with cookies and Accept-Language) and returns the
// response with its body read.
func (c *Client) Do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	req.Header.Set("Accept-Language", c.Lang)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("apptest: %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("apptest: read body: %v", err)
	}
	if m := csrfMeta.FindSubmatch(b); m != nil {
		c.mu.Lock()
		c.CSRF = string(m[1])
		c.mu.Unlock()
	}
	return resp, string(b)
}

// Token is the CSRF token of the last page the client loaded; safe to call
// while other goroutines use the client.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.CSRF
}

func (c *Client) do(req *http.Request) (int, string) {
	resp, body := c.Do(req)
	return resp.StatusCode, body
}

// Cookies returns the client's cookies for the app's URL.
func (c *Client) Cookies() []*http.Cookie {
	u, _ := url.Parse(c.app.URL)
	return c.HTTP.Jar.Cookies(u)
}

// SignIn signs the client in as the demo student with number no, through
// the real login form.
func (c *Client) SignIn(no string) {
	c.t.Helper()
	code := ""
	for _, s := range c.app.Demo.Students {
		if s.No == no {
			code = s.Code
		}
	}
	if code == "" {
		c.t.Fatalf("apptest: no demo student %s", no)
	}
	if c.CSRF == "" {
		c.Get("/login")
	}
	status, body := c.Post("/login", url.Values{"student_no": {no}, "code": {code}}, false)
	if status != http.StatusSeeOther {
		c.t.Fatalf("apptest: sign in %s: status %d\n%s", no, status, body)
	}
}

// Fingerprint digests every table a booking or sign-in touches, so a test
// can prove that a refused request changed nothing.
func (a *App) Fingerprint(t testing.TB) string {
	t.Helper()
	var s string
	err := a.Store.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT coalesce(string_agg(ps::text, ',' ORDER BY performance_id, seat_id), '') FROM performance_seats ps) ||
		(SELECT coalesce(string_agg(t::text, ',' ORDER BY id), '') FROM tickets t) ||
		(SELECT coalesce(string_agg(c::text, ',' ORDER BY id), '') FROM check_ins c) ||
		(SELECT coalesce(string_agg(sc::text, ',' ORDER BY performance_id, version), '') FROM seat_changes sc) ||
		(SELECT count(*)::text FROM audit_log) ||
		(SELECT coalesce(string_agg(p.version::text || p.paused::text, ',' ORDER BY id), '') FROM performances p))`).Scan(&s)
	if err != nil {
		t.Fatalf("apptest: fingerprint: %v", err)
	}
	return s
}

// Exec runs SQL on the app's database, failing the test on error.
func (a *App) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := a.Store.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("apptest: %v", err)
	}
}

// AddStaff creates a staff account (role council or gate) whose password
// is password, hashed cheaply, as `festa staff add` would on a school's
// own database.
func (a *App) AddStaff(t testing.TB, username, role, password string) {
	t.Helper()
	hash, err := passhash.Hash(password, passhash.Fast)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.CreateStaff(context.Background(), username, role, hash, db.Actor{Kind: "system"}); err != nil {
		t.Fatalf("apptest: add staff %s: %v", username, err)
	}
}

// Count runs a counting query.
func (a *App) Count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := a.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("apptest: %v", err)
	}
	return n
}

// Package apptest runs a whole festa server for tests: a fresh migrated
// database (dbtest), the demo festival with cheap code hashes, and the real
// handler stack on an httptest server. Clients keep cookies and send the
// CSRF token like a browser page would.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/handlers"
	"festa/i18n"
	"festa/passhash"
	"festa/static"
)

// App is a running test server.
type App struct {
	URL      string
	Store    *db.Store
	Demo     demo.Result
	Handler  *handlers.Handler
	Registry *prometheus.Registry
}

// Options tune Start.
type Options struct {
	Students int              // demo roster size; default 60
	Now      func() time.Time // the server's clock; default time.Now
}

// Start serves festa on a fresh database loaded with the demo festival.
func Start(t testing.TB, opts Options) *App {
	t.Helper()
	if opts.Students == 0 {
		opts.Students = 60
	}
	store := dbtest.New(t)
	res, err := demo.Load(context.Background(), store, demo.Options{Students: opts.Students, Hash: passhash.Fast})
	if err != nil {
		t.Fatalf("apptest: demo: %v", err)
	}
	return Serve(t, store, res, opts)
}

// Serve runs the handler stack on store.
func Serve(t testing.TB, store *db.Store, res demo.Result, opts Options) *App {
	t.Helper()
	messages, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h := handlers.New(handlers.Deps{
		Store: store, Messages: messages, Assets: assets, Registry: reg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config: handlers.Config{BaseURL: "http://festa.test"},
		Now:    opts.Now,
	})
	srv := httptest.NewServer(h.Echo())
	t.Cleanup(srv.Close)
	return &App{URL: srv.URL, Store: store, Demo: res, Handler: h, Registry: reg}
}

// Client is a cookie-keeping HTTP client that remembers the page's CSRF
// token, like a browser tab.
type Client struct {
	t    testing.TB
	app  *App
	HTTP *http.Client
	CSRF string
	Lang string // sent as Accept-Language; default ko
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
	if _, ok := form["_csrf"]; !ok && c.CSRF != "" {
		form.Set("_csrf", c.CSRF)
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
		c.CSRF = string(m[1])
	}
	return resp, string(b)
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

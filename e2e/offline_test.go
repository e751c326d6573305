package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// A ticket seen once opens again with the network cut, QR and all; after
// signing out it is gone from the phone.
func TestTicketOpensOffline(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	// The browser talks to festa through a front the test cuts with the
	// network, so it knows what the page still asked for while offline.
	front := newWifiFront(t, app.URL)
	student := app.Demo.Students[0]
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	offline := &offlineSwitch{t: t, page: ctx, front: front}

	browsertest.Run(t, ctx, dark())
	a11ySignIn(t, ctx, front.URL, student.No, student.Code)
	// Signed in, the worker is installed (here on the list the sign-in led
	// to); as in life, it is active by the time a seat is confirmed.
	browsertest.Run(t, ctx, chromedp.Poll(`navigator.serviceWorker.getRegistration("/tickets").then(r => !!(r && r.active))`,
		nil, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	a11yPost(t, ctx, "/p/opening/hold", "seat=C12")
	confirmed := a11yPost(t, ctx, "/p/opening/confirm", "")
	u, err := url.Parse(confirmed)
	if err != nil || !strings.HasPrefix(u.Path, "/tickets/") {
		t.Fatalf("confirm ended at %q", confirmed)
	}
	ticketURL := front.URL + u.Path

	// The first visit is the one confirming leads to (with ?new=1, the
	// "booked" moment): the worker, registered on the pages before, keeps
	// the plain ticket page, without that moment.
	var token, cacheControl string
	browsertest.Run(t, ctx,
		chromedp.Navigate(front.URL+u.RequestURI()),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.booked-banner`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-ticket-token]`, "data-ticket-token", &token, nil),
		chromedp.WaitReady(`html[data-offline="ready"]`, chromedp.ByQuery),
	)
	// Chromium reads the manifest without complaint and finds festa
	// installable.
	var manifestErrors []*page.AppManifestError
	var installErrors []*page.InstallabilityError
	browsertest.Run(t, ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		if _, manifestErrors, _, _, err = page.GetAppManifest().Do(ctx); err != nil {
			return err
		}
		installErrors, err = page.GetInstallabilityErrors().Do(ctx)
		return err
	}))
	for _, e := range manifestErrors {
		t.Errorf("manifest: %s (line %d)", e.Message, e.Line)
	}
	for _, e := range installErrors {
		t.Errorf("not installable: %s", e.ErrorID)
	}

	offline.set(true)
	var offlineToken, qr string
	var kept []string
	var banners int
	var scope, controller string
	browsertest.Run(t, ctx,
		chromedp.Navigate(ticketURL),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-ticket-token]`, "data-ticket-token", &offlineToken, nil),
		chromedp.AttributeValue(`figure img`, "src", &qr, nil),
		chromedp.Evaluate(`caches.open("festa-tickets-v1").then(c => c.keys()).then(ks => ks.map(k => new URL(k.url).pathname))`, &kept, awaitPromise),
		chromedp.Evaluate(`document.querySelectorAll(".booked-banner").length`, &banners),
		chromedp.Evaluate(`navigator.serviceWorker.getRegistration().then(r => r ? r.scope : "")`, &scope, awaitPromise),
		chromedp.Evaluate(`navigator.serviceWorker.controller ? navigator.serviceWorker.controller.scriptURL : ""`, &controller),
	)
	// The worker answered; its scope is the tickets, so the seat map never
	// waits for it.
	if scope != front.URL+"/tickets" || controller != front.URL+"/sw.js" {
		t.Errorf("service worker scope %q, controller %q; want %s/tickets and %s/sw.js", scope, controller, front.URL, front.URL)
	}
	if banners != 0 {
		t.Error("the offline ticket replays the \"booked\" moment")
	}
	if offlineToken != token || !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Errorf("offline ticket: token %q (want %q), QR %.40q", offlineToken, token, qr)
	}
	var styled bool
	browsertest.Run(t, ctx, chromedp.Evaluate(`getComputedStyle(document.documentElement).backgroundColor === "rgb(13, 17, 23)"`, &styled))
	if !styled {
		t.Error("the offline ticket has lost its stylesheet")
	}
	save(t, ctx, "ticket-offline-phone.png")
	// The list of tickets opens offline too.
	browsertest.Run(t, ctx, chromedp.Navigate(front.URL+"/tickets"), chromedp.WaitVisible(`a[href="`+u.Path+`"]`, chromedp.ByQuery))
	if tried := front.triedWhileCut(); len(tried) != 0 {
		t.Errorf("the offline ticket pages asked the network for %v", tried)
	}
	// Only the student's tickets and the files they use are kept.
	for _, k := range kept {
		if !strings.HasPrefix(k, "/tickets") && !strings.HasPrefix(k, "/static/") {
			t.Errorf("the cache holds %s", k)
		}
	}
	if !contains(kept, u.Path) || !contains(kept, u.Path+"/qr.png") {
		t.Errorf("the cache lacks the ticket or its QR image: %v", kept)
	}

	// Online again, sign out: the browser drops the cache and the worker.
	offline.set(false)
	var left int
	browsertest.Run(t, ctx,
		chromedp.Navigate(ticketURL),
		// The page is private, no-store for HTTP caches; Cache Storage kept
		// it anyway, which is the point.
		chromedp.Evaluate(`fetch(location.pathname, {cache: "no-store"}).then(r => r.headers.get("Cache-Control"))`, &cacheControl, awaitPromise),
		chromedp.WaitVisible(`form[action="/logout"] button`),
		chromedp.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(`header a[href="/login"]`),
		chromedp.Poll(`Promise.all([caches.keys(), navigator.serviceWorker.getRegistrations()]).then(([k, r]) => k.length + r.length === 0)`,
			nil, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`caches.keys().then(k => k.length)`, &left, awaitPromise),
	)
	if !strings.Contains(cacheControl, "no-store") {
		t.Errorf("the ticket page's Cache-Control is %q, want no-store", cacheControl)
	}
	if left != 0 {
		t.Errorf("%d caches left after sign-out", left)
	}
	offline.set(true)
	err = chromedp.Run(ctx, chromedp.Navigate(ticketURL))
	var shown int
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.querySelectorAll("[data-ticket-token]").length`, &shown))
	if err == nil || shown != 0 {
		t.Errorf("after sign-out the ticket still opens offline (navigation error %v, %d tokens shown)", err, shown)
	}
}

// awaitPromise makes an Evaluate wait for the promise its expression
// returns.
func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wifiFront is a reverse proxy in front of festa that the test can cut,
// as the phone's Wi-Fi goes: while cut it passes nothing on, drops the
// connection of whatever the browser still sends and notes it. Chromium's
// offline emulation alone is not enough for that: a page the service
// worker opens can run its first scripts before the emulation reaches the
// new document, and a fetch it starts then went out.
type wifiFront struct {
	URL   string
	cut   atomic.Bool
	mu    sync.Mutex
	tried []string // what the browser sent while cut
}

func newWifiFront(t *testing.T, backend string) *wifiFront {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	f := &wifiFront{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.cut.Load() {
			f.mu.Lock()
			f.tried = append(f.tried, r.Method+" "+r.URL.RequestURI())
			f.mu.Unlock()
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// triedWhileCut returns what the browser sent while the front was cut,
// and forgets it.
func (f *wifiFront) triedWhileCut() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	tried := f.tried
	f.tried = nil
	return tried
}

// offlineSwitch cuts chromium's network the way DevTools' "Offline" does:
// for the page and for every service worker, which is a target of its own
// that page emulation does not reach.
type offlineSwitch struct {
	t     *testing.T
	page  context.Context
	front *wifiFront // cut with the browser, when there is one
}

func (s *offlineSwitch) set(offline bool) {
	s.t.Helper()
	if s.front != nil {
		s.front.cut.Store(offline)
	}
	cond := network.EmulateNetworkConditions(offline, 0, -1, -1)
	browsertest.Run(s.t, s.page, cond)
	targets, err := chromedp.Targets(s.page)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, ti := range targets {
		if ti.Type != "service_worker" {
			continue
		}
		// A fresh session each time: one kept from an earlier call can hang
		// once the worker has been stopped and started again. It is not
		// cancelled (that would close the worker); the browser's teardown
		// ends it.
		ctx, _ := chromedp.NewContext(s.page, chromedp.WithTargetID(ti.TargetID))
		browsertest.Run(s.t, ctx, cond)
	}
}

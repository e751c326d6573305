package handlers_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"festa/apptest"
	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestHomeListsBothPerformances(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	for lang, want := range map[string][]string{
		"ko": {`lang="ko"`, "개막 공연", "밤 공연", "예매 중", "오픈 예정", "좌석 고르기", "588"},
		"en": {`lang="en"`, "Opening Night", "Night Concert", "On sale", "Opening soon", "Pick a seat", "seats left of 588"},
	} {
		c := app.NewClient(t)
		c.Lang = lang
		status, body := c.Get("/")
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", lang, status)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: home lacks %q", lang, w)
			}
		}
		if strings.Contains(body, "⟦") {
			t.Errorf("%s: a message id is missing from the catalogue", lang)
		}
		if c.Token() == "" {
			t.Errorf("%s: no csrf-token meta", lang)
		}
	}
}

func TestLanguageSwitchSetsCookieAndStaysLocal(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := app.NewClient(t)
	resp, _ := c.Do(mustRequest(t, "GET", app.URL+"/lang/en?next=%2Fp%2Fopening"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/p/opening" {
		t.Fatalf("switch: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := c.Get("/")
	if !strings.Contains(body, `lang="en"`) {
		t.Error("the lang cookie did not switch the page to English")
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/", "javascript:alert(1)"} {
		resp, _ := c.Do(mustRequest(t, "GET", app.URL+"/lang/ko?next="+next))
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q, want /", next, loc)
		}
	}
	if status, _ := c.Get("/lang/fr"); status != http.StatusNotFound {
		t.Errorf("unsupported language: %d", status)
	}
}

func TestSecurityHeadersAndErrors(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := app.NewClient(t)
	resp, body := c.Do(mustRequest(t, "GET", app.URL+"/"))
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", h)
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
	// Every asset the page links is served hashed and immutable.
	assets := regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(assets) < 4 {
		t.Fatalf("page links %d assets", len(assets))
	}
	for _, a := range assets {
		resp, _ := c.Do(mustRequest(t, "GET", app.URL+a[1]))
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", a[1], resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	// A page that does not exist answers in the user's language.
	status, body := c.Get("/no/such/page")
	if status != http.StatusNotFound || !strings.Contains(body, "찾는 페이지가 없어요") {
		t.Errorf("404: %d", status)
	}
	// Pages are compressed for clients that accept it.
	req := mustRequest(t, "GET", app.URL+"/")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("home is not gzip-compressed: %q", resp.Header.Get("Content-Encoding"))
	}
}

func TestHealthAndMetrics(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := app.NewClient(t)
	if status, body := c.Get("/healthz"); status != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", status, body)
	}
	c.Get("/")
	status, body := c.Get("/metrics")
	if status != 200 || !strings.Contains(body, `festa_http_request_duration_seconds_count{method="GET",route="/",status="200"}`) {
		t.Errorf("metrics: %d\n%s", status, body)
	}
	app.Store.Close()
	if status, _ := c.Get("/healthz"); status != http.StatusServiceUnavailable {
		t.Errorf("healthz with the database gone: %d, want 503", status)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// An error page for a request refused before its session loaded (here an
// oversized plain form post) still renders, signed out, in the user's
// language.
func TestErrorPageBeforeSession(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := app.NewClient(t)
	c.Get("/")
	status, body := c.Post("/login", map[string][]string{"code": {strings.Repeat("A", 100<<10)}}, false)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "보낸 내용이 너무 커요") {
		t.Errorf("oversized plain post: %d\n%.300s", status, body)
	}
}

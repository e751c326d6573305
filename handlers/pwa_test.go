package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"festa/apptest"
)

// The installable app's files: the service worker at /sw.js as JavaScript
// that browsers revalidate, the manifest as application/manifest+json whose
// icons are served, the favicon, and the page's links to all of them.
func TestAppFilesAreServed(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := app.NewClient(t)

	resp, body := c.Do(mustRequest(t, "GET", app.URL+"/sw.js"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("/sw.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("/sw.js Cache-Control %q, want no-cache", cc)
	}
	if !strings.Contains(body, `addEventListener("fetch"`) || !strings.Contains(body, "festa-tickets") {
		t.Errorf("/sw.js is not the service worker:\n%.200s", body)
	}
	// The worker's script is festa's own file under the site's CSP.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("/sw.js CSP %q", csp)
	}

	for lang, wantDesc := range map[string]string{"ko": "학교 축제 좌석 예매", "en": "School festival seat booking"} {
		c.Lang = lang
		resp, body = c.Do(mustRequest(t, "GET", app.URL+"/manifest.webmanifest"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/manifest+json" {
			t.Fatalf("manifest: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "private, max-age=300" {
			t.Errorf("manifest Cache-Control %q", cc)
		}
		var m struct {
			Name, ShortName, Description, Lang, Display string
			StartURL                                    string `json:"start_url"`
			Scope                                       string
			ThemeColor                                  string `json:"theme_color"`
			BackgroundColor                             string `json:"background_color"`
			Icons                                       []struct{ Src, Sizes, Type, Purpose string }
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("manifest: %v\n%s", err, body)
		}
		if m.Name != "푸른숲 축제 2026 · festa" || m.StartURL != "/tickets" || m.Display != "standalone" ||
			m.ThemeColor != "#0d1117" || m.BackgroundColor != "#0d1117" || m.Lang != lang || !strings.Contains(m.Description, wantDesc) {
			t.Errorf("%s manifest: %+v", lang, m)
		}
		purposes := map[string]bool{}
		for _, ic := range m.Icons {
			purposes[ic.Sizes+" "+ic.Purpose] = true
			resp, _ := c.Do(mustRequest(t, "GET", app.URL+ic.Src))
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ic.Type {
				t.Errorf("icon %s: %d %q, manifest says %q", ic.Src, resp.StatusCode, resp.Header.Get("Content-Type"), ic.Type)
			}
		}
		for _, want := range []string{"192x192 any", "512x512 any", "192x192 maskable", "512x512 maskable"} {
			if !purposes[want] {
				t.Errorf("manifest has no %s icon", want)
			}
		}
	}

	resp, _ = c.Do(mustRequest(t, "GET", app.URL+"/favicon.ico"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/x-icon" {
		t.Errorf("/favicon.ico: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Every page links the manifest, the icons and a description in the
	// page's language, and loads the worker's registration script.
	c.Lang = "en"
	_, page := c.Get("/")
	for _, re := range []string{
		`<link rel="manifest" href="/manifest.webmanifest">`,
		`<link rel="icon" href="/static/icons/favicon\.[0-9a-f]{10}\.svg" type="image/svg\+xml">`,
		`<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon\.[0-9a-f]{10}\.png">`,
		`<meta name="description" content="School festival seat booking[^"]*">`,
		`<script src="/static/js/pwa\.[0-9a-f]{10}\.js" defer>`,
	} {
		if !regexp.MustCompile(re).MatchString(page) {
			t.Errorf("the home page lacks %s", re)
		}
	}
	// Signed out, the page says so, and pwa.js forgets the tickets.
	if strings.Contains(page, "data-student") {
		t.Error("a signed-out page is marked data-student")
	}
}

// A student signing out tells the browser to drop the site's cache and
// storage: the offline tickets and their service worker go with the
// session.
func TestSignOutClearsSiteData(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := app.NewClient(t)
	c.SignIn(app.Demo.Students[0].No)
	if _, body := c.Get("/tickets"); !strings.Contains(body, "<body class=\"min-h-screen flex flex-col\" data-student>") {
		t.Error("a signed-in page is not marked data-student")
	}
	req, err := http.NewRequest("POST", app.URL+"/logout", strings.NewReader(url.Values{"_csrf": {c.Token()}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := c.Do(req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Clear-Site-Data"); got != `"cache", "storage"` {
		t.Errorf("logout Clear-Site-Data %q", got)
	}

	// Staff sign-out clears the HTTP cache only: a gate phone's storage
	// holds the scans it made offline and has not sent yet.
	c.Get("/staff/login")
	req, err = http.NewRequest("POST", app.URL+"/staff/logout", strings.NewReader(url.Values{"_csrf": {c.Token()}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ = c.Do(req)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Clear-Site-Data") != `"cache"` {
		t.Errorf("staff logout: %d, Clear-Site-Data %q, want \"cache\"", resp.StatusCode, resp.Header.Get("Clear-Site-Data"))
	}
}

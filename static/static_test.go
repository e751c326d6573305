package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func newAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestURLIsHashedAndServedImmutable(t *testing.T) {
	a := newAssets(t)
	h := a.Handler()
	for name, wantType := range map[string]string{
		"css/app.css":           "text/css; charset=utf-8",
		"fonts/pretendard.css":  "text/css; charset=utf-8",
		"js/festa.js":           "text/javascript; charset=utf-8",
		"js/pwa.js":             "text/javascript; charset=utf-8",
		"icons/favicon.svg":     "image/svg+xml",
		"icons/icon-512.png":    "image/png",
		"icons/favicon.ico":     "image/x-icon",
		"vendor/htmx.min.js":    "text/javascript; charset=utf-8",
		"vendor/htmx-ext-ws.js": "text/javascript; charset=utf-8",
		"fonts/LICENSE.txt":     "text/plain; charset=utf-8",
		"fonts/woff2-dynamic-subset/PretendardVariable.subset.0.woff2": "font/woff2",
	} {
		t.Run(name, func(t *testing.T) {
			url := a.URL(name)
			ext := path.Ext(name)
			want := regexp.MustCompile(`^/static/` + regexp.QuoteMeta(strings.TrimSuffix(name, ext)) + `\.[0-9a-f]{10}` + regexp.QuoteMeta(ext) + `$`)
			if !want.MatchString(url) {
				t.Fatalf("URL(%q) = %q, want match %s", name, url, want)
			}

			res := get(t, h, url)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", url, res.StatusCode)
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", got)
			}
			if got := res.Header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type = %q, want %q", got, wantType)
			}
			if got := res.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q without Accept-Encoding", got)
			}
			body := readAll(t, res.Body)
			if ext != ".css" {
				embedded, err := files.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(body, embedded) {
					t.Errorf("served body differs from embedded %s", name)
				}
			}
			// The hash in the name is the hash of what is served.
			if !strings.Contains(url, "."+hash(body)+".") {
				t.Errorf("URL %s does not carry the served content's hash %s", url, hash(body))
			}

			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if res := get(t, h, url, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match %s: status %d, want 304", etag, res.StatusCode)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	a := newAssets(t)
	h := a.Handler()
	url := a.URL("vendor/htmx.min.js")
	plain := readAll(t, get(t, h, url).Body)

	res := get(t, h, url, "Accept-Encoding", "br, gzip;q=0.8")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q", res.Header.Get("Vary"))
	}
	gz := readAll(t, res.Body)
	if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(gz)) {
		t.Errorf("Content-Length = %q for a gzip body of %d bytes", got, len(gz))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, zr), plain) {
		t.Error("gzip body does not decompress to the plain body")
	}

	// Fonts are compressed already and are never gzipped again.
	font := a.URL("fonts/woff2-dynamic-subset/PretendardVariable.subset.0.woff2")
	if got := get(t, h, font, "Accept-Encoding", "gzip").Header.Get("Content-Encoding"); got != "" {
		t.Errorf("font Content-Encoding = %q, want none", got)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                     false,
		"gzip":                 true,
		"gzip, deflate, br":    true,
		"br;q=1.0, gzip;q=0.5": true,
		"gzip;q=0":             false,
		"gzip; q=0.000":        false,
		"*":                    true,
		"*, gzip;q=0":          false,
		"identity":             false,
		"GZIP":                 true,
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			req.Header.Set("Accept-Encoding", header)
		}
		if got := acceptsGzip(req); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// The font CSS must point only at hashed names that the handler serves,
// or the browser would fall back to system fonts without a word.
func TestFontCSSReferencesServe(t *testing.T) {
	a := newAssets(t)
	h := a.Handler()
	cssURL := a.URL("fonts/pretendard.css")
	css := readAll(t, get(t, h, cssURL).Body)

	refs := regexp.MustCompile(`url\(\s*['"]?([^'")]+?)['"]?\s*\)`).FindAllSubmatch(css, -1)
	if len(refs) < 50 {
		t.Fatalf("found %d url() references in %s, want the dynamic subsets", len(refs), cssURL)
	}
	hashed := regexp.MustCompile(`\.[0-9a-f]{10}\.woff2$`)
	for _, m := range refs {
		ref := string(m[1])
		if !hashed.MatchString(ref) {
			t.Errorf("reference %q is not a hashed woff2 name", ref)
			continue
		}
		target := path.Join(path.Dir(cssURL), ref)
		res := get(t, h, target)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s (from %q): status %d", target, ref, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != "font/woff2" {
			t.Errorf("GET %s: Content-Type %q", target, got)
		}
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("GET %s: Cache-Control %q", target, got)
		}
	}
}

func TestRewriteCSS(t *testing.T) {
	a := &Assets{hashed: map[string]string{
		"fonts/sub/a.woff2": "fonts/sub/a.0123456789.woff2",
		"img/b.svg":         "img/b.abcdefabcd.svg",
	}}
	in := `@font-face{src:url(./sub/a.woff2) format('woff2')}
x{background:url("../img/b.svg#icon")}
y{background:url( 'sub/a.woff2' )}
z{background:url(data:image/png;base64,AAAA)}
w{background:url(/abs/a.woff2)}
v{background:url(missing.woff2)}`
	want := `@font-face{src:url(./sub/a.0123456789.woff2) format('woff2')}
x{background:url("../img/b.abcdefabcd.svg#icon")}
y{background:url('sub/a.0123456789.woff2')}
z{background:url(data:image/png;base64,AAAA)}
w{background:url(/abs/a.woff2)}
v{background:url(missing.woff2)}`
	re := regexp.MustCompile(`url\(\s*(['"]?)([^'")]+)(['"]?)\s*\)`)
	if got := string(a.rewriteCSS(re, "fonts/x.css", []byte(in))); got != want {
		t.Errorf("rewriteCSS:\n%s\nwant:\n%s", got, want)
	}
}

func TestUnknownIs404(t *testing.T) {
	a := newAssets(t)
	h := a.Handler()
	hashedApp := strings.TrimPrefix(a.URL("css/app.css"), Prefix)
	for _, target := range []string{
		"/static/",
		"/static/nope.css",
		"/static/css/app.css",             // the logical name: never served
		"/static/css/app.0000000000.css",  // a stale or made-up hash
		"/static/src/app.css",             // the input is not embedded
		"/static/css/../css/" + hashedApp, // no path games
		"/" + hashedApp,                   // outside the prefix
	} {
		if res := get(t, h, target); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}

	req := httptest.NewRequest(http.MethodPost, a.URL("css/app.css"), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

func TestURLPanicsOnUnknownName(t *testing.T) {
	a := newAssets(t)
	defer func() {
		if recover() == nil {
			t.Error("URL of an unknown name did not panic")
		}
	}()
	a.URL("css/nope.css")
}

func TestHashFollowsContent(t *testing.T) {
	one, two := hash([]byte("body{color:red}")), hash([]byte("body{color:blue}"))
	if one == two {
		t.Errorf("different contents share hash %s", one)
	}
	if one != hash([]byte("body{color:red}")) {
		t.Error("hash is not deterministic")
	}
	if !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(one) {
		t.Errorf("hash %q is not 10 hex digits", one)
	}
	if got := hashedName("vendor/htmx.min.js", one); got != "vendor/htmx.min."+one+".js" {
		t.Errorf("hashedName = %q", got)
	}
}

// File gives the fixed-address files (the service worker, the favicon) as
// embedded, with the Content-Type the hashed handler would use.
func TestFile(t *testing.T) {
	for name, want := range map[string]string{
		"js/sw.js":          "text/javascript; charset=utf-8",
		"icons/favicon.ico": "image/x-icon",
	} {
		body, err := File(name)
		if err != nil || len(body) == 0 {
			t.Errorf("File(%q): %d bytes, %v", name, len(body), err)
		}
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
	if _, err := File("src/app.css"); err == nil {
		t.Error("File reads outside the embedded tree")
	}
}

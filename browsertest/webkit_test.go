package browsertest

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// page is a small page with what festa's WebKit tests use: a form field, a
// button that answers after a network round trip, a cookie and storage.
const page = `<!doctype html>
<html lang="ko"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>시험</title>
<body style="margin:0">
<p id="hello">안녕하세요</p>
<input id="name" autocomplete="off">
<button id="go" type="button" style="width:200px;height:48px">보내기</button>
<div id="out" hidden></div>
<script>
document.getElementById("go").addEventListener("click", function () {
  fetch("/echo?name=" + encodeURIComponent(document.getElementById("name").value))
    .then(function (r) { return r.text(); })
    .then(function (t) { var o = document.getElementById("out"); o.textContent = t; o.hidden = false; o.dataset.done = "yes"; });
});
</script>`

func servePage(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/echo" {
			// Slow enough that a click which does not wait would miss it.
			time.Sleep(100 * time.Millisecond)
			fmt.Fprintf(w, "%s님, 반가워요 (%s)", r.URL.Query().Get("name"), r.Header.Get("Accept-Language"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The client drives a real WebKitGTK: a phone-narrow window, typing
// (Korean included), a click whose answer comes later, waiting, reading
// text and attributes, scripts, and a screenshot of that window.
func TestWebKitDrivesAPage(t *testing.T) {
	url := servePage(t)
	w := NewWebKit(t, WebKitOptions{Width: 390, Height: 844})
	w.Navigate(url)
	if got := w.Text("#hello"); got != "안녕하세요" {
		t.Errorf("text %q", got)
	}
	if width, height := w.Viewport(); width != 390 || height < 780 || height > 844 {
		t.Errorf("viewport %d×%d, want 390 wide and most of 844 high", width, height)
	}
	if w.Visible("#out") {
		t.Error("#out is visible before the click")
	}
	w.SendKeys("#name", "민지")
	w.Click("#go")
	w.WaitVisible(`#out[data-done="yes"]`)
	if got := w.Text("#out"); !strings.HasPrefix(got, "민지님, 반가워요") {
		t.Errorf("answer %q", got)
	}
	if got := w.Attr("#out", "data-done"); got != "yes" {
		t.Errorf("data-done %q", got)
	}
	if got := w.Attr("#out", "data-missing"); got != "" {
		t.Errorf("a missing attribute reads %q", got)
	}
	var sum int
	w.Eval(&sum, `return arguments[0] + arguments[1]`, 2, 3)
	if sum != 5 {
		t.Errorf("script returned %d", sum)
	}
	if !strings.HasPrefix(w.URL(), url) {
		t.Errorf("URL %q", w.URL())
	}

	path := filepath.Join(t.TempDir(), "shot.png")
	w.Screenshot(path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if img.Bounds().Dx() != 390 {
		t.Errorf("screenshot is %v, want 390 wide", img.Bounds())
	}
}

// Each WebKit starts with an empty profile: what one page stored, the next
// browser does not see.
func TestWebKitProfilesAreFresh(t *testing.T) {
	url := servePage(t)
	first := NewWebKit(t, WebKitOptions{})
	first.Navigate(url)
	first.Eval(nil, `document.cookie = "seen=1; path=/; max-age=3600"; localStorage.setItem("seen", "1")`)
	var kept bool
	first.Eval(&kept, `return document.cookie.indexOf("seen=1") >= 0 && localStorage.getItem("seen") === "1"`)
	if !kept {
		t.Fatal("the first browser did not keep its own cookie and storage")
	}
	second := NewWebKit(t, WebKitOptions{})
	second.Navigate(url)
	var leaked bool
	second.Eval(&leaked, `return document.cookie.indexOf("seen") >= 0 || localStorage.getItem("seen") !== null`)
	if leaked {
		t.Error("a new browser sees the previous one's cookie or storage")
	}
}

// Without the driver the test must fail (never skip) and say what to
// install.
func TestWebKitMissingDriverNamesThePackages(t *testing.T) {
	t.Setenv("FESTA_WEBKITDRIVER", filepath.Join(t.TempDir(), "no-such-driver"))
	_, err := startWebKit(t, WebKitOptions{})
	if err == nil {
		t.Fatal("started without a driver")
	}
	for _, pkg := range []string{"webkit2gtk-driver", "xvfb"} {
		if !strings.Contains(err.Error(), pkg) {
			t.Errorf("the error does not name %s: %v", pkg, err)
		}
	}
}

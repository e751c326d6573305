package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// Every page a student or a visitor meets, in Korean and in English, dark
// and light, on a phone: axe-core finds no serious or critical violation. The pages are
// met as a person meets them: signed out, then signed in, holding a seat,
// with a ticket.
func TestPagesPassAxe(t *testing.T) {
	for _, run := range []struct{ name, accept, scheme string }{
		// The light theme has the same markup in either language: once is enough.
		{"ko-dark", "ko-KR,ko", "dark"}, {"en-dark", "en-US,en", "dark"}, {"ko-light", "ko-KR,ko", "light"},
	} {
		t.Run(run.name, func(t *testing.T) {
			app := apptest.Start(t, apptest.Options{Students: 2})
			student := app.Demo.Students[0]
			ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2, Lang: run.accept})
			// Both colour themes: contrast is checked in each.
			browsertest.Run(t, ctx, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: run.scheme}}))
			pages := []struct{ name, path, ready string }{
				{"home", "/", `[data-performance="opening"]`},
				{"login", "/login", `#student_no`},
				{"staff login", "/staff/login", `#username`},
				{"performance signed out", "/p/opening", `#seat-E15`},
				{"performance before sales", "/p/night", `#seat-E15`},
				{"404", "/no-such-page", `main h1`},
			}
			for _, p := range pages {
				browsertest.Run(t, ctx, chromedp.Navigate(app.URL+p.path), chromedp.WaitVisible(p.ready))
				a11yCheck(t, ctx, p.name)
			}

			a11ySignIn(t, ctx, app.URL, student.No, student.Code)
			browsertest.Run(t, ctx, chromedp.Navigate(app.URL+"/p/opening"), chromedp.WaitVisible(`#seat-E15`))
			a11yCheck(t, ctx, "performance signed in")

			// Hold a seat the way the page's form does, then load the page as
			// a student holding it sees it.
			a11yPost(t, ctx, "/p/opening/hold", "seat=E15")
			browsertest.Run(t, ctx, chromedp.Navigate(app.URL+"/p/opening"), chromedp.WaitVisible(`#seat-E15[data-state="mine"]`))
			a11yCheck(t, ctx, "performance with a hold")

			ticketURL := a11yPost(t, ctx, "/p/opening/confirm", "")
			if !strings.Contains(ticketURL, "/tickets/") {
				t.Fatalf("confirm ended at %q, want a ticket page", ticketURL)
			}
			browsertest.Run(t, ctx, chromedp.Navigate(ticketURL), chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery))
			a11yCheck(t, ctx, "ticket")
			browsertest.Run(t, ctx, chromedp.Navigate(app.URL+"/tickets"), chromedp.WaitVisible(`main h1`))
			a11yCheck(t, ctx, "tickets")
			browsertest.Run(t, ctx, chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(`[data-performance="opening"]`))
			a11yCheck(t, ctx, "home signed in")
		})
	}
}

// The axe helper finds what it should: a page with an unlabelled image and
// grey-on-grey text fails, so a clean report means something.
func TestAxeFindsViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><title>bad</title><main>` +
			`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">` +
			`<p style="color:#777;background:#888">hard to read</p></main></html>`))
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t, browsertest.Options{})
	browsertest.Run(t, ctx, chromedp.Navigate(srv.URL), chromedp.WaitReady("p"))
	found := map[string]string{}
	for _, v := range browsertest.Axe(t, ctx) {
		found[v.ID] = v.Impact
	}
	if found["image-alt"] != "critical" || found["color-contrast"] != "serious" {
		t.Errorf("axe found %v, want image-alt (critical) and color-contrast (serious)", found)
	}
}

// a11yCheck fails the test on every serious or critical axe violation of
// the current page, naming the rule, its impact and the first elements.
func a11yCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, v := range browsertest.Axe(t, ctx) {
		t.Errorf("%s: %s", page, v)
	}
}

// a11ySignIn signs the browser in through the real form.
func a11ySignIn(t *testing.T, ctx context.Context, base, no, code string) {
	t.Helper()
	browsertest.Run(t, ctx,
		chromedp.Navigate(base+"/login?next=%2Ftickets"),
		chromedp.WaitVisible(`#student_no`),
		chromedp.SendKeys(`#student_no`, no),
		chromedp.SendKeys(`#code`, code),
		chromedp.Submit(`#code`),
		chromedp.WaitVisible(`form[action="/logout"]`),
	)
}

// a11yPost sends a form POST from the page, with its CSRF token, as the
// page's own forms do, and returns the URL the answer ended at.
func a11yPost(t *testing.T, ctx context.Context, path, form string) string {
	t.Helper()
	var url string
	browsertest.Run(t, ctx, chromedp.Evaluate(fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams(%q),
		headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}}).then(r => r.ok ? r.url : "status " + r.status)`, path, form),
		&url, awaitPromise))
	if strings.HasPrefix(url, "status ") {
		t.Fatalf("POST %s: %s", path, url)
	}
	return url
}

// The page chrome at phone and desktop width, Korean and English: header
// items never wrap inside a word or a label, Korean hall names stay whole,
// the header and the content share one left edge, nothing scrolls sideways.
func TestPageChrome(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 4})
	n := 0
	for _, lang := range []struct{ name, accept string }{{"ko", "ko-KR,ko"}, {"en", "en-US,en"}} {
		for _, size := range []struct {
			name          string
			width, height int
			mobile        bool
		}{{"phone", 390, 844, true}, {"desktop", 1280, 900, false}} {
			ctx := browsertest.New(t, browsertest.Options{Width: size.width, Height: size.height, Mobile: size.mobile, Scale: 1, Lang: lang.accept})
			// Chromium's console errors: a missing favicon shows up here.
			var mu sync.Mutex
			var consoleErrors []string
			chromedp.ListenTarget(ctx, func(ev any) {
				if e, ok := ev.(*cdplog.EventEntryAdded); ok && e.Entry.Level == cdplog.LevelError && !strings.HasSuffix(e.Entry.URL, "/no-such-page") {
					mu.Lock()
					consoleErrors = append(consoleErrors, e.Entry.Text+" "+e.Entry.URL)
					mu.Unlock()
				}
			})
			browsertest.Run(t, ctx, dark())
			shot := func(name, path, ready string) {
				t.Helper()
				var problems []string
				browsertest.Run(t, ctx, chromedp.Navigate(app.URL+path), chromedp.WaitVisible(ready),
					chromedp.Evaluate(chromeProblems, &problems))
				for _, p := range problems {
					t.Errorf("%s, %s, %s: %s", name, lang.name, size.name, p)
				}
				save(t, ctx, "chrome-"+name+"-"+lang.name+"-"+size.name+".png")
			}
			shot("home", "/", `[data-performance="opening"]`)
			shot("login", "/login", `#student_no`)
			shot("staff-login", "/staff/login", `#username`)
			shot("404", "/no-such-page", `main h1`)
			student := app.Demo.Students[n]
			n++
			a11ySignIn(t, ctx, app.URL, student.No, student.Code)
			a11yPost(t, ctx, "/p/opening/hold", "seat=E"+strconv.Itoa(10+n))
			ticketURL := a11yPost(t, ctx, "/p/opening/confirm", "")
			shot("tickets", "/tickets", `main h1`)
			shot("ticket", strings.TrimPrefix(ticketURL, app.URL), `[data-ticket-token]`)
			shot("home-signed-in", "/", `[data-performance="opening"]`)
			shot("performance", "/p/night", `#seat-E15`)
			mu.Lock()
			for _, e := range consoleErrors {
				t.Errorf("%s, %s: console error: %s", lang.name, size.name, e)
			}
			mu.Unlock()
		}
	}
}

// chromeProblems lists what is wrong with the page chrome as a person would
// say it: a menu label on two lines, the menu under the logo, a Korean word
// broken in two, the header's left edge off the content's, a page wider
// than the screen.
const chromeProblems = `(() => {
	const out = [];
	const lines = (node, start, end) => {
		const r = document.createRange();
		if (start === undefined) r.selectNodeContents(node); else { r.setStart(node, start); r.setEnd(node, end); }
		return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size;
	};
	for (const el of document.querySelectorAll("header nav a, header nav button")) {
		if (lines(el) > 1) out.push("menu item " + JSON.stringify(el.textContent.trim()) + " wraps");
	}
	const logo = document.querySelector("header a[href='/']"), nav = document.querySelector("header nav");
	const mid = e => { const b = e.getBoundingClientRect(); return b.top + b.height / 2; };
	if (Math.abs(mid(logo) - mid(nav)) > 4) out.push("the menu is not on the logo's line");
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n; (n = walk.nextNode()); ) {
		if (!n.parentElement.checkVisibility() || n.parentElement.closest(".sr-only")) continue;
		for (const m of n.data.matchAll(/[\uac00-\ud7a3]+/g)) {
			if (lines(n, m.index, m.index + m[0].length) > 1) out.push("the Korean word " + m[0] + " breaks across lines");
		}
	}
	const inner = e => e.getBoundingClientRect().left + parseFloat(getComputedStyle(e).paddingLeft);
	const head = document.querySelector("header .container-page"), body = document.querySelector("main .container-page");
	if (body && Math.abs(inner(head) - inner(body)) > 1) out.push("header starts at " + inner(head) + " px, the content at " + inner(body) + " px");
	if (document.documentElement.scrollWidth > window.innerWidth) out.push("the page scrolls sideways");
	return out;
})()`

package e2e

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// staffSignIn signs the browser in as a staff account and opens next.
func staffSignIn(t *testing.T, ctx context.Context, app *apptest.App, user, password, next string) {
	t.Helper()
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, user),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitNotPresent(`input[name="password"]`, chromedp.ByQuery),
		chromedp.Navigate(app.URL+next),
		chromedp.WaitVisible(`main`),
	)
}

// On a fresh database the council's console is titled as the console and
// shows the school's first steps, none ticked, each leading where it is
// done; the footer offers the council its console, not a staff sign-in.
func TestConsoleFirstStepsInBrowser(t *testing.T) {
	app := apptest.StartEmpty(t, apptest.Options{})
	app.AddStaff(t, "hana", "council", "first-steps-pass")
	for _, size := range []struct {
		name string
		opts browsertest.Options
	}{
		{"desktop", browsertest.Options{Width: 1280, Height: 900}},
		{"phone", browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2}},
	} {
		t.Run(size.name, func(t *testing.T) {
			ctx := browsertest.New(t, size.opts)
			staffSignIn(t, ctx, app, "hana", "first-steps-pass", "/admin")
			var heading, steps, footer string
			var done, staffLogin int
			var overflows bool
			browsertest.Run(t, ctx,
				chromedp.WaitVisible(`#first-steps`),
				chromedp.Text(`main h1`, &heading),
				chromedp.Text(`#first-steps`, &steps),
				chromedp.Text(`footer [data-staff-home]`, &footer),
				chromedp.Evaluate(`document.querySelectorAll("#first-steps [data-step][data-done]").length`, &done),
				chromedp.Evaluate(`document.querySelectorAll('footer a[href="/staff/login"]').length`, &staffLogin),
				chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflows),
			)
			if heading != "운영 콘솔" {
				t.Errorf("the heading is %q", heading)
			}
			for _, want := range []string{"축제와 공연장 만들기", "학생 명단 올리기", "접속 코드 출력", "예매 열기", "4단계 중 0단계"} {
				if !strings.Contains(steps, want) {
					t.Errorf("the checklist does not say %q: %q", want, steps)
				}
			}
			if done != 0 {
				t.Errorf("%d steps ticked on an empty database", done)
			}
			if footer != "운영 콘솔" || staffLogin != 0 {
				t.Errorf("the footer offers %q and %d staff sign-ins", footer, staffLogin)
			}
			if overflows {
				t.Error("the console scrolls sideways")
			}
			save(t, ctx, "console-first-steps-"+size.name+".png")
			a11yCheck(t, ctx, "console first steps")
			var path string
			browsertest.Run(t, ctx,
				chromedp.Click(`#first-steps a[href="/admin/setup"]`),
				chromedp.WaitNotPresent(`#first-steps`, chromedp.ByQuery),
				chromedp.Evaluate(`location.pathname`, &path),
			)
			if path != "/admin/setup" {
				t.Errorf("the first step leads to %q", path)
			}
		})
	}

	// Halfway: the festival, its hall and a performance exist, the roster
	// is in, two students still lack a code. The ticks follow, in English
	// too.
	app.Exec(t, `INSERT INTO events (slug, name) VALUES ('spring', '봄 축제')`)
	app.Exec(t, `INSERT INTO halls (slug, name) VALUES ('hall', '강당')`)
	app.Exec(t, `INSERT INTO performances (event_id, hall_id, slug, title, starts_at, sales_open_at, sales_close_at)
		SELECT e.id, h.id, 'opening', '개막 공연', now() + interval '3 days', now() + interval '1 day', now() + interval '2 days' FROM events e, halls h`)
	app.Exec(t, `INSERT INTO students (student_no, name, code_hash) VALUES ('10101', '가온', 'x'), ('10102', '나래', ''), ('10103', '다솜', '')`)
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	staffSignIn(t, ctx, app, "hana", "first-steps-pass", "/lang/en?next=%2Fadmin")
	var done []string
	var steps string
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#first-steps`),
		chromedp.Text(`#first-steps`, &steps),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("#first-steps [data-step][data-done]")).map(function (e) { return e.dataset.step; })`, &done),
	)
	if got := strings.Join(done, ","); got != "1,2" {
		t.Errorf("steps done %q, want 1,2", got)
	}
	if !strings.Contains(steps, "2 of 4 steps done") || !strings.Contains(steps, "2 students have no code yet") {
		t.Errorf("the English checklist says %q", steps)
	}
	save(t, ctx, "console-first-steps-halfway.png")
	a11yCheck(t, ctx, "console first steps halfway, dark")
	// Loaded afresh in the light theme (switching in place would catch the
	// buttons mid-transition).
	browsertest.Run(t, ctx, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}),
		chromedp.Reload(), chromedp.WaitVisible(`#first-steps`))
	a11yCheck(t, ctx, "console first steps halfway, light")
}

// A 10 MB roster file is refused by the roster preview in the console,
// the council still shown signed in, with the 2 MB limit named; a file
// with bad lines says first that nothing will be written, then names the
// lines, then counts what the good lines alone would do. Neither writes.
func TestRosterRefusalsInTheConsole(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	dir := t.TempDir()
	big := filepath.Join(dir, "big.csv")
	writeFile(t, big, append([]byte("student_no,name\n"), bytes.Repeat([]byte("30101,김하늘\n"), 10<<20/17)...))
	dup := filepath.Join(dir, "dup.csv")
	writeFile(t, dup, []byte("student_no,name\n40101,가온\n40102,나래\n40101,다솜\n"))
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	staffSignIn(t, ctx, app, "council", staffPassword(t, app, "council"), "/admin/students")
	before, students := app.Fingerprint(t), app.Count(t, `SELECT count(*) FROM students`)
	upload := func(path string, wait string) {
		t.Helper()
		browsertest.Run(t, ctx,
			chromedp.Navigate(app.URL+"/admin/students"),
			chromedp.WaitVisible(`#roster-file`),
			chromedp.SetUploadFiles(`#roster-file`, []string{path}),
			chromedp.Click(`form[action="/admin/students/import"] button[type="submit"]`),
			chromedp.WaitVisible(wait),
		)
	}

	upload(big, `[data-roster-refused]`)
	var alert, staff, file string
	var current, signIn int
	browsertest.Run(t, ctx,
		chromedp.Text(`[data-roster-refused]`, &alert),
		chromedp.Text(`header [data-staff]`, &staff),
		chromedp.Text(`main header p`, &file),
		chromedp.Evaluate(`document.querySelectorAll('nav a[href="/admin/students"][aria-current="page"]').length`, &current),
		chromedp.Evaluate(`document.querySelectorAll('header a[href="/login"]').length`, &signIn),
	)
	if alert != "파일이 2MB보다 커서 읽지 않았어요. 아무것도 바꾸지 않았어요." {
		t.Errorf("the refusal says %q", alert)
	}
	if staff != "council" || signIn != 0 || current != 1 {
		t.Errorf("not in the console signed in: staff %q, sign-in links %d, students tab %d", staff, signIn, current)
	}
	if file != "big.csv" {
		t.Errorf("the refusal names the file %q", file)
	}
	save(t, ctx, "roster-too-large.png")
	a11yCheck(t, ctx, "roster too large")

	upload(dup, `[data-roster-blocked]`)
	var tops []float64
	var apply int
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`["[data-roster-blocked]", "#roster-problems", "#counts-title", "#roster-counts"].map(function (s) {
			return document.querySelector(s).getBoundingClientRect().top; })`, &tops),
		chromedp.Evaluate(`document.querySelectorAll("#roster-apply").length`, &apply),
	)
	if len(tops) != 4 || !(tops[0] < tops[1] && tops[1] < tops[2] && tops[2] < tops[3]) {
		t.Errorf("warning, bad lines, heading and counts are not in that order: %v", tops)
	}
	if apply != 0 {
		t.Error("a file with bad lines offers to apply")
	}
	save(t, ctx, "roster-preview-bad-lines.png")
	a11yCheck(t, ctx, "roster preview with bad lines")
	if app.Fingerprint(t) != before || app.Count(t, `SELECT count(*) FROM students`) != students {
		t.Error("a refused file changed something")
	}
}

// A signed-in student still finds the staff sign-in in the footer, but as
// plain muted text, not an underlined link.
func TestFooterStaffLinkForStudents(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	ctx := phone(t)
	signIn(t, ctx, app, app.Demo.Students[0], "/tickets")
	var decoration string
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`footer [data-staff-login]`),
		chromedp.Evaluate(`getComputedStyle(document.querySelector("footer [data-staff-login]")).textDecorationLine`, &decoration),
	)
	if decoration != "none" {
		t.Errorf("the student's footer link is %q", decoration)
	}
}

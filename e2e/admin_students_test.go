package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/text/encoding/korean"

	"festa/apptest"
	"festa/browsertest"
)

// The council imports a CP949 roster with Korean headers in the browser:
// a file with bad lines is previewed with each line named and cannot be
// applied; the fixed file is previewed and applied; codes for everyone
// without one come out as slips, one per student, grouped by class, that
// print on A4 (one page per class here); a student signs in with a code
// read off the slip page.
func TestRosterImportAndCodeSlips(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	dir := t.TempDir()
	var good, bad strings.Builder
	good.WriteString("학번,이름,학년,반\r\n")
	bad.WriteString("학번,이름,학년,반\r\n")
	names := []string{"김하늘", "이바다", "박숲", "최보라", "정나래", "강은별"}
	for c := 1; c <= 2; c++ {
		for n := 1; n <= 6; n++ {
			line := "30" + string(rune('0'+c)) + "0" + string(rune('0'+n)) + "," + names[n-1] + ",3," + string(rune('0'+c)) + "\r\n"
			good.WriteString(line)
			bad.WriteString(line)
		}
	}
	bad.WriteString("30101,중복학생,3,1\r\n3021,짧은번호,3,2\r\n30299,,3,2\r\n30301,=cmd|' /C calc'!A0,2,3\r\n")
	write := func(name, s string) string {
		b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badPath, goodPath := write("bad.csv", bad.String()), write("good.csv", good.String())

	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 1000})
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fstudents"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#roster-file`),
		chromedp.SetUploadFiles(`#roster-file`, []string{badPath}),
		chromedp.Click(`form[action="/admin/students/import"] button[type="submit"]`),
		chromedp.WaitVisible(`[data-bad-line]`),
	)
	var badLines int
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.querySelectorAll("[data-bad-line]").length`, &badLines))
	if badLines != 4 {
		t.Errorf("%d bad lines shown, want 4", badLines)
	}
	var applyButtons int
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.querySelectorAll("#roster-apply").length`, &applyButtons))
	if applyButtons != 0 {
		t.Error("a file with bad lines can be applied")
	}
	save(t, ctx, "admin-roster-preview.png")
	if n := app.Count(t, `SELECT count(*)::int FROM students WHERE student_no LIKE '3%'`); n != 0 {
		t.Fatalf("a bad file wrote %d students", n)
	}

	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/admin/students"),
		chromedp.WaitVisible(`#roster-file`),
		chromedp.SetUploadFiles(`#roster-file`, []string{goodPath}),
		chromedp.Click(`form[action="/admin/students/import"] button[type="submit"]`),
		chromedp.WaitVisible(`#roster-apply`),
	)
	var newCount string
	browsertest.Run(t, ctx, chromedp.Text(`[data-count="new"] dd`, &newCount))
	if newCount != "12" {
		t.Errorf("preview says %q new, want 12", newCount)
	}
	browsertest.Run(t, ctx,
		chromedp.Click(`#roster-apply`),
		chromedp.WaitVisible(`#class-301`),
	)
	browsertest.Run(t, ctx, chromedp.Click(`#codes-missing`))
	var slips int
	for deadline := time.Now().Add(10 * time.Second); slips != 12 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll(".slip").length`, &slips))
	}
	var html string
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`document.querySelectorAll(".slip").length`, &slips),
		chromedp.OuterHTML(`html`, &html),
	)
	if slips != 12 {
		t.Fatalf("%d slips, want 12", slips)
	}
	save(t, ctx, "code-slips.png")

	var pdf []byte
	browsertest.Run(t, ctx, chromedp.ActionFunc(func(c context.Context) error {
		var err error
		pdf, _, err = page.PrintToPDF().WithPreferCSSPageSize(true).Do(c)
		return err
	}))
	if pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1)); pages != 2 {
		t.Errorf("the slips print on %d pages, want 2 (one per class)", pages)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Error("no PDF")
	}

	m := regexp.MustCompile(`data-slip="30204"[\s\S]*?data-code="">([0-9A-Z-]{11})<`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no code for 30204 on the slip page")
	}
	student := app.NewClient(t)
	student.Get("/login")
	if status, _ := student.Post("/login", url.Values{"student_no": {"30204"}, "code": {m[1]}}, false); status != http.StatusSeeOther {
		t.Fatalf("sign-in with the slip's code: %d", status)
	}
}

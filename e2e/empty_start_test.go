package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/text/encoding/korean"

	"festa/apptest"
	"festa/browsertest"
)

// A school's first day with festa, from an empty migrated database to a
// student's ticket, in the browser alone after one command: the council
// account is made with `festa staff add`; the council signs in, names the
// festival, draws a hall as a text grid, adds a performance, imports a
// UTF-8 roster and then a CP949 one with Korean headers (as school
// software exports it), prints one homeroom's code slips (one slip per
// student of that class, cut lines, one A4 page), opens sales from the
// console; a student of the CP949 file signs in on a phone with the code
// read off the slip page and books a seat.
func TestEmptyStartToFirstBooking(t *testing.T) {
	app := apptest.StartEmpty(t, apptest.Options{})
	if n := app.Count(t, `SELECT (SELECT count(*) FROM staff) + (SELECT count(*) FROM students) + (SELECT count(*) FROM events)`); n != 0 {
		t.Fatalf("the database is not empty: %d rows", n)
	}

	// The one step outside the browser: the real command, the password on
	// standard input.
	const username, password = "hana", "봄축제-2026-council"
	festa := buildFesta(t)
	cmd := exec.Command(festa, "staff", "add", "--role", "council", username)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+app.DatabaseURL)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("festa staff add: %v\n%s", err, out)
	}
	if n := app.Count(t, `SELECT count(*) FROM staff WHERE username = $1 AND role = 'council'`, username); n != 1 {
		t.Fatalf("the command made %d council accounts\n%s", n, out)
	}

	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	acceptDialogs(ctx) // opening sales asks first
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	run(dark(),
		chromedp.Navigate(app.URL+"/staff/login"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, username),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitNotPresent(`input[name="password"]`, chromedp.ByQuery),
		chromedp.Navigate(app.URL+"/admin"),
		chromedp.WaitVisible(`main`),
	)
	save(t, ctx, "setup-empty-console.png")

	// The festival, in Korea time (the form's default zone).
	zone, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(zone).AddDate(0, 0, 3)
	at := func(d time.Time, hour int) string {
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, zone).Format("2006-01-02T15:04")
	}
	run(
		chromedp.Navigate(app.URL+"/admin/setup"),
		chromedp.WaitVisible(`#event-name`),
		chromedp.SendKeys(`#event-name`, "한빛고 봄 축제"),
		chromedp.SetValue(`#event-starts_on`, day.Format(time.DateOnly)),
		chromedp.SetValue(`#event-ends_on`, day.Format(time.DateOnly)),
	)
	submitAndWait(t, ctx, `#event button[type="submit"]`)
	if n := app.Count(t, `SELECT count(*) FROM events WHERE name = '한빛고 봄 축제' AND time_zone = 'Asia/Seoul'`); n != 1 {
		t.Fatalf("%d festivals after saving the form", n)
	}

	// A hall typed as a grid; the preview counts it before it is made.
	const grid = "AAAAAAAAAAAA\nAAA.AAAAAA.AAA\nAAA.AAAAAA.AAA\nAAA.AAAAAA.AAA\n\nwwA.AAAAAA.Arr"
	var count string
	run(
		chromedp.WaitVisible(`#hall-grid`),
		chromedp.SendKeys(`#hall-form input[name="name"]`, "시청각실"),
		chromedp.SendKeys(`#hall-form input[name="slug"]`, "av-room"),
		chromedp.SendKeys(`#hall-grid`, grid),
		chromedp.WaitVisible(`#hall-preview #seatmap`),
		chromedp.Text(`#hall-preview-count`, &count),
	)
	if !strings.Contains(count, "5열, 60자리") {
		t.Errorf("the preview counts %q", count)
	}
	submitAndWait(t, ctx, `#hall-form button[type="submit"]`)
	if n := app.Count(t, `SELECT count(*) FROM seats s JOIN halls h ON h.id = s.hall_id WHERE h.slug = 'av-room'`); n != 60 {
		t.Fatalf("the hall has %d seats, want 60", n)
	}

	// A performance in it: sales to open in the future, closing before it
	// starts.
	run(
		chromedp.WaitVisible(`#perf-title`),
		chromedp.SendKeys(`#perf-title`, "연극반 정기 공연"),
		chromedp.SendKeys(`#perf-slug`, "drama"),
		chromedp.SetValue(`#perf-starts_at`, at(day, 16)),
		chromedp.SetValue(`#perf-sales_open_at`, at(day.AddDate(0, 0, -1), 9)),
		chromedp.SetValue(`#perf-sales_close_at`, at(day, 12)),
	)
	submitAndWait(t, ctx, `#performances button[type="submit"]`)
	var perfs string
	run(chromedp.Text(`#performances ul`, &perfs))
	if !strings.Contains(perfs, "연극반 정기 공연") || !strings.Contains(perfs, "시청각실") {
		t.Fatalf("performances listed: %q", perfs)
	}

	// The roster: a UTF-8 file (homeroom 2-1), then a CP949 file with
	// Korean headers (2-2), each previewed before it is applied.
	dir := t.TempDir()
	utf8File := filepath.Join(dir, "2학년1반.csv")
	writeFile(t, utf8File, []byte("\ufeffstudent_no,name,grade,class\r\n20101,김가람,2,1\r\n20102,이나래,2,1\r\n20103,박다온,2,1\r\n20104,최라온,2,1\r\n"))
	cp949File := filepath.Join(dir, "2학년2반.csv")
	cp, err := korean.EUCKR.NewEncoder().Bytes([]byte("학번,이름,학년,반\r\n20201,정마루,2,2\r\n20202,강바다,2,2\r\n20203,조새봄,2,2\r\n20204,윤아름,2,2\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cp949File, cp)
	importRoster(t, ctx, app, utf8File, "utf-8")
	importRoster(t, ctx, app, cp949File, "cp949")
	if n := app.Count(t, `SELECT count(*) FROM students WHERE enabled`); n != 8 {
		t.Fatalf("%d students after both files, want 8", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM students WHERE student_no = '20203' AND name = '조새봄'`); n != 1 {
		t.Fatal("the CP949 name was not read as Korean")
	}

	// Codes for homeroom 2-2: its slips, one per student of the class.
	run(
		chromedp.WaitVisible(`#class-202`),
		chromedp.Click(`#class-202 button[type="submit"]`),
	)
	// chromedp's WaitVisible loses the page a form post navigates to
	// here (as in TestRosterImportAndCodeSlips), so count from outside.
	var slips int
	for deadline := time.Now().Add(15 * time.Second); slips == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll(".slip").length`, &slips))
	}
	var bar string
	run(
		chromedp.Evaluate(`document.querySelectorAll(".slip").length`, &slips),
		chromedp.Text(`.slips-bar`, &bar),
	)
	class := app.Count(t, `SELECT count(*) FROM students WHERE student_no LIKE '202%' AND enabled`)
	if slips != class || class != 4 {
		t.Fatalf("%d slips for a homeroom of %d", slips, class)
	}
	if !strings.Contains(bar, fmt.Sprintf("%d", class)) {
		t.Errorf("the slip page's bar %q does not count %d", bar, class)
	}
	var code string
	run(chromedp.Text(`[data-slip="20203"] [data-code]`, &code))
	if !regexp.MustCompile(`^[0-9A-Z-]{11}$`).MatchString(code) {
		t.Fatalf("the slip of 20203 shows %q", code)
	}
	checkPrintPreview(t, ctx, class)

	// Sales open from the console.
	run(
		chromedp.Navigate(app.URL+"/admin"),
		chromedp.WaitVisible(`#perf-drama [data-action="open"]`),
		chromedp.Click(`#perf-drama [data-action="open"]`),
		chromedp.WaitNotPresent(`#perf-drama [data-action="open"]`, chromedp.ByQuery),
	)
	if n := app.Count(t, `SELECT count(*) FROM performances WHERE slug = 'drama' AND sales_open_at <= now()`); n != 1 {
		t.Fatal("opening sales in the console did not open them")
	}

	// The student of the CP949 file, on a phone, with the printed code.
	phone := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	var token string
	browsertest.Run(t, phone, dark(),
		chromedp.Navigate(app.URL+"/login?next=%2Fp%2Fdrama"),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, "20203"),
		chromedp.SendKeys(`input[name="code"]`, code),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#seat-C5`),
		clickSeat("C5"),
		chromedp.WaitVisible(`#seat-C5[data-state="mine"]`),
		chromedp.WaitVisible(`#confirm-hold`),
		chromedp.Click(`#confirm-hold`),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-ticket-token]`, "data-ticket-token", &token, nil),
	)
	save(t, phone, "setup-first-booking-phone.png")
	claims, err := app.Ring.Verify(token)
	if err != nil || claims.Seat != "C5" {
		t.Fatalf("the ticket page's token: %+v %v", claims, err)
	}
	if n := app.Count(t, `SELECT count(*) FROM tickets`); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM tickets t JOIN students s ON s.id = t.student_id
		JOIN performances p ON p.id = t.performance_id
		WHERE t.status = 'active' AND s.student_no = '20203' AND p.slug = 'drama'`); n != 1 {
		t.Error("the ticket is not the student's, for the new performance")
	}
}

// buildFesta builds the festa command into the test's directory.
func buildFesta(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "festa")
	cmd := exec.Command("go", "build", "-o", bin, "festa/cmd/festa")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// submitAndWait clicks a form's submit button and waits for the page the
// answer loads (a redirect back to the same address included).
func submitAndWait(t *testing.T, ctx context.Context, button string) {
	t.Helper()
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`window.__beforeSubmit = true`, nil),
		chromedp.Click(button),
	)
	// The page goes away under a poll of its own, so poll from here.
	var loaded bool
	for deadline := time.Now().Add(15 * time.Second); !loaded && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		chromedp.Run(ctx, chromedp.Evaluate(`!window.__beforeSubmit && document.readyState === "complete"`, &loaded))
	}
	if !loaded {
		t.Fatalf("no page came after clicking %s", button)
	}
}

// importRoster previews file from the roster page, checks the preview
// names the encoding and counts four new students with no bad line, and
// applies it.
func importRoster(t *testing.T, ctx context.Context, app *apptest.App, file, encoding string) {
	t.Helper()
	before := app.Count(t, `SELECT count(*) FROM students`)
	var newCount, summary string
	var bad int
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/admin/students"),
		chromedp.WaitVisible(`#roster-file`),
		chromedp.SetUploadFiles(`#roster-file`, []string{file}),
		chromedp.Click(`form[action="/admin/students/import"] button[type="submit"]`),
		chromedp.WaitVisible(`#roster-apply`),
		chromedp.Text(`[data-count="new"] dd`, &newCount),
		chromedp.Text(`#roster-counts + p`, &summary),
		chromedp.Evaluate(`document.querySelectorAll("[data-bad-line]").length`, &bad),
	)
	if newCount != "4" || bad != 0 || !strings.Contains(strings.ToLower(summary), encoding) {
		t.Errorf("%s: preview says %q new, %d bad lines, %q", filepath.Base(file), newCount, bad, summary)
	}
	if app.Count(t, `SELECT count(*) FROM students`) != before {
		t.Fatal("the preview wrote students")
	}
	browsertest.Run(t, ctx,
		chromedp.Click(`#roster-apply`),
		chromedp.WaitVisible(`#roster-file`),
	)
}

// checkPrintPreview renders the slip page as print media: the page's bar
// is gone, every slip has its dashed cut line and scissors and is never
// split across pages, and the PDF of one homeroom is one A4 page.
func checkPrintPreview(t *testing.T, ctx context.Context, slips int) {
	t.Helper()
	var styles struct {
		Bar     string `json:"bar"`
		Dashed  int    `json:"dashed"`
		Avoid   int    `json:"avoid"`
		Cuts    int    `json:"cuts"`
		Visible int    `json:"visible"`
	}
	browsertest.Run(t, ctx,
		emulation.SetEmulatedMedia().WithMedia("print"),
		chromedp.Evaluate(`(function () {
			var slips = Array.from(document.querySelectorAll(".slip"));
			return {
				bar: getComputedStyle(document.querySelector(".slips-bar")).display,
				dashed: slips.filter(function (s) { var c = getComputedStyle(s); return c.borderTopStyle === "dashed" && c.borderLeftStyle === "dashed"; }).length,
				avoid: slips.filter(function (s) { return getComputedStyle(s).breakInside === "avoid"; }).length,
				cuts: slips.filter(function (s) { return s.querySelector(".cut") && s.querySelector(".cut").textContent.indexOf("✂") >= 0; }).length,
				visible: slips.filter(function (s) { var r = s.getBoundingClientRect(); return r.width > 200 && r.height > 100; }).length
			};
		})()`, &styles),
	)
	save(t, ctx, "code-slips-print.png")
	if styles.Bar != "none" {
		t.Errorf("the slip page's bar prints (display %q)", styles.Bar)
	}
	if styles.Dashed != slips || styles.Avoid != slips || styles.Cuts != slips || styles.Visible != slips {
		t.Errorf("print: of %d slips, %d have dashed cut lines, %d scissors, %d do not split, %d are drawn", slips, styles.Dashed, styles.Cuts, styles.Avoid, styles.Visible)
	}
	var pdf []byte
	browsertest.Run(t, ctx, chromedp.ActionFunc(func(c context.Context) error {
		var err error
		pdf, _, err = page.PrintToPDF().WithPreferCSSPageSize(true).Do(c)
		return err
	}), dark()) // back to the screen
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("no PDF")
	}
	if pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1)); pages != 1 {
		t.Errorf("one homeroom's %d slips print on %d pages, want 1", slips, pages)
	}
	// A4 is 595×842 points, as the page's @page asks.
	m := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("the PDF has no page size")
	}
	w, _ := strconv.ParseFloat(string(m[1]), 64)
	h, _ := strconv.ParseFloat(string(m[2]), 64)
	if math.Abs(w-595) > 1 || math.Abs(h-842) > 1 {
		t.Errorf("the slips print on %.0f×%.0f points, want A4 (595×842)", w, h)
	}
}

// readAttendees fetches a performance's attendee list from the console in
// the browser, as the council downloads it, and parses it.
func readAttendees(t *testing.T, ctx context.Context, app *apptest.App, slug string) [][]string {
	t.Helper()
	var body string
	browsertest.Run(t, ctx, chromedp.Evaluate(`fetch("/admin/p/`+slug+`/attendees.csv").then(function (r) { return r.text(); })`, &body, awaitPromise))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("attendees.csv: %v\n%.300s", err, body)
	}
	return recs
}

// The roster step's hostile files, in the browser: wrong columns, a
// duplicate number, a file chosen as UTF-8 that is not, and a 10 MB file
// are each refused on screen (whole-file refusals as an alert, bad lines
// named one by one, no apply button), and nothing is written. A formula
// for a name is imported as text and comes out of the attendee export
// neutralised, so Excel shows it instead of running it.
func TestEmptyStartHostileRosterFiles(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, b)
		return p
	}
	big := append([]byte("student_no,name\n"), bytes.Repeat([]byte("30101,김하늘\n"), 10<<20/17)...)
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fstudents"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#roster-file`),
	)
	students := func() string {
		var s string
		app.Store.Pool.QueryRow(context.Background(), `SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY id), '')) FROM students s`).Scan(&s)
		return s
	}
	for _, c := range []struct {
		name, path, encoding string
		// where the refusal shows: a whole-file alert, or bad lines
		alert    string
		badLines string
		says     string
	}{
		{"wrong columns", file("columns.csv", []byte("id,fullname\n30101,김하늘\n")), "auto", `[data-roster-refused]`, "", "student_no와 name"},
		{"duplicate numbers", file("dup.csv", []byte("student_no,name\n30101,가온\n30102,나래\n30101,다솜\n")), "auto", "", "4", "2번째 줄과 학번이 같아요"},
		{"invalid encoding", file("bytes.csv", append([]byte("student_no,name\n30101,"), 0xff, 0xfe, '\n')), "utf-8", "", "2", "인코딩을 확인해 주세요"},
		{"10 MB", file("big.csv", big), "auto", `[data-roster-refused]`, "", "파일이 2MB보다 커서 읽지 않았어요"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, names := app.Fingerprint(t), students()
			var shown string
			var bad []string
			var apply int
			browsertest.Run(t, ctx,
				chromedp.Navigate(app.URL+"/admin/students"),
				chromedp.WaitVisible(`#roster-file`),
				chromedp.SetUploadFiles(`#roster-file`, []string{c.path}),
				chromedp.SetValue(`#roster-encoding`, c.encoding),
				chromedp.Click(`form[action="/admin/students/import"] button[type="submit"]`),
				chromedp.WaitNotPresent(`#roster-file`, chromedp.ByQuery),
				chromedp.WaitReady(`body`),
				chromedp.Text(`main`, &shown),
				chromedp.Evaluate(`Array.from(document.querySelectorAll("[data-bad-line]")).map(function (r) { return r.dataset.badLine; })`, &bad),
				chromedp.Evaluate(`document.querySelectorAll("#roster-apply").length`, &apply),
			)
			if c.alert != "" {
				var alert string
				browsertest.Run(t, ctx, chromedp.Text(c.alert, &alert))
				if !strings.Contains(alert, c.says) {
					t.Errorf("the alert says %q, want %q", alert, c.says)
				}
			}
			if !strings.Contains(shown, c.says) {
				t.Errorf("the page does not say %q:\n%.600s", c.says, shown)
			}
			if got := strings.Join(bad, ","); got != c.badLines {
				t.Errorf("bad lines %q, want %q", got, c.badLines)
			}
			if apply != 0 {
				t.Error("a refused file offers to apply")
			}
			if app.Fingerprint(t) != before || students() != names {
				t.Error("a refused file changed something")
			}
		})
	}

	// A formula for a name: the file is good, its name kept as text; the
	// student books and the council's attendee export neutralises it.
	const formula = `=HYPERLINK("http://evil.example","열기")`
	formulaFile := file("formula.csv", []byte("student_no,name\n10101,\""+strings.ReplaceAll(formula, `"`, `""`)+"\"\n"))
	var previewName int
	browsertest.Run(t, ctx,
		chromedp.Navigate(app.URL+"/admin/students"),
		chromedp.WaitVisible(`#roster-file`),
		chromedp.SetUploadFiles(`#roster-file`, []string{formulaFile}),
		chromedp.Click(`form[action="/admin/students/import"] button[type="submit"]`),
		chromedp.WaitVisible(`#roster-apply`),
		chromedp.Evaluate(`document.querySelectorAll("[data-bad-line]").length`, &previewName),
		chromedp.Click(`#roster-apply`),
		chromedp.WaitVisible(`#roster-file`),
	)
	if n := app.Count(t, `SELECT count(*) FROM students WHERE student_no = '10101' AND name = $1`, formula); n != 1 || previewName != 0 {
		t.Fatalf("the formula name was not imported as text (%d bad lines)", previewName)
	}
	bookTicket(t, app, "10101", "D7")
	recs := readAttendees(t, ctx, app, "opening")
	var line []string
	for _, r := range recs {
		if len(r) > 2 && r[1] == "10101" {
			line = r
		}
	}
	if line == nil || line[2] != "'"+formula {
		t.Fatalf("the export's line for 10101: %q", line)
	}
	for _, r := range recs {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("an exported cell starts a formula: %q", cell)
			}
		}
	}
}

package handlers_test

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"

	"festa/apptest"
	"festa/csvsafe"
	"festa/i18n"
	"festa/roster"
)

// rosterPost posts fields and, when file is not nil, file as the
// multipart `file` to path, with the client's CSRF token unless csrf is
// false.
func rosterPost(t *testing.T, app *apptest.App, c *apptest.Client, path string, fields url.Values, file []byte, csrf bool) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf {
		w.WriteField("_csrf", c.Token())
	}
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := w.CreateFormFile("file", "roster.csv")
		fw.Write(file)
	}
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, app.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, text := c.Do(req)
	return resp.StatusCode, text
}

func cp949Bytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	countRE    = regexp.MustCompile(`data-count="(\w+)"[^>]*>\s*<dt[^>]*>[^<]*</dt>\s*<dd[^>]*>(\d+)</dd>`)
	hiddenRE   = regexp.MustCompile(`name="(data|sha256|encoding)" value="([^"]*)"`)
	badLineRE  = regexp.MustCompile(`data-bad-line="(\d+)"`)
	slipCodeRE = regexp.MustCompile(`data-slip="(\d{5})"[\s\S]*?data-code>([0-9A-Z-]{11})<`)
)

func previewCounts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range countRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func studentCount(t *testing.T, app *apptest.App) int {
	return app.Count(t, `SELECT count(*)::int FROM students`)
}

// A UTF-8 file previews (counts, nothing written), then applies through
// the preview's own form; a CP949 file with Korean headers imports too,
// renaming a student and disabling those not in it.
func TestRosterImportPreviewThenApply(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	if status, body := council.Get("/admin/students"); status != http.StatusOK || !strings.Contains(body, "명단 가져오기") {
		t.Fatalf("roster page: %d\n%.300s", status, body)
	}
	before := studentCount(t, app)
	file := []byte("\ufeffstudent_no,name,grade,class\r\n30101,김하늘,3,1\r\n30102,\"=HYPERLINK(\"\"http://x\"\")\",3,1\r\n30201,박바다,3,2\r\n")
	status, body := rosterPost(t, app, council, "/admin/students/import", url.Values{"disable_missing": {"1"}}, file, true)
	if status != http.StatusOK {
		t.Fatalf("preview: %d\n%s", status, body)
	}
	if got := previewCounts(body); got["new"] != "3" || got["updated"] != "0" || got["disabled"] != "3" {
		t.Fatalf("preview counts %v", got)
	}
	if studentCount(t, app) != before {
		t.Fatal("the preview wrote students")
	}
	// Apply what the preview carries back, without disabling this time.
	fields := url.Values{"apply": {"1"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		fields.Set(m[1], html.UnescapeString(m[2]))
	}
	if fields.Get("data") == "" || len(fields.Get("sha256")) != 64 {
		t.Fatalf("the preview carries no file back: %v", fields)
	}
	tampered := url.Values{"apply": {"1"}, "data": {fields.Get("data")}, "sha256": {strings.Repeat("0", 64)}}
	if status, _ := rosterPost(t, app, council, "/admin/students/import", tampered, nil, true); status != http.StatusUnprocessableEntity || studentCount(t, app) != before {
		t.Fatalf("a file that differs from its preview: %d", status)
	}
	status, body = rosterPost(t, app, council, "/admin/students/import", fields, nil, true)
	if status != http.StatusOK || studentCount(t, app) != before+3 {
		t.Fatalf("apply: %d, %d students\n%.500s", status, studentCount(t, app), body)
	}
	if !strings.Contains(body, "새 학생 3명") {
		t.Errorf("apply says nothing of what it did\n%.800s", body)
	}
	// A formula stays text in the database; exports neutralise it.
	name := ""
	app.Store.Pool.QueryRow(t.Context(), `SELECT name FROM students WHERE student_no = '30102'`).Scan(&name)
	if name != `=HYPERLINK("http://x")` || !strings.HasPrefix(csvsafe.Cell(name), "'") {
		t.Errorf("formula name stored as %q", name)
	}

	// CP949 with Korean headers, applied in one step: 30101 renamed, 30301
	// new, everyone else disabled.
	cp := cp949Bytes(t, "학번,이름,학년,반\r\n30101,김하늘빛,3,1\r\n30301,최숲,3,3\r\n")
	status, body = rosterPost(t, app, council, "/admin/students/import", url.Values{"apply": {"1"}, "disable_missing": {"1"}}, cp, true)
	if status != http.StatusOK {
		t.Fatalf("cp949 apply: %d\n%.500s", status, body)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM students WHERE enabled`); n != 2 {
		t.Errorf("%d enabled students, want 2", n)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM students WHERE student_no = '30101' AND name = '김하늘빛'`); n != 1 {
		t.Error("the CP949 name was not read")
	}
}

// Hostile files are refused or reported line by line, and nothing is
// written, not even with apply=1.
func TestHostileRosterFilesChangeNothing(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	council.Get("/admin/students")
	big := append([]byte("student_no,name\n"), bytes.Repeat([]byte("30101,김하늘\n"), 10<<20/17)...)
	for _, c := range []struct {
		name     string
		file     []byte
		enc      string
		status   int
		badLines []string
		says     string
	}{
		{"wrong columns", []byte("id,fullname\n30101,김하늘\n"), "", 422, nil, "student_no"},
		{"duplicate numbers", []byte("student_no,name\n30101,가\n30102,나\n30101,다\n"), "", 422, []string{"4"}, "2번째 줄과 학번이 같아요"},
		{"bad numbers and names", []byte("student_no,name,grade,class\n3010,가,3,1\n30101,,3,1\n30102,나,2,1\n"), "", 422, []string{"2", "3", "4"}, "이름이 비어 있어요"},
		{"invalid encoding", append([]byte("student_no,name\n30101,"), 0xff, 0xfe, '\n'), "utf-8", 422, []string{"2"}, "인코딩"},
		{"cp949 as utf-8", cp949Bytes(t, "학번,이름\n30101,김하늘\n"), "utf-8", 422, nil, "student_no"},
		{"10 MB", big, "", 422, nil, "2MB보다 커서"},
		{"just over 2 MB", append([]byte("student_no,name\n"), bytes.Repeat([]byte("30101,김하늘\n"), roster.MaxBytes/16+1)...), "", 422, nil, "2MB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, students := app.Fingerprint(t), studentCount(t, app)
			status, body := rosterPost(t, app, council, "/admin/students/import", url.Values{"apply": {"1"}, "encoding": {c.enc}}, c.file, true)
			if status != c.status {
				t.Fatalf("status %d, want %d\n%.500s", status, c.status, body)
			}
			var bad []string
			for _, m := range badLineRE.FindAllStringSubmatch(body, -1) {
				bad = append(bad, m[1])
			}
			if got, want := strings.Join(bad, ","), strings.Join(c.badLines, ","); got != want {
				t.Errorf("bad lines %.100s, want %s", got, want)
			}
			if !strings.Contains(body, c.says) {
				t.Errorf("the answer does not say %q\n%.800s", c.says, body)
			}
			if strings.Contains(body, `id="roster-apply"`) {
				t.Error("a bad file offers to apply")
			}
			if app.Fingerprint(t) != before || studentCount(t, app) != students {
				t.Error("a refused file changed something")
			}
		})
	}
}

// Only the council may import or issue codes, and only with its CSRF
// token; every refusal changes nothing.
func TestRosterRoutesAreTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	gate := gateStaff(t, app, "gate")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	student.Get("/")
	anon := app.NewClient(t)
	anon.Get("/")
	file := []byte("student_no,name\n30101,가\n")
	posts := []struct {
		path   string
		fields url.Values
		file   []byte
	}{
		{"/admin/students/import", url.Values{"apply": {"1"}}, file},
		{"/admin/students/codes", nil, nil},
		{"/admin/students/reissue", url.Values{"student_no": {app.Demo.Students[0].No}}, nil},
	}
	digest := func() string {
		var s string
		app.Store.Pool.QueryRow(t.Context(), `SELECT md5(string_agg(concat_ws('|', student_no, name, code_hash, enabled), ',' ORDER BY id)) FROM students`).Scan(&s)
		return s + app.Fingerprint(t)
	}
	before := digest()
	for _, p := range posts {
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student, "signed out": anon} {
			if status, _ := rosterPost(t, app, c, p.path, p.fields, p.file, true); status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", name, p.path, status)
			}
		}
		if status, _ := rosterPost(t, app, council, p.path, p.fields, p.file, false); status != http.StatusForbidden {
			t.Errorf("council POST %s without a token: %d, want 403", p.path, status)
		}
	}
	for name, c := range map[string]*apptest.Client{"gate": gate, "student": student} {
		if status, _ := c.Get("/admin/students"); status != http.StatusForbidden && status != http.StatusSeeOther {
			t.Errorf("%s GET /admin/students: %d", name, status)
		}
	}
	if digest() != before {
		t.Fatal("a refused roster request changed something")
	}
}

// signInWithCode signs a fresh client in through the login form and
// reports whether it worked.
func signInWithCode(t *testing.T, app *apptest.App, no, code string) bool {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/login")
	status, _ := c.Post("/login", url.Values{"student_no": {no}, "code": {code}}, false)
	return status == http.StatusSeeOther
}

// Imported students cannot sign in until codes are made; a slip page shows
// each code once, grouped by class; a student signs in with the code read
// off the slip; re-issuing a code makes the old one fail.
func TestAccessCodesFromSlips(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	council.Get("/admin/students")
	file := []byte("학번,이름,학년,반\n30101,김하늘,3,1\n30102,이바다,3,1\n30201,박숲,3,2\n")
	if status, body := rosterPost(t, app, council, "/admin/students/import", url.Values{"apply": {"1"}}, file, true); status != http.StatusOK {
		t.Fatalf("import: %d\n%.300s", status, body)
	}
	if signInWithCode(t, app, "30101", "") {
		t.Fatal("a student without a code signed in")
	}
	status, body := council.Post("/admin/students/codes", nil, false)
	if status != http.StatusOK {
		t.Fatalf("codes: %d\n%.300s", status, body)
	}
	slips := slipCodeRE.FindAllStringSubmatch(body, -1)
	if len(slips) != 3 || strings.Count(body, `class="slip"`) != 3 || strings.Count(body, `class="slip-class"`) != 2 {
		t.Fatalf("%d slips in %d classes\n%s", len(slips), strings.Count(body, `class="slip-class"`), body)
	}
	for _, want := range []string{"3학년 1반", "3학년 2반", "http://festa.test", "학번과 위의 코드", "@page"} {
		if !strings.Contains(body, want) {
			t.Errorf("the slip page lacks %q", want)
		}
	}
	codes := map[string]string{}
	for _, m := range slips {
		codes[m[1]] = m[2]
	}
	if !signInWithCode(t, app, "30201", codes["30201"]) {
		t.Fatal("a student could not sign in with the slip's code")
	}
	if n := app.Count(t, `SELECT count(*)::int FROM students WHERE code_hash LIKE '$argon2id$v=19$m=2048,t=1,p=1$%' AND student_no LIKE '3%'`); n != 3 {
		t.Fatalf("%d codes stored as hashes, want 3", n)
	}
	// Everyone has a code now: nothing more to print, and the codes are
	// nowhere on the roster page.
	if status, _ := council.Post("/admin/students/codes", nil, false); status != http.StatusUnprocessableEntity {
		t.Errorf("codes again: %d, want 422", status)
	}
	if _, page := council.Get("/admin/students"); strings.Contains(page, codes["30101"]) {
		t.Error("the roster page shows a code again")
	}

	status, body = council.Post("/admin/students/reissue", url.Values{"student_no": {"30101"}}, false)
	fresh := slipCodeRE.FindAllStringSubmatch(body, -1)
	if status != http.StatusOK || len(fresh) != 1 || fresh[0][1] != "30101" || fresh[0][2] == codes["30101"] {
		t.Fatalf("re-issue: %d %v", status, fresh)
	}
	if signInWithCode(t, app, "30101", codes["30101"]) {
		t.Error("the re-issued student's old code still works")
	}
	if !signInWithCode(t, app, "30101", strings.ReplaceAll(fresh[0][2], "-", "")) {
		t.Error("the re-issued code does not work")
	}
	// A whole class again: 30101 and 30102 get new codes, 30201 keeps hers.
	status, body = council.Post("/admin/students/codes", url.Values{"class": {"301"}}, false)
	if n := len(slipCodeRE.FindAllStringSubmatch(body, -1)); status != http.StatusOK || n != 2 {
		t.Fatalf("class codes: %d, %d slips", status, n)
	}
	if !signInWithCode(t, app, "30201", codes["30201"]) {
		t.Error("another class's code stopped working")
	}
}

// Every reason a line can be refused for has a message in both languages.
func TestRosterReasonsAreTranslated(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		l := b.Localizer(lang)
		for _, r := range roster.Reasons {
			if s := l.T("roster.reason."+string(r), "first", 2); strings.HasPrefix(s, "⟦") {
				t.Errorf("%s: no message for %s", lang, r)
			}
		}
	}
}

// A file with bad lines says first that nothing will be written, then
// names the lines, and only then counts what its good lines would do,
// under a heading that says so.
func TestRosterPreviewErrorsFirst(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	council.Get("/admin/students")
	file := []byte("student_no,name\n40101,가온\n40102,나래\n40101,다솜\n")
	status, body := rosterPost(t, app, council, "/admin/students/import", nil, file, true)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", status)
	}
	blocked := strings.Index(body, "data-roster-blocked>잘못된 줄이 있으면 아무것도 바꾸지 않아요")
	bad := strings.Index(body, `data-bad-line="4"`)
	heading := strings.Index(body, "올바른 줄만 적용한다면")
	counts := strings.Index(body, `id="roster-counts"`)
	if blocked < 0 || bad < 0 || heading < 0 || counts < 0 || !(blocked < bad && bad < heading && heading < counts) {
		t.Errorf("order: blocked %d, bad line %d, heading %d, counts %d\n%.3000s", blocked, bad, heading, counts, body)
	}
	if strings.Contains(body, `id="roster-apply"`) {
		t.Error("a file with bad lines offers to apply")
	}

	// A good file: counts, no warning.
	_, body = rosterPost(t, app, council, "/admin/students/import", nil, []byte("student_no,name\n40101,가온\n"), true)
	if strings.Contains(body, "data-roster-blocked") || strings.Contains(body, "올바른 줄만 적용한다면") || !strings.Contains(body, `id="roster-apply"`) {
		t.Errorf("a good file's preview\n%.2000s", body)
	}
}

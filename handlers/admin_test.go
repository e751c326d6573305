package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/csvsafe"
	"festa/db"
)

// salesDigest is every performance's sales state and the audit log's
// size: what a refused console action must leave alone.
func salesDigest(t *testing.T, app *apptest.App) string {
	t.Helper()
	var s string
	err := app.Store.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT string_agg(concat_ws('|', id, sales_open_at, sales_close_at, paused, pause_message), ',' ORDER BY id) FROM performances) ||
		(SELECT count(*)::text FROM audit_log))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s + app.Fingerprint(t)
}

// adminRoute is one console route with a request that would succeed for
// the council.
type adminRoute struct {
	method, path string
	form         url.Values
}

// The council reaches every console route; a gate account is refused
// (403), a student and anyone signed out are sent to the staff sign-in or
// refused; a POST without its CSRF token is refused; and no refused
// request changes anything.
func TestAdminRoutesAreTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	closing := time.Now().Add(72 * time.Hour).In(time.FixedZone("KST", 9*3600)).Format("2006-01-02T15:04")
	gets := []string{
		"/admin", "/admin/stats", "/admin/audit", "/admin/audit?performance=opening&seat=C12",
		"/admin/audit.csv", "/admin/p/opening/attendees.csv", "/admin/p/opening/checkins.csv",
		"/admin/no-such-page",
	}
	// In an order the council's own requests all succeed in.
	posts := []adminRoute{
		{"POST", "/admin/p/night/pause", url.Values{"message": {"점검 중"}}},
		{"POST", "/admin/p/night/resume", nil},
		{"POST", "/admin/p/night/closing", url.Values{"closing": {closing}}},
		{"POST", "/admin/p/night/open", nil},
		{"POST", "/admin/p/night/close", nil},
	}
	council := gateStaff(t, app, "council")
	gate := gateStaff(t, app, "gate")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	student.Get("/")
	anon := app.NewClient(t)
	anon.Get("/")

	before := salesDigest(t, app)
	for _, p := range gets {
		for name, c := range map[string]*apptest.Client{"student": student, "signed out": anon} {
			resp, _ := c.Do(mustRequest(t, http.MethodGet, app.URL+p))
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login?next=") {
				t.Errorf("%s GET %s: %d %q, want a redirect to the staff sign-in", name, p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if status, body := gate.Get(p); status != http.StatusForbidden || !strings.Contains(body, "이 계정으로는 볼 수 없는") {
			t.Errorf("gate GET %s: %d, want 403 with a message\n%.300s", p, status, body)
		}
	}
	for _, r := range posts {
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student, "signed out": anon} {
			for _, htmx := range []bool{false, true} {
				status, _ := c.Post(r.path, clone(r.form), htmx)
				// CONTRACT: 403, or a redirect to the sign-in, which for htmx
				// is a 401 carrying HX-Redirect (only for the signed out).
				if status != http.StatusForbidden && !(htmx && name != "gate" && status == http.StatusUnauthorized) {
					t.Errorf("%s POST %s (htmx %v): %d, want 403", name, r.path, htmx, status)
				}
			}
		}
		form := clone(r.form)
		form.Set("_csrf", "forged")
		if status, _ := council.Post(r.path, form, true); status != http.StatusForbidden {
			t.Errorf("council POST %s with a forged token: %d", r.path, status)
		}
		req, _ := http.NewRequest(http.MethodPost, app.URL+r.path, strings.NewReader(r.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, _ := council.Do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("council POST %s without a token: %d", r.path, resp.StatusCode)
		}
	}
	if salesDigest(t, app) != before {
		t.Fatal("a refused console request changed something")
	}

	for _, p := range gets {
		want := http.StatusOK
		if p == "/admin/no-such-page" {
			want = http.StatusNotFound
		}
		if status, body := council.Get(p); status != want {
			t.Errorf("council GET %s: %d, want %d\n%.300s", p, status, want, body)
		}
	}
	for _, r := range posts {
		if status, body := council.Post(r.path, clone(r.form), true); status != http.StatusOK || !strings.Contains(body, `id="perf-night"`) {
			t.Errorf("council POST %s: %d\n%.300s", r.path, status, body)
		}
	}
	// Without htmx an action goes back to the overview.
	resp, _ := council.Do(formPost(app, council, "/admin/p/opening/pause", url.Values{"message": {"x"}}))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin#perf-opening" {
		t.Errorf("a plain form post: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// formPost is a plain (not htmx) form post with the client's token.
func formPost(app *apptest.App, c *apptest.Client, path string, form url.Values) *http.Request {
	form.Set("_csrf", c.Token())
	req, _ := http.NewRequest(http.MethodPost, app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// banner is the inside of a page's #sales-banner.
func banner(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `id="sales-banner"`)
	if i < 0 {
		t.Fatalf("the page has no #sales-banner")
	}
	rest := body[i:]
	// The banner's inside ends at the first </div> that closes it: it
	// holds at most one level of <div> per paused performance.
	depth, j := 0, strings.Index(rest, ">")+1
	for k := j; k < len(rest); {
		open, end := strings.Index(rest[k:], "<div"), strings.Index(rest[k:], "</div>")
		if open >= 0 && open < end {
			depth++
			k += open + 4
			continue
		}
		if depth == 0 {
			return rest[j : k+end]
		}
		depth--
		k += end + 6
	}
	t.Fatal("#sales-banner does not end")
	return ""
}

// A pause stops every hold and confirm with the council's message, over
// HTTP; the performance page and the home page show it in #sales-banner;
// the resume lets both through again and empties the banner.
func TestPauseRefusesStudentsWithTheCouncilsMessage(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	early := app.NewClient(t)
	early.SignIn("10101")
	if status, body := early.Post("/p/opening/hold", seat("B3"), true); status != http.StatusOK {
		t.Fatalf("hold before the pause: %d %s", status, body)
	}
	const msg = "음향 장비 점검 중이에요. 10분 뒤에 다시 열어요."
	status, body := council.Post("/admin/p/opening/pause", url.Values{"message": {msg}}, true)
	if status != http.StatusOK || !strings.Contains(body, msg) || !strings.Contains(body, "일시 중지했어요") {
		t.Fatalf("pause: %d\n%.500s", status, body)
	}

	late := app.NewClient(t)
	late.SignIn("10102")
	before := app.Fingerprint(t)
	status, body = late.Post("/p/opening/hold", seat("B4"), true)
	if status != http.StatusForbidden || !strings.Contains(body, msg) {
		t.Errorf("hold while paused: %d, want 403 with the message\n%.300s", status, body)
	}
	resp, body := early.Do(htmxPost(t, app, early, "/p/opening/confirm", url.Values{"seat": {"B3"}}))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, msg) {
		t.Errorf("confirm while paused: %d, want 403 with the message\n%.300s", resp.StatusCode, body)
	}
	if app.Fingerprint(t) != before {
		t.Error("a refused booking changed the database")
	}
	for _, page := range []string{"/p/opening", "/"} {
		_, body := late.Get(page)
		if b := banner(t, body); !strings.Contains(b, msg) {
			t.Errorf("%s: #sales-banner %q lacks the message", page, b)
		}
	}
	// English pages show the council's words as written.
	late.Lang = "en"
	if _, body := late.Get("/p/opening"); !strings.Contains(banner(t, body), msg) || !strings.Contains(banner(t, body), "Sales are paused") {
		t.Errorf("English page banner: %q", banner(t, body))
	}
	late.Lang = "ko"

	if status, body := council.Post("/admin/p/opening/resume", nil, true); status != http.StatusOK || !strings.Contains(body, "다시 열었어요") {
		t.Fatalf("resume: %d\n%.300s", status, body)
	}
	if status, body := late.Post("/p/opening/hold", seat("B4"), true); status != http.StatusOK {
		t.Errorf("hold after the resume: %d %.300s", status, body)
	}
	if resp, _ := early.Do(htmxPost(t, app, early, "/p/opening/confirm", nil)); resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") == "" {
		t.Errorf("confirm after the resume: %d", resp.StatusCode)
	}
	for _, page := range []string{"/p/opening", "/"} {
		_, body := late.Get(page)
		if b := banner(t, body); strings.Contains(b, msg) || strings.Contains(b, "pause-banner") {
			t.Errorf("%s: #sales-banner still shows a pause after the resume: %q", page, b)
		}
	}
}

// Every sales action writes one audit row with the council member, their
// address and browser, and the sales state before and after.
func TestSalesActionsWriteAuditRows(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	council := gateStaff(t, app, "council")
	var staffID int64
	app.Store.Pool.QueryRow(context.Background(), `SELECT id FROM staff WHERE username = 'council'`).Scan(&staffID)
	closing := time.Now().Add(96 * time.Hour).In(time.FixedZone("KST", 9*3600)).Format("2006-01-02T15:04")
	for _, a := range []struct {
		path   string
		form   url.Values
		action string
	}{
		{"/admin/p/night/pause", url.Values{"message": {"잠깐만요"}}, "sales_pause"},
		{"/admin/p/night/resume", nil, "sales_resume"},
		{"/admin/p/night/closing", url.Values{"closing": {closing}}, "sales_close_at"},
		{"/admin/p/night/open", nil, "sales_open"},
		{"/admin/p/night/close", url.Values{"reason": {"  공연 취소로\n 마감 "}}, "sales_close"},
	} {
		req := htmxPost(t, app, council, a.path, a.form)
		req.Header.Set("User-Agent", "council-laptop/1")
		if resp, body := council.Do(req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%.300s", a.path, resp.StatusCode, body)
		}
		var action, kind, ip, ua, before, after string
		var actor int64
		err := app.Store.Pool.QueryRow(context.Background(), `SELECT action, actor_kind, actor_id, ip, user_agent, before::text, after::text
			FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&action, &kind, &actor, &ip, &ua, &before, &after)
		if err != nil {
			t.Fatal(err)
		}
		if action != a.action || kind != "staff" || actor != staffID || ip != "127.0.0.1" || ua != "council-laptop/1" ||
			!strings.Contains(before, "sales_close_at") || !strings.Contains(after, "paused") {
			t.Errorf("%s: audit row %s by %s %d from %s (%s), %s → %s", a.path, action, kind, actor, ip, ua, before, after)
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM audit_log WHERE actor_kind = 'staff'`); n != 5 {
		t.Errorf("%d staff audit rows, want 5", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'sales_close' AND after->>'reason' = '공연 취소로 마감'`); n != 1 {
		t.Error("the close's reason is not in its audit row")
	}
}

// A closing time before the opening, one that cannot be read, and a pause
// message over 500 characters are refused in place (the card, with the
// error beside its field, in the council's language) and change nothing.
func TestSalesFormsRefuseInPlace(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	council := gateStaff(t, app, "council")
	night, err := app.Store.PerformanceBySlug(context.Background(), "night")
	if err != nil {
		t.Fatal(err)
	}
	tooEarly := night.SalesOpenAt.Add(-time.Hour).In(time.FixedZone("KST", 9*3600)).Format("2006-01-02T15:04")
	before := salesDigest(t, app)
	for _, c := range []struct {
		lang, path string
		form       url.Values
		want       string
	}{
		{"ko", "/admin/p/night/closing", url.Values{"closing": {tooEarly}}, "마감 시각은 예매 시작("},
		{"en", "/admin/p/night/closing", url.Values{"closing": {tooEarly}}, "The closing time must be after sales open ("},
		{"ko", "/admin/p/night/closing", url.Values{"closing": {"내일 저녁"}}, "날짜와 시간으로"},
		{"ko", "/admin/p/night/pause", url.Values{"message": {strings.Repeat("가", 501)}}, "500자까지"},
		{"en", "/admin/p/night/pause", url.Values{"message": {strings.Repeat("a", 501)}}, "up to 500 characters; it is 501"},
		{"ko", "/admin/p/night/close", url.Values{"reason": {strings.Repeat("왜", 201)}}, "사유는 200자까지"},
	} {
		council.Lang = c.lang
		resp, body := council.Do(htmxPost(t, app, council, c.path, c.form))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s %s: %d, want 422 saying %q\n%.400s", c.lang, c.path, resp.StatusCode, c.want, body)
		}
		if resp.Header.Get("HX-Retarget") != "#perf-night" || resp.Header.Get("HX-Reswap") != "outerHTML" {
			t.Errorf("%s: the refusal goes to %q (%q), want the card", c.path, resp.Header.Get("HX-Retarget"), resp.Header.Get("HX-Reswap"))
		}
		// What was typed comes back as typed.
		if v := c.form.Get("closing"); v != "" && !strings.Contains(body, `value="`+v+`"`) {
			t.Errorf("%s: the typed closing time %q is not kept", c.path, v)
		}
		// Without JavaScript the whole overview comes back with the error.
		resp, body = council.Do(formPost(app, council, c.path, clone(c.form)))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) || !strings.Contains(body, `id="perf-opening"`) {
			t.Errorf("%s %s without htmx: %d\n%.300s", c.lang, c.path, resp.StatusCode, body)
		}
	}
	council.Lang = "ko"
	if salesDigest(t, app) != before {
		t.Error("a refused sales form changed something")
	}
	// Opening sales whose closing time has passed says what to do.
	app.Exec(t, `UPDATE performances SET sales_open_at = now() - interval '2 hours', sales_close_at = now() - interval '1 hour' WHERE slug = 'night'`)
	if status, body := council.Post("/admin/p/night/open", nil, true); status != http.StatusUnprocessableEntity || !strings.Contains(body, "먼저 마감 시각을") {
		t.Errorf("open after the close: %d\n%.300s", status, body)
	}
	if status, _ := council.Post("/admin/p/nowhere/pause", nil, true); status != http.StatusNotFound {
		t.Errorf("an unknown performance: %d", status)
	}
}

// readCSV checks a download's headers and BOM and returns its records.
func readCSV(t *testing.T, c *apptest.Client, app *apptest.App, path, wantName string) [][]string {
	t.Helper()
	resp, body := c.Do(mustRequest(t, http.MethodGet, app.URL+path))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d\n%.300s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	today := time.Now().In(time.FixedZone("KST", 9*3600)).Format("2006-01-02")
	if cd := resp.Header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="%s-%s.csv"`, wantName, today) {
		t.Errorf("%s: Content-Disposition %q", path, cd)
	}
	if !strings.HasPrefix(body, "\ufeff") {
		t.Fatalf("%s: no UTF-8 BOM: %q", path, body[:min(len(body), 20)])
	}
	if !strings.Contains(body, "\r\n") {
		t.Errorf("%s: lines do not end with CRLF", path)
	}
	recs, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(body, "\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// The attendee and check-in lists open in Excel: a BOM, a header, Korean
// names as they are, and a name that is a formula comes out as text.
func TestExportsOpenSafelyInExcel(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 4})
	const formula = `=cmd|' /C calc'!A0`
	app.Exec(t, `UPDATE students SET name = $1 WHERE student_no = '10102'`, formula)
	app.Exec(t, `UPDATE students SET name = '김하늘' WHERE student_no = '10101'`)
	id1, token1 := gateTicket(t, app, "10101", "opening", "C5")
	id2, _ := gateTicket(t, app, "10102", "opening", "A1")
	var gateID int64
	app.Store.Pool.QueryRow(context.Background(), `SELECT id FROM staff WHERE username = 'gate'`).Scan(&gateID)
	if _, err := app.Store.RecordScan(context.Background(), db.Scan{Performance: "opening", Gate: "북문", StaffID: gateID, TicketID: id1, Token: token1}); err != nil {
		t.Fatal(err)
	}
	council := gateStaff(t, app, "council")

	recs := readCSV(t, council, app, "/admin/p/opening/attendees.csv", "attendees-opening")
	want := []string{"좌석", "학번", "이름", "학년", "반", "티켓 번호", "발권 시각", "입장 시각", "출입구"}
	if strings.Join(recs[0], ",") != strings.Join(want, ",") {
		t.Errorf("header %q", recs[0])
	}
	if len(recs) != 3 {
		t.Fatalf("%d lines, want a header and 2 tickets: %q", len(recs), recs)
	}
	a, c := recs[1], recs[2] // seat order: A1 before C5
	if a[0] != "A1" || a[1] != "10102" || a[2] != "'"+formula || csvsafe.Unneutralise(a[2]) != formula || a[5] != id2 || a[7] != "" {
		t.Errorf("A1's line: %q", a)
	}
	if c[0] != "C5" || c[2] != "김하늘" || c[3] != "1" || c[4] != "1" || c[5] != id1 || c[7] == "" || c[8] != "북문" {
		t.Errorf("C5's line: %q", c)
	}
	for _, r := range recs {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("a cell starts a formula: %q", cell)
			}
		}
	}

	recs = readCSV(t, council, app, "/admin/p/opening/checkins.csv", "checkins-opening")
	if len(recs) != 2 || recs[1][1] != "북문" || recs[1][2] != "C5" || recs[1][4] != "김하늘" || recs[1][8] != "gate" {
		t.Errorf("check-ins: %q", recs)
	}

	// English headers for an English console.
	council.Lang = "en"
	recs = readCSV(t, council, app, "/admin/p/opening/attendees.csv", "attendees-opening")
	if recs[0][0] != "Seat" || recs[0][1] != "Student number" {
		t.Errorf("English header %q", recs[0])
	}
	council.Lang = "ko"

	// The audit log under a filter, the same as the viewer's.
	recs = readCSV(t, council, app, "/admin/audit.csv?student=10102", "audit")
	if len(recs) != 4 || recs[1][4] != "confirm" || recs[2][4] != "hold" || recs[3][4] != "login" || recs[1][7] != "10102" || recs[1][8] != "'"+formula {
		t.Errorf("audit export for 10102: %q", recs)
	}
	if status, _ := council.Get("/admin/audit.csv?student=abc"); status != http.StatusBadRequest {
		t.Errorf("an unreadable filter: %d", status)
	}
}

// The audit viewer filters by student, seat, action, performance and
// actor, pages 50 at a time, links each student and seat to their own
// rows, and says what is wrong with a filter it cannot read.
func TestAuditViewer(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	st := app.NewClient(t)
	st.SignIn("10101")
	// The sign-in, then 30 holds and releases: 61 rows by one student.
	for i := 1; i <= 30; i++ {
		label := fmt.Sprintf("D%d", i)
		if status, body := st.Post("/p/opening/hold", seat(label), true); status != http.StatusOK {
			t.Fatalf("hold %s: %d %s", label, status, body)
		}
		if status, _ := st.Post("/p/opening/release", seat(label), true); status != http.StatusOK {
			t.Fatalf("release %s: %d", label, status)
		}
	}
	council := gateStaff(t, app, "council")
	council.Post("/admin/p/night/pause", url.Values{"message": {"x"}}, true)

	rows := regexp.MustCompile(`data-audit-id="(\d+)" data-action="([a-z_]+)"`)
	status, body := council.Get("/admin/audit?student=10101")
	got := rows.FindAllStringSubmatch(body, -1)
	if status != http.StatusOK || len(got) != 50 {
		t.Fatalf("first page: %d, %d rows", status, len(got))
	}
	if !strings.Contains(body, `href="/admin/audit?seat=D30&amp;student=10101"`) || !strings.Contains(body, `href="/admin/audit?student=10101"`) {
		t.Error("the rows do not link their seat and student to their own rows")
	}
	next := regexp.MustCompile(`href="(/admin/audit\?[^"]*before=\d+[^"]*)" rel="next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("the first page has no link to the next one")
	}
	_, body = council.Get(strings.ReplaceAll(next[1], "&amp;", "&"))
	more := rows.FindAllStringSubmatch(body, -1)
	last, _ := strconv.Atoi(got[49][1])
	first, _ := strconv.Atoi(more[0][1])
	if len(more) != 11 || first >= last || strings.Contains(body, `rel="next"`) {
		t.Errorf("second page: %d rows, first id %d after %d", len(more), first, last)
	}
	if !strings.Contains(body, "최신") {
		t.Error("the second page has no way back to the newest")
	}

	for q, want := range map[string]int{
		"seat=D7":                       2,
		"seat=d7&action=hold":           1,
		"action=sales_pause":            1,
		"actor=council":                 1,
		"actor=10101&performance=night": 0,
		"performance=night":             1,
		"student=10102":                 0,
		"from=2000-01-01T00:00":         50,
		"to=2000-01-01T00:00":           0,
	} {
		status, body := council.Get("/admin/audit?" + q)
		if n := len(rows.FindAllStringSubmatch(body, -1)); status != http.StatusOK || n != want {
			t.Errorf("?%s: %d, %d rows, want %d", q, status, n, want)
		}
	}
	// The system actor is found by its name in the viewer's language too.
	sysStatus, sysBody := council.Get("/admin/audit?actor=system")
	koStatus, koBody := council.Get("/admin/audit?actor=" + url.QueryEscape("시스템"))
	if sysStatus != http.StatusOK || koStatus != http.StatusOK ||
		len(rows.FindAllStringSubmatch(sysBody, -1)) != len(rows.FindAllStringSubmatch(koBody, -1)) {
		t.Errorf("actor=system %d and actor=시스템 %d do not find the same rows", sysStatus, koStatus)
	}
	if _, body := council.Get("/admin/audit?action=sales_pause"); !strings.Contains(body, "예매 일시 중지") || !strings.Contains(body, "운영진") {
		t.Error("the pause row is not in words")
	}

	for q, want := range map[string]string{
		"student=2031":   "숫자 다섯 자리",
		"seat=12C":       "C12",
		"actor=Mr%20Kim": "운영진 아이디",
		"from=yesterday": "날짜와 시간",
		"from=2026-05-02T10:00&to=2026-05-01T10:00": "끝 시각이",
	} {
		status, body := council.Get("/admin/audit?" + q)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, want) || rows.MatchString(body) {
			t.Errorf("?%s: %d, want 422 saying %q and no rows", q, status, want)
		}
	}
	if status, _ := council.Get("/admin/audit?performance=nowhere"); status != http.StatusNotFound {
		t.Errorf("an unknown performance: %d", status)
	}
}

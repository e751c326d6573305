package handlers_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/components"
)

// setupDigest is everything festival setup may write, with what bookings
// touch: what a refused form must leave alone.
func setupDigest(t *testing.T, app *apptest.App) string {
	t.Helper()
	var s string
	err := app.Store.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT string_agg(e::text, ',' ORDER BY id) FROM events e) ||
		(SELECT string_agg(h::text, ',' ORDER BY id) FROM halls h) ||
		(SELECT count(*)::text FROM seats) ||
		(SELECT string_agg(p::text, ',' ORDER BY id) FROM performances p))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s + app.Fingerprint(t)
}

// setupCouncil is a council client holding the setup page's CSRF token.
func setupCouncil(t *testing.T, app *apptest.App) *apptest.Client {
	t.Helper()
	c := gateStaff(t, app, "council")
	if status, body := c.Get("/admin/setup"); status != http.StatusOK {
		t.Fatalf("setup page: %d\n%.300s", status, body)
	}
	return c
}

var setupZone = time.FixedZone("KST", 9*3600)

func setupTime(d time.Duration) string {
	return time.Now().Add(d).In(setupZone).Format("2006-01-02T15:04")
}

func goodPerformance(hall int) url.Values {
	return url.Values{"hall": {strconv.Itoa(hall)}, "title": {"연극부 공연"}, "slug": {"play"},
		"starts_at": {setupTime(48 * time.Hour)}, "sales_open_at": {setupTime(-time.Hour)},
		"sales_close_at": {setupTime(24 * time.Hour)}, "ticket_limit": {"2"}, "hold_seconds": {"120"}}
}

// The council previews a grid (drawn by the students' seat map, writing
// nothing), creates the hall and a performance in it; a student books a
// seat there; moving the performance to another hall is then refused with
// the reason.
func TestSetupHallPerformanceAndABooking(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := setupCouncil(t, app)
	grid := "AAAA.AAAA\nwwAA.AArr\n\nxAAA.AAAA"
	before := setupDigest(t, app)
	status, body := council.Post("/admin/setup/halls/preview", url.Values{"grid": {grid}, "start_row": {"A"}, "start_number": {"1"}}, true)
	if status != http.StatusOK || !strings.Contains(body, `id="seatmap"`) || !strings.Contains(body, "3열, 24자리") ||
		!strings.Contains(body, `data-seat="C1"`) {
		t.Fatalf("preview: %d\n%.2000s", status, body)
	}
	status, body = council.Post("/admin/setup/halls/preview", url.Values{"grid": {"AAAA\nAA#A"}, "start_row": {"A"}, "start_number": {"1"}}, true)
	if status != http.StatusOK || !strings.Contains(body, "2번째 줄 3번째 칸: “#”") || strings.Contains(body, `id="seatmap"`) {
		t.Fatalf("bad preview: %d\n%.1000s", status, body)
	}
	if setupDigest(t, app) != before {
		t.Fatal("a preview wrote something")
	}

	resp, body := council.Do(formPost(app, council, "/admin/setup/halls", url.Values{"name": {"소강당"}, "slug": {"small"},
		"grid": {grid}, "start_row": {"A"}, "start_number": {"1"}}))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create hall: %d\n%.2000s", resp.StatusCode, body)
	}
	hall := app.Count(t, `SELECT id::int FROM halls WHERE slug = 'small'`)
	if n := app.Count(t, `SELECT count(*)::int FROM seats WHERE hall_id = $1`, hall); n != 24 {
		t.Fatalf("%d seats", n)
	}
	resp, body = council.Do(formPost(app, council, "/admin/setup/performances", goodPerformance(hall)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create performance: %d\n%.3000s", resp.StatusCode, body)
	}
	// The reserved seats start held back for the council.
	if n := app.Count(t, `SELECT count(*)::int FROM performance_seats ps JOIN performances p ON p.id = ps.performance_id
		WHERE p.slug = 'play' AND ps.state = 'blocked'`); n != 3 {
		t.Fatalf("%d seats blocked, want the sound desk and two guests' seats", n)
	}

	gateTicket(t, app, app.Demo.Students[0].No, "play", "A1")
	if n := app.Count(t, `SELECT count(*)::int FROM tickets t JOIN performances p ON p.id = t.performance_id WHERE p.slug = 'play'`); n != 1 {
		t.Fatalf("%d tickets", n)
	}

	id := app.Count(t, `SELECT id::int FROM performances WHERE slug = 'play'`)
	path := "/admin/setup/p/" + strconv.Itoa(id)
	if status, body := council.Get(path); status != http.StatusOK || !strings.Contains(body, `value="연극부 공연"`) {
		t.Fatalf("edit page: %d", status)
	}
	before = setupDigest(t, app)
	moved := goodPerformance(app.Count(t, `SELECT id::int FROM halls WHERE slug <> 'small' ORDER BY id LIMIT 1`))
	resp, body = council.Do(formPost(app, council, path, moved))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "이미 팔린 표가 있어 공연장을 바꿀 수 없습니다") {
		t.Fatalf("move with tickets: %d\n%.300s", resp.StatusCode, body)
	}
	if setupDigest(t, app) != before {
		t.Fatal("a refused move wrote something")
	}
	changed := goodPerformance(hall)
	changed.Set("title", "연극부 공연 (2회)")
	if resp, body := council.Do(formPost(app, council, path, changed)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%.2000s", resp.StatusCode, body)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM performances WHERE title = '연극부 공연 (2회)'`); n != 1 {
		t.Fatal("the edit was not saved")
	}
}

// Every problem of a form is told in the user's language next to its
// field, with 422, and nothing is written.
func TestSetupValidationWritesNothing(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	council := setupCouncil(t, app)
	hall := app.Count(t, `SELECT id::int FROM halls ORDER BY id LIMIT 1`)
	perf := func(k, v string) url.Values {
		f := goodPerformance(hall)
		f.Set(k, v)
		return f
	}
	hallForm := func(k, v string) url.Values {
		f := url.Values{"name": {"소강당"}, "slug": {"small"}, "grid": {"AAAA"}, "start_row": {"A"}, "start_number": {"1"}}
		f.Set(k, v)
		return f
	}
	event := func(k, v string) url.Values {
		f := url.Values{"name": {"축제"}, "time_zone": {"Asia/Seoul"}, "starts_on": {"2026-12-01"}, "ends_on": {"2026-12-02"}}
		f.Set(k, v)
		return f
	}
	cases := []struct {
		path string
		form url.Values
		want string
	}{
		{"/admin/setup/performances", perf("sales_close_at", setupTime(72*time.Hour)), "예매는 공연 시작 전에 마감해야 합니다"},
		{"/admin/setup/performances", perf("sales_close_at", setupTime(-2*time.Hour)), "예매 마감은 예매 시작보다 뒤여야 합니다"},
		{"/admin/setup/performances", perf("ticket_limit", "11"), "학생당 표 수는 1–10장입니다"},
		{"/admin/setup/performances", perf("hold_seconds", "10"), "좌석 잡아 두는 시간은 30–1800초입니다"},
		{"/admin/setup/performances", perf("slug", "Play!"), "주소 이름은 영어 소문자나 숫자로"},
		{"/admin/setup/performances", perf("slug", "opening"), "이미 쓰고 있는 주소 이름입니다"},
		{"/admin/setup/performances", perf("title", ""), "제목은 1–200자로"},
		{"/admin/setup/performances", perf("hall", "0"), "공연장을 고르세요"},
		{"/admin/setup/performances", perf("starts_at", "내일"), "날짜와 시각을 적어 주세요"},
		{"/admin/setup/halls", hallForm("grid", "AA\nA-A"), "2번째 줄 2번째 칸"},
		{"/admin/setup/halls", hallForm("grid", strings.Repeat("A", 81)), "한 줄은 80칸까지입니다"},
		{"/admin/setup/halls", hallForm("grid", strings.Repeat("A\n", 61)), "열이 60개를 넘습니다"},
		{"/admin/setup/halls", hallForm("grid", strings.Repeat(strings.Repeat("A", 60)+"\n", 51)), "3,000석을 넘습니다"},
		{"/admin/setup/halls", hallForm("grid", "..."), "배치도에 좌석이 없습니다"},
		{"/admin/setup/halls", hallForm("start_row", "1"), "첫 열 이름은 A–Z"},
		{"/admin/setup/halls", hallForm("slug", "main-hall"), "이미 쓰고 있는 주소 이름입니다"},
		{"/admin/setup/halls", hallForm("name", ""), "이름은 1–200자로"},
		{"/admin/setup/event", event("time_zone", "Mars/Olympus"), "알 수 없는 시간대입니다"},
		{"/admin/setup/event", event("ends_on", "2026-11-30"), "마지막 날이 첫날보다 앞설 수 없습니다"},
		{"/admin/setup/event", event("name", ""), "이름은 1–200자로"},
	}
	before := setupDigest(t, app)
	for _, c := range cases {
		resp, body := council.Do(formPost(app, council, c.path, c.form))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s %v: %d, want 422 with %q", c.path, c.form, resp.StatusCode, c.want)
		}
	}
	if setupDigest(t, app) != before {
		t.Fatal("a refused form wrote something")
	}
	// In English the same refusal speaks English.
	council.Lang = "en"
	resp, body := council.Do(formPost(app, council, "/admin/setup/performances", perf("sales_close_at", setupTime(72*time.Hour))))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Sales must close before the performance starts") {
		t.Errorf("english: %d", resp.StatusCode)
	}
}

// Only the council sets the festival up: a gate account, a student and
// anyone signed out are refused, as is a post without the CSRF token, and
// nothing is written.
func TestSetupRoutesAreTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	hall := app.Count(t, `SELECT id::int FROM halls ORDER BY id LIMIT 1`)
	perf := app.Count(t, `SELECT id::int FROM performances WHERE slug = 'night'`)
	posts := []adminRoute{
		{"POST", "/admin/setup/event", url.Values{"name": {"축제"}, "time_zone": {"Asia/Seoul"}}},
		{"POST", "/admin/setup/halls", url.Values{"name": {"소강당"}, "slug": {"small"}, "grid": {"AAAA"}, "start_row": {"A"}, "start_number": {"1"}}},
		{"POST", "/admin/setup/performances", goodPerformance(hall)},
		{"POST", "/admin/setup/p/" + strconv.Itoa(perf), goodPerformance(hall)},
	}
	posts[3].form.Set("slug", "night")
	council := setupCouncil(t, app)
	gate := gateStaff(t, app, "gate")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	anon := app.NewClient(t)
	anon.Get("/")
	before := setupDigest(t, app)
	for _, p := range []string{"/admin/setup", "/admin/setup/p/" + strconv.Itoa(perf)} {
		if status, _ := gate.Get(p); status != http.StatusForbidden {
			t.Errorf("gate GET %s: %d", p, status)
		}
		for name, c := range map[string]*apptest.Client{"student": student, "signed out": anon} {
			resp, _ := c.Do(mustRequest(t, http.MethodGet, app.URL+p))
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login?next=") {
				t.Errorf("%s GET %s: %d", name, p, resp.StatusCode)
			}
		}
	}
	for _, r := range append(posts, adminRoute{"POST", "/admin/setup/halls/preview", url.Values{"grid": {"AA"}}}) {
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student, "signed out": anon} {
			status, _ := c.Post(r.path, clone(r.form), false)
			if status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", name, r.path, status)
			}
		}
		form := clone(r.form)
		form.Set("_csrf", "forged")
		if status, _ := council.Post(r.path, form, false); status != http.StatusForbidden {
			t.Errorf("council POST %s with a forged token: %d", r.path, status)
		}
	}
	if setupDigest(t, app) != before {
		t.Fatal("a refused request changed something")
	}
	for _, r := range posts {
		if resp, body := council.Do(formPost(app, council, r.path, clone(r.form))); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("council POST %s: %d\n%.1500s", r.path, resp.StatusCode, body)
		}
	}
}

// The festival's time zone, once the council changes it, is the one every
// page shows times in and the console reads them in.
func TestSetupEventZoneIsShown(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	seoul, _ := time.LoadLocation("Asia/Seoul")
	t.Cleanup(func() { components.SetZone(seoul) })
	council := setupCouncil(t, app)
	resp, body := council.Do(formPost(app, council, "/admin/setup/event", url.Values{"name": {"Festival"},
		"time_zone": {"Europe/Berlin"}, "starts_on": {"2026-12-05"}, "ends_on": {"2026-12-06"}}))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.1000s", resp.StatusCode, body)
	}
	visitor := app.NewClient(t)
	visitor.Lang = "en"
	_, home := visitor.Get("/")
	if !strings.Contains(home, " CET") || strings.Contains(home, " KST") {
		t.Fatalf("the home page does not show Berlin time\n%.3000s", home)
	}
	// A performance typed at 19:00 is 19:00 in Berlin.
	hall := app.Count(t, `SELECT id::int FROM halls ORDER BY id LIMIT 1`)
	f := goodPerformance(hall)
	f.Set("starts_at", "2026-12-24T19:00")
	f.Set("sales_open_at", "2026-12-01T09:00")
	f.Set("sales_close_at", "2026-12-24T18:00")
	if resp, body := council.Do(formPost(app, council, "/admin/setup/performances", f)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.1000s", resp.StatusCode, body)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM performances WHERE slug = 'play' AND starts_at = '2026-12-24 18:00:00+00'`); n != 1 {
		t.Fatal("the start was not read in the festival's zone")
	}
}

// multipartPost posts fields and a file (field grid_file) as a browser's
// form with enctype multipart/form-data does, with the client's token.
func multipartPost(t *testing.T, app *apptest.App, c *apptest.Client, path string, fields url.Values, file string, htmx bool) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields.Set("_csrf", c.Token())
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	fw, err := w.CreateFormFile("grid_file", "hall.csv")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(file))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, app.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return req
}

// A plan drawn in a spreadsheet (CSV) previews like a typed one and puts
// its text in the box; a bad cell is named; the form creates the hall.
func TestSetupHallFromCSV(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	council := setupCouncil(t, app)
	fields := url.Values{"name": {"소강당"}, "slug": {"small"}, "grid": {""}, "start_row": {"A"}, "start_number": {"1"}}
	plan := "\xef\xbb\xbfA,A,,A,A\r\nw,w,,A,r\r\n"
	before := setupDigest(t, app)
	resp, body := council.Do(multipartPost(t, app, council, "/admin/setup/halls/preview", clone(fields), plan, true))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="seatmap"`) || !strings.Contains(body, "2열, 8자리") ||
		!strings.Contains(body, "AA.AA\nww.Ar\n</textarea>") || !strings.Contains(body, `id="hall-file-field" class="flex flex-col gap-2" hx-swap-oob="true"`) {
		t.Fatalf("preview: %d\n%.3000s", resp.StatusCode, body)
	}
	resp, body = council.Do(multipartPost(t, app, council, "/admin/setup/halls", clone(fields), "A,A\nA,AB\n", false))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "2번째 줄 2번째 칸: 한 칸에는 한 글자만") {
		t.Fatalf("bad cell: %d", resp.StatusCode)
	}
	resp, _ = council.Do(multipartPost(t, app, council, "/admin/setup/halls", clone(fields), strings.Repeat("A,", 40000), false))
	// Refused by the plan's own bound or the server's body limit before it.
	if resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a big file: %d", resp.StatusCode)
	}
	if setupDigest(t, app) != before {
		t.Fatal("a preview or a refused file wrote something")
	}
	if resp, body := council.Do(multipartPost(t, app, council, "/admin/setup/halls", clone(fields), plan, false)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.2000s", resp.StatusCode, body)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM seats s JOIN halls h ON h.id = s.hall_id WHERE h.slug = 'small' AND (s.kind = 'accessible' OR s.reserved)`); n != 3 {
		t.Fatalf("%d accessible or reserved seats, want 3", n)
	}
}

package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"festa/apptest"
)

func seat(label string) url.Values { return url.Values{"seat": {label}} }

// Each rule of a hold, broken over HTTP: the student reads why, in Korean
// or English, and the database does not change.
func TestHoldRefusalsExplainAndChangeNothing(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	other := app.NewClient(t)
	other.SignIn("10102")
	if status, body := other.Post("/p/opening/hold", seat("C12"), true); status != 200 {
		t.Fatalf("bob's hold: %d %s", status, body)
	}
	c := app.NewClient(t)
	c.SignIn("10101")
	cases := []struct {
		name   string
		path   string
		form   url.Values
		setup  string
		status int
		ko, en string
	}{
		{"unknown seat", "/p/opening/hold", seat("Z99"), "", 404, "Z99 좌석이 없어요", "no seat Z99"},
		{"malformed seat", "/p/opening/hold", seat("C12'; DROP TABLE seats;--"), "", 400, "좌석 번호가 올바르지 않아요", "not a valid seat"},
		{"empty seat", "/p/opening/hold", url.Values{}, "", 400, "좌석 번호가 올바르지 않아요", "not a valid seat"},
		{"blocked seat", "/p/opening/hold", seat("P13"), "", 409, "예매할 수 없는 자리", "cannot be booked"},
		{"someone else's hold", "/p/opening/hold", seat("C12"), "", 409, "방금 다른 사람이 C12", "Someone took C12"},
		{"release someone else's hold", "/p/opening/release", seat("C12"), "", 409, "잡아 둔 좌석이 없어요", "no seat held"},
		{"confirm without a hold", "/p/opening/confirm", nil, "", 409, "잡아 둔 좌석이 없어요", "no seat held"},
		{"sales not open", "/p/night/hold", seat("A1"), "", 403, "아직 예매가 시작되지 않았어요", "not opened yet"},
		{"unknown performance", "/p/nope/hold", seat("A1"), "", 404, "찾는 페이지가 없어요", "no such page"},
		{"paused", "/p/opening/hold", seat("A1"), `UPDATE performances SET paused = true, pause_message = '무대 점검 중' WHERE slug = 'opening'`, 403, "무대 점검 중", "Sales are paused: 무대 점검 중"},
		{"closed", "/p/opening/hold", seat("A1"), `UPDATE performances SET paused = false, sales_close_at = now() - interval '1 second', sales_open_at = now() - interval '1 day' WHERE slug = 'opening'`, 403, "예매가 마감됐어요", "Sales are closed"},
	}
	for _, tc := range cases {
		if tc.setup != "" {
			app.Exec(t, tc.setup)
		}
		for lang, want := range map[string]string{"ko": tc.ko, "en": tc.en} {
			c.Lang = lang
			before := app.Fingerprint(t)
			status, body := c.Post(tc.path, tc.form, true)
			if status != tc.status {
				t.Errorf("%s (%s): status %d, want %d", tc.name, lang, status, tc.status)
			}
			if !strings.Contains(body, want) {
				t.Errorf("%s (%s): body lacks %q:\n%s", tc.name, lang, want, body)
			}
			if app.Fingerprint(t) != before {
				t.Errorf("%s (%s): the refused request changed the database", tc.name, lang)
			}
		}
	}
}

func TestRequestsWithoutCSRFOrWithWrongMethodChangeNothing(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	c := app.NewClient(t)
	c.SignIn("10101")
	before := app.Fingerprint(t)
	if status, body := c.Post("/p/opening/hold", url.Values{"seat": {"A1"}, "_csrf": {""}}, true); status != http.StatusForbidden || !strings.Contains(body, "보안 확인") {
		t.Errorf("missing CSRF: %d %s", status, body)
	}
	if status, _ := c.Post("/p/opening/hold", url.Values{"seat": {"A1"}, "_csrf": {"forged-token-forged-token-forged-token-abcd"}}, true); status != http.StatusForbidden {
		t.Errorf("wrong CSRF: %d", status)
	}
	req, _ := http.NewRequest("POST", app.URL+"/p/opening/hold", strings.NewReader("seat=A1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.Token())
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := c.Do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST with the token: %d", resp.StatusCode)
	}
	if status, _ := c.Get("/p/opening/hold?seat=A1"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET hold: %d, want 405", status)
	}
	big := url.Values{"seat": {strings.Repeat("A", 100<<10)}}
	if status, _ := c.Post("/p/opening/hold", big, true); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized form: %d, want 413", status)
	}
	anon := app.NewClient(t)
	anon.Get("/p/opening")
	if status, _ := anon.Post("/p/opening/hold", seat("A1"), false); status != http.StatusUnauthorized {
		t.Errorf("signed-out hold: %d, want 401", status)
	}
	if app.Fingerprint(t) != before {
		t.Error("a refused request changed the database")
	}
	// The header form of the token works (what htmx sends).
	req, _ = http.NewRequest("POST", app.URL+"/p/opening/hold", strings.NewReader("seat=A1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.Token())
	req.Header.Set("HX-Request", "true")
	if resp, body := c.Do(req); resp.StatusCode != 200 || !strings.Contains(body, `id="seat-A1"`) {
		t.Errorf("hold with the header token: %d %s", resp.StatusCode, body)
	}
}

var ticketLink = regexp.MustCompile(`/tickets/([0-9a-f-]{36})`)

func TestHoldConfirmTicketCancel(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	c := app.NewClient(t)
	c.SignIn("10101")
	status, body := c.Post("/p/opening/hold", seat("D7"), true)
	if status != 200 {
		t.Fatalf("hold: %d %s", status, body)
	}
	for _, want := range []string{`id="hold-panel"`, `id="seat-D7"`, `data-state="mine"`, `hx-swap-oob`, `id="occupancy"`} {
		if !strings.Contains(body, want) {
			t.Errorf("hold answer lacks %s", want)
		}
	}
	// Moving the hold: picking another seat frees the first.
	status, body = c.Post("/p/opening/hold", seat("D8"), true)
	if status != 200 || !regexp.MustCompile(`id="seat-D7"[^>]*data-state="available"|data-state="available"[^>]*id="seat-D7"`).MatchString(body) {
		t.Errorf("moving the hold did not free D7 in the answer: %d", status)
	}
	resp, _ := c.Do(htmxPost(t, app, c, "/p/opening/confirm", nil))
	loc := resp.Header.Get("HX-Redirect")
	m := ticketLink.FindStringSubmatch(loc)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("confirm: %d, HX-Redirect %q", resp.StatusCode, loc)
	}
	id := m[1]
	// A double click gives the same ticket.
	resp, _ = c.Do(htmxPost(t, app, c, "/p/opening/confirm", nil))
	if resp.Header.Get("HX-Redirect") != loc {
		t.Errorf("second confirm went to %q, want %q", resp.Header.Get("HX-Redirect"), loc)
	}
	if n := app.Count(t, `SELECT count(*) FROM tickets`); n != 1 {
		t.Fatalf("%d tickets after a double confirm", n)
	}
	status, page := c.Get("/tickets/" + id)
	if status != 200 {
		t.Fatalf("ticket page: %d", status)
	}
	tok := regexp.MustCompile(`data-ticket-token="([^"]+)"`).FindStringSubmatch(page)
	if tok == nil {
		t.Fatal("ticket page has no data-ticket-token")
	}
	claims, err := app.Ring.Verify(tok[1])
	if err != nil || claims.Seat != "D8" || claims.Performance != "opening" || claims.TicketID.String() != id {
		t.Errorf("token claims %+v, %v", claims, err)
	}
	// The QR image decodes to the token on the page.
	resp, png := c.Do(mustRequest(t, "GET", app.URL+"/tickets/"+id+"/qr.png"))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := decodeQR(t, []byte(png)); got != tok[1] {
		t.Errorf("QR decodes to %q, page shows %q", got, tok[1])
	}
	// Nobody else sees it.
	other := app.NewClient(t)
	other.SignIn("10102")
	for _, p := range []string{"/tickets/" + id, "/tickets/" + id + "/qr.png"} {
		if status, _ := other.Get(p); status != http.StatusNotFound {
			t.Errorf("another student got %s: %d", p, status)
		}
	}
	if status, _ := other.Post("/tickets/"+id+"/cancel", nil, true); status != http.StatusNotFound {
		t.Errorf("another student cancelled: %d", status)
	}
	// My tickets lists it.
	if _, list := c.Get("/tickets"); !strings.Contains(list, "/tickets/"+id) {
		t.Error("my tickets does not list the ticket")
	}
	// Cancelling frees the seat for everyone.
	resp, _ = c.Do(htmxPost(t, app, c, "/tickets/"+id+"/cancel", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if status, _ := other.Post("/p/opening/hold", seat("D8"), true); status != 200 {
		t.Errorf("cancelled seat not free: %d", status)
	}
	if n := app.Count(t, `SELECT count(*) FROM audit_log WHERE action IN ('hold','release','confirm','cancel')`); n != 6 {
		t.Errorf("%d audit rows for hold, release, hold, confirm, cancel and the other student's hold, want 6", n)
	}
}

func TestHoldExpiredAtConfirm(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	c := app.NewClient(t)
	c.SignIn("10101")
	c.Post("/p/opening/hold", seat("H3"), true)
	app.Exec(t, `UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE state = 'held'`)
	before := app.Fingerprint(t)
	status, body := c.Post("/p/opening/confirm", nil, true)
	if status != 409 || !strings.Contains(body, "시간이 지났어요") {
		t.Errorf("confirm after expiry: %d %s", status, body)
	}
	if app.Fingerprint(t) != before {
		t.Error("confirm of an expired hold changed the database")
	}
}

func TestBestAvailablePicksACentreSeat(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	c := app.NewClient(t)
	c.SignIn("10101")
	status, body := c.Post("/p/opening/best", nil, true)
	if status != 200 {
		t.Fatalf("best: %d %s", status, body)
	}
	var label string
	app.Store.Pool.QueryRow(t.Context(), `SELECT s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id WHERE ps.state = 'held'`).Scan(&label)
	if label != "A15" && label != "A16" {
		t.Errorf("best available held %q, want a front-centre seat", label)
	}
}

func htmxPost(t *testing.T, app *apptest.App, c *apptest.Client, path string, form url.Values) *http.Request {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.Token())
	req, _ := http.NewRequest("POST", app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return req
}

// decodeQR reads a QR code with zbarimg (Debian's zbar-tools, installed by
// .ci/run).
func decodeQR(t *testing.T, png []byte) string {
	t.Helper()
	cmd := exec.Command("zbarimg", "--quiet", "--raw", "-")
	cmd.Stdin = bytes.NewReader(png)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg (apt-get install zbar-tools): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// A refused tap answers with the reason for #messages and, out of band,
// the truth: the seat as it really is (so it does not keep looking free)
// and, when the refusal changes what the panel should offer, the panel.
func TestRefusalCarriesTheTruthOutOfBand(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	bob := app.NewClient(t)
	bob.SignIn("10102")
	bob.Get("/p/opening")
	if status, _ := bob.Post("/p/opening/hold", seat("C12"), true); status != 200 {
		t.Fatalf("bob's hold: %d", status)
	}
	c := app.NewClient(t)
	c.SignIn("10101")
	c.Get("/p/opening")

	before := app.Fingerprint(t)
	resp, body := c.Do(htmxPost(t, app, c, "/p/opening/hold", seat("C12")))
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("HX-Retarget") != "#messages" {
		t.Errorf("taken seat: %d, HX-Retarget %q", resp.StatusCode, resp.Header.Get("HX-Retarget"))
	}
	if !regexp.MustCompile(`<p role="alert">방금 다른 사람이 C12 좌석을 잡았어요`).MatchString(body) {
		t.Errorf("taken seat: no alert:\n%s", body)
	}
	if !regexp.MustCompile(`<button[^>]*id="seat-C12"[^>]*data-state="held"[^>]*hx-swap-oob="true"`).MatchString(body) {
		t.Errorf("taken seat: C12's true state is not sent out of band:\n%s", body)
	}
	if strings.Contains(body, `id="hold-panel"`) {
		t.Error("a taken seat replaces the hold panel (it would close the list picker)")
	}
	if app.Fingerprint(t) != before {
		t.Error("the refused hold changed the database")
	}

	// A hold that ran out before confirm: the panel goes back to picking
	// and the seat the page still shows as held comes back free.
	if status, _ := c.Post("/p/opening/hold", seat("D7"), true); status != 200 {
		t.Fatal("hold D7")
	}
	app.Exec(t, `UPDATE performance_seats SET held_until = now() - interval '1 second'
		WHERE student_id = (SELECT id FROM students WHERE student_no = '10101')`)
	before = app.Fingerprint(t)
	resp, body = c.Do(htmxPost(t, app, c, "/p/opening/confirm", seat("D7")))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "시간이 지났어요") {
		t.Errorf("expired confirm: %d\n%s", resp.StatusCode, body)
	}
	for _, re := range []string{
		`<section[^>]*id="hold-panel"[^>]*hx-swap-oob="true"`,
		`id="best-seat"`,
		`<button[^>]*id="seat-D7"[^>]*data-state="available"[^>]*hx-swap-oob="true"`,
		`id="occupancy"[^>]*hx-swap-oob="true"`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("expired confirm: the answer lacks %s", re)
		}
	}
	if strings.Contains(body, `id="confirm-hold"`) {
		t.Error("expired confirm: the answer still offers confirm")
	}
	if app.Fingerprint(t) != before {
		t.Error("the refused confirm changed the database")
	}

	// Without htmx the refusal is a whole page, with no fragments in it.
	status, page := c.Post("/p/opening/hold", seat("C12"), false)
	if status != http.StatusConflict || strings.Contains(page, "hx-swap-oob") || !strings.Contains(page, "<html") {
		t.Errorf("plain form refusal: %d", status)
	}
}

// A seat tapped while signed out is carried through the sign-in
// (/login?next=/p/opening?seat=C12) and offered, never held, on return.
func TestSeatChosenBeforeSignIn(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	anon := app.NewClient(t)
	resp, _ := anon.Do(mustRequest(t, "GET", app.URL+"/p/opening?seat=c12"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fp%2Fopening%3Fseat%3DC12" {
		t.Errorf("signed-out seat: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if status, page := anon.Get("/p/opening?seat=" + url.QueryEscape(`C1"><b>`)); status != 200 || strings.Contains(page, "<b>") {
		t.Errorf("a malformed seat is not ignored: %d", status)
	}
	if _, page := anon.Get("/p/opening"); !strings.Contains(page, `<form id="seat-form" class="seat-form" method="get" action="/p/opening">`) {
		t.Error("signed out, the seat map is not a GET form back to the page")
	}

	c := app.NewClient(t)
	c.SignIn("10101")
	before := app.Fingerprint(t)
	_, page := c.Get("/p/opening?seat=C12")
	if !regexp.MustCompile(`<input type="hidden" name="seat" value="C12">\s*<button type="submit" id="hold-selected"`).MatchString(page) {
		t.Error("the chosen seat is not offered with a hold button")
	}
	if app.Fingerprint(t) != before {
		t.Error("coming back with ?seat= changed the database")
	}
	for _, bad := range []string{"Z99", "P13", "C12x"} {
		if _, page := c.Get("/p/opening?seat=" + bad); strings.Contains(page, "hold-selected") {
			t.Errorf("?seat=%s was offered", bad)
		}
	}
	other := app.NewClient(t)
	other.SignIn("10102")
	other.Get("/p/opening")
	other.Post("/p/opening/hold", seat("C12"), true)
	if _, page := c.Get("/p/opening?seat=C12"); strings.Contains(page, "hold-selected") || !strings.Contains(page, "방금 다른 사람이 C12 좌석을 잡았어요") {
		t.Error("a seat taken meanwhile is offered, or not explained")
	}
}

// At the countdown's zero festa.js asks for the hold panel alone: it says
// the hold is over and brings the seat back free, out of band.
func TestPanelAfterAHoldRunsOut(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	c := app.NewClient(t)
	c.SignIn("10101")
	c.Get("/p/opening")
	c.Post("/p/opening/hold", seat("H3"), true)
	_, page := c.Get("/p/opening")
	if !strings.Contains(page, `data-expire-url="/p/opening?panel=expired&amp;seat=H3"`) || !strings.Contains(page, "data-warn-at=") {
		t.Fatal("the hold panel does not say where to ask when the hold runs out, or when to warn")
	}
	app.Exec(t, `UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE state = 'held'`)
	req := mustRequest(t, "GET", app.URL+"/p/opening?panel=expired&seat=H3")
	req.Header.Set("HX-Request", "true")
	resp, body := c.Do(req)
	if resp.StatusCode != 200 || strings.Contains(body, "<html") {
		t.Fatalf("panel: %d", resp.StatusCode)
	}
	for _, re := range []string{`^<section id="hold-panel"`, `class="hold-expired"`, `좌석 잡기 시간이 끝났어요`, `H3 좌석은`, `id="best-seat"`,
		`<button[^>]*id="seat-H3"[^>]*data-state="available"[^>]*hx-swap-oob="true"`} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("panel lacks %s:\n%s", re, body)
		}
	}
}

// Right after confirming, the ticket page has its "booked" moment; a later
// visit does not.
func TestTicketBookedMomentOnce(t *testing.T) {
	app := apptest.Start(t, apptest.Options{})
	c := app.NewClient(t)
	c.SignIn("10101")
	c.Get("/p/opening")
	c.Post("/p/opening/hold", seat("D8"), true)
	resp, _ := c.Do(htmxPost(t, app, c, "/p/opening/confirm", nil))
	to := resp.Header.Get("HX-Redirect")
	if !strings.HasSuffix(to, "?new=1") {
		t.Fatalf("confirm goes to %q", to)
	}
	if _, page := c.Get(to); !regexp.MustCompile(`class="booked-banner[^"]*" role="alert"[^>]*>.*예매 완료!.*D8 좌석이`).MatchString(page) {
		t.Error("no booked banner right after confirming")
	}
	if _, page := c.Get(strings.TrimSuffix(to, "?new=1")); strings.Contains(page, "booked-banner") {
		t.Error("the booked banner shows on a later visit")
	}
	app.Exec(t, `UPDATE tickets SET issued_at = now() - interval '11 minutes'`)
	if _, page := c.Get(to); strings.Contains(page, "booked-banner") {
		t.Error("an old ?new=1 link brings the banner back")
	}
}

package handlers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"festa/apptest"
	"festa/db"
	"festa/tickets"
)

// gateStaff returns a client signed in as the demo staff account user
// ("gate" or "council") through the staff sign-in form.
func gateStaff(t *testing.T, app *apptest.App, user string) *apptest.Client {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/staff/login")
	resp, body := authPost(app, c, "/staff/login", url.Values{"username": {user}, "password": {authStaffPassword(t, app, user)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff sign-in %s: %d\n%s", user, resp.StatusCode, body)
	}
	c.Get("/gate?performance=opening&gate=north") // the scanner page's CSRF token
	return c
}

var ticketTokenRE = regexp.MustCompile(`data-ticket-token="([^"]+)"`)

// gateTicket books seat in perf for the demo student no over HTTP and
// returns the ticket's id and token as its page shows them.
func gateTicket(t *testing.T, app *apptest.App, no, perf, seatLabel string) (id, token string) {
	t.Helper()
	c := app.NewClient(t)
	c.SignIn(no)
	if status, body := c.Post("/p/"+perf+"/hold", seat(seatLabel), true); status != http.StatusOK {
		t.Fatalf("hold %s: %d %s", seatLabel, status, body)
	}
	resp, _ := c.Do(htmxPost(t, app, c, "/p/"+perf+"/confirm", nil))
	m := ticketLink.FindStringSubmatch(resp.Header.Get("HX-Redirect"))
	if m == nil {
		t.Fatalf("confirm %s: %d, HX-Redirect %q", seatLabel, resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	_, page := c.Get("/tickets/" + m[1])
	tm := ticketTokenRE.FindStringSubmatch(page)
	if tm == nil {
		t.Fatal("the ticket page shows no token")
	}
	return m[1], tm[1]
}

// gateVerdict is the scanner script's JSON answer.
type gateVerdict struct {
	Result           string `json:"result"`
	Reason           string `json:"reason"`
	Seat             string `json:"seat"`
	StudentNo        string `json:"student_no"`
	StudentName      string `json:"student_name"`
	Performance      string `json:"performance"`
	PerformanceTitle string `json:"performance_title"`
	FirstAt          string `json:"first_at"`
	FirstGate        string `json:"first_gate"`
	GateCount        int    `json:"gate_count"`
	Replayed         bool   `json:"replayed"`
	Duplicate        bool   `json:"duplicate"`
	HTML             string `json:"html"`
}

// gateScanRequest is POST /gate/scan as the scanner script sends it.
func gateScanRequest(app *apptest.App, c *apptest.Client, gate, token string, extra url.Values) *http.Request {
	form := url.Values{"performance": {"opening"}, "gate": {gate}, "token": {token}}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/gate/scan", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.Token())
	req.Header.Set("Accept", "application/json")
	return req
}

func gateScanJSON(t *testing.T, app *apptest.App, c *apptest.Client, gate, token string, extra url.Values) gateVerdict {
	t.Helper()
	resp, body := c.Do(gateScanRequest(app, c, gate, token, extra))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scan: %d %s", resp.StatusCode, body)
	}
	var v gateVerdict
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("scan: %v\n%s", err, body)
	}
	return v
}

// Every verdict over HTTP, as a page (no JavaScript), as an htmx fragment
// and as JSON: what the door must see on each, in Korean.
func TestGateVerdicts(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 6})
	app.Exec(t, `UPDATE performances SET sales_open_at = now() - interval '1 hour' WHERE slug = 'night'`)
	_, token := gateTicket(t, app, "10101", "opening", "D4")
	cancelID, cancelToken := gateTicket(t, app, "10102", "opening", "D5")
	_, nightToken := gateTicket(t, app, "10103", "night", "A1")
	owner := app.NewClient(t)
	owner.SignIn("10102")
	owner.Get("/tickets/" + cancelID)
	if status, body := owner.Post("/tickets/"+cancelID+"/cancel", nil, false); status >= 400 {
		t.Fatalf("cancel: %d %s", status, body)
	}
	c := gateStaff(t, app, "gate")

	// Admitted, as a whole page: the seat huge, name, class.
	status, body := c.Post("/gate/scan", url.Values{"performance": {"opening"}, "gate": {"정문"}, "token": {token}}, false)
	if status != http.StatusOK {
		t.Fatalf("scan: %d %s", status, body)
	}
	for _, want := range []string{`data-result="admitted"`, "입장", "ADMIT", `data-seat>D4<`, "1학년 1반 1번", "10101", `id="gate-count"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admitted page lacks %s", want)
		}
	}
	var name string
	app.Store.Pool.QueryRow(t.Context(), `SELECT name FROM students WHERE student_no = '10101'`).Scan(&name)
	if !strings.Contains(body, name) {
		t.Errorf("admitted page lacks the student's name %q", name)
	}

	// Already used, as an htmx fragment: when and at which door.
	status, body = c.Post("/gate/scan", url.Values{"performance": {"opening"}, "gate": {"후문"}, "token": {token}}, true)
	if status != http.StatusOK || !strings.Contains(body, `data-result="already-used"`) || !strings.Contains(body, "이미 입장") ||
		!strings.Contains(body, "정문") || strings.Contains(body, "<html") {
		t.Errorf("already used: %d %s", status, body)
	}

	// The rest as JSON.
	for _, tc := range []struct {
		name, token, result, want string
	}{
		{"garbage", "hello", "invalid", "무효"},
		{"cancelled", cancelToken, "cancelled", "취소됨"},
		{"other performance", nightToken, "wrong-performance", "밤 공연 Night Concert"},
		{"used", token, "already-used", "정문"},
	} {
		v := gateScanJSON(t, app, c, "north", tc.token, nil)
		if v.Result != tc.result || !strings.Contains(v.HTML, `data-result="`+tc.result+`"`) || !strings.Contains(v.HTML, tc.want) {
			t.Errorf("%s: %+v", tc.name, v)
		}
	}
	v := gateScanJSON(t, app, c, "north", nightToken, nil)
	if v.Performance != "night" || v.PerformanceTitle != "밤 공연 Night Concert" {
		t.Errorf("wrong performance does not name the right one: %+v", v)
	}
	if n := app.Count(t, `SELECT count(*) FROM check_ins`); n != 1 {
		t.Errorf("%d check-ins, want 1", n)
	}
	// Every scan is logged with its door and staff member.
	if n := app.Count(t, `SELECT count(*) FROM scan_log l JOIN staff s ON s.id = l.staff_id WHERE s.username = 'gate'`); n != 7 {
		t.Errorf("%d scans logged, want 7", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM check_ins c JOIN staff s ON s.id = c.staff_id WHERE s.username = 'gate' AND c.gate = '정문'`); n != 1 {
		t.Error("the check-in does not record the door and the staff member")
	}

	// English.
	c.Lang = "en"
	v = gateScanJSON(t, app, c, "north", "F1.nope", nil)
	if !strings.Contains(v.HTML, "INVALID") || strings.Contains(v.HTML, "⟦") {
		t.Errorf("English invalid: %s", v.HTML)
	}
}

// Any single byte of a token changed makes it invalid, and admits nobody.
func TestGateAnyChangedByteIsInvalid(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	_, token := gateTicket(t, app, "10101", "opening", "E5")
	c := gateStaff(t, app, "gate")
	for i := range len(token) {
		for _, b := range []byte{token[i] ^ 0x01, 'A', '.'} {
			if b == token[i] {
				continue
			}
			forged := token[:i] + string([]byte{b}) + token[i+1:]
			if v := gateScanJSON(t, app, c, "north", forged, nil); v.Result != "invalid" || v.Seat != "" {
				t.Fatalf("byte %d changed to %q: %+v", i, b, v)
			}
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM check_ins`); n != 0 {
		t.Fatalf("forged tokens checked in %d tickets", n)
	}
	// The real one still gets in: the test would pass vacuously otherwise.
	if v := gateScanJSON(t, app, c, "north", token, nil); v.Result != "admitted" {
		t.Fatalf("the real token: %+v", v)
	}
}

// Only staff reach the gate: a student is sent to the staff sign-in, a
// signed-out or token-less scan changes nothing.
func TestGateAccess(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	_, token := gateTicket(t, app, "10101", "opening", "E6")
	logged := func() int { return app.Count(t, `SELECT count(*) FROM scan_log`) }

	student := app.NewClient(t)
	student.SignIn("10102") // audited as a sign-in, before the fingerprint
	before := app.Fingerprint(t)
	resp, _ := student.Do(mustRequest(t, http.MethodGet, app.URL+"/gate"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login?next=%2Fgate") {
		t.Errorf("student GET /gate: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	student.Get("/")
	if resp, _ := student.Do(gateScanRequest(app, student, "north", token, nil)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("student scan: %d", resp.StatusCode)
	}
	anon := app.NewClient(t)
	anon.Get("/")
	if resp, _ := anon.Do(gateScanRequest(app, anon, "north", token, nil)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out scan: %d", resp.StatusCode)
	}
	if resp, _ := anon.Do(mustRequest(t, http.MethodGet, app.URL+"/gate/lookup?performance=opening&gate=n&q=E6")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed-out lookup: %d", resp.StatusCode)
	}
	staff := gateStaff(t, app, "gate")
	noToken := gateScanRequest(app, staff, "north", token, nil)
	noToken.Header.Del("X-CSRF-Token")
	if resp, _ := staff.Do(noToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("scan without CSRF token: %d", resp.StatusCode)
	}
	if app.Fingerprint(t) != before || logged() != 0 {
		t.Error("a refused scan changed the database")
	}

	// Both staff roles reach the scanner; the header names them and offers
	// a sign-out instead of the sign-in link.
	for _, user := range []string{"gate", "council"} {
		c := gateStaff(t, app, user)
		resp, body := c.Do(mustRequest(t, http.MethodGet, app.URL+"/gate"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="performance"`) {
			t.Errorf("%s GET /gate: %d", user, resp.StatusCode)
		}
		if !strings.Contains(body, `action="/staff/logout"`) || !strings.Contains(body, ">"+user+"<") || strings.Contains(body, `href="/login"`) {
			t.Errorf("%s: the header does not show the staff member and a sign-out", user)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s GET /gate: Cache-Control %q", user, cc)
		}
	}
	// 'wasm-unsafe-eval' is allowed on the scanner only.
	resp, _ = staff.Do(mustRequest(t, http.MethodGet, app.URL+"/gate?performance=opening&gate=north"))
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "'wasm-unsafe-eval'") {
		t.Errorf("scanner CSP: %q", resp.Header.Get("Content-Security-Policy"))
	}
	resp, _ = staff.Do(mustRequest(t, http.MethodGet, app.URL+"/"))
	if strings.Contains(resp.Header.Get("Content-Security-Policy"), "wasm") {
		t.Errorf("home CSP allows WebAssembly: %q", resp.Header.Get("Content-Security-Policy"))
	}
}

// Bad doors and nonces are refused with a message and log nothing.
func TestGateRefusesBadInput(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	_, token := gateTicket(t, app, "10101", "opening", "E7")
	c := gateStaff(t, app, "gate")
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"no door", url.Values{"gate": {" "}}, 422, "입구 이름은 1~32자"},
		{"long door", url.Values{"gate": {strings.Repeat("문", 33)}}, 422, "입구 이름은 1~32자"},
		{"control character", url.Values{"gate": {"a\x00b"}}, 422, "입구 이름은 1~32자"},
		{"unknown performance", url.Values{"performance": {"nope"}}, 404, "그런 공연이 없어요"},
		{"bad nonce", url.Values{"nonce": {"short"}}, 400, "스캔 번호가"},
		{"no token", url.Values{"token": {"  "}}, 422, "읽은 티켓 토큰이 없어요"},
	} {
		req := gateScanRequest(app, c, "north", token, tc.form)
		req.Header.Set("Accept", "text/html")
		resp, body := c.Do(req)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %d with %q", tc.name, resp.StatusCode, tc.status, tc.want)
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM scan_log`); n != 0 {
		t.Errorf("%d refused scans were logged", n)
	}
}

// A scan resent with its nonce is applied once and answered the same.
func TestGateNonceReplay(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	_, token := gateTicket(t, app, "10101", "opening", "E8")
	c := gateStaff(t, app, "gate")
	nonce := url.Values{"nonce": {"n-0123456789abcdef"}}
	first := gateScanJSON(t, app, c, "north", token, nonce)
	second := gateScanJSON(t, app, c, "north", token, nonce)
	if first.Result != "admitted" || second.Result != "admitted" || first.Replayed || !second.Replayed {
		t.Fatalf("first %+v\nsecond %+v", first, second)
	}
	if n := app.Count(t, `SELECT count(*) FROM scan_log`); n != 1 {
		t.Errorf("%d scans logged for one nonce", n)
	}
}

// The manual lookup finds a ticket by seat or student number, and its
// admit button scans it like the QR would.
func TestGateLookup(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	gateTicket(t, app, "10101", "opening", "F3")
	c := gateStaff(t, app, "gate")
	formRE := regexp.MustCompile(`(?s)<form method="post" action="/gate/scan" data-scan-form>.*?name="token" value="([^"]+)"`)
	for _, q := range []string{"f3", "10101"} {
		req := mustRequest(t, http.MethodGet, app.URL+"/gate/lookup?performance=opening&gate=north&q="+q)
		req.Header.Set("HX-Request", "true")
		resp, body := c.Do(req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-lookup-seat="F3"`) || formRE.FindStringSubmatch(body) == nil {
			t.Fatalf("lookup %s: %d %s", q, resp.StatusCode, body)
		}
	}
	_, body := c.Get("/gate/lookup?performance=opening&gate=north&q=F3")
	m := formRE.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `id="scan-form"`) {
		t.Fatalf("lookup page: %s", body)
	}
	if v := gateScanJSON(t, app, c, "north", htmlUnescape(m[1]), nil); v.Result != "admitted" || v.Seat != "F3" {
		t.Errorf("admit from the lookup: %+v", v)
	}
	_, body = c.Get("/gate/lookup?performance=opening&gate=north&q=F3")
	if !strings.Contains(body, "north 입장") {
		t.Error("the lookup does not show that the ticket is in")
	}
	if _, body := c.Get("/gate/lookup?performance=opening&gate=north&q=Z99"); !strings.Contains(body, "Z99에 해당하는 티켓이 없어요") {
		t.Error("an empty lookup says nothing")
	}
	if _, body := c.Get("/gate/lookup?performance=opening&gate=north&q=hello"); !strings.Contains(body, "좌석(예: C12) 또는 학번") {
		t.Error("a malformed lookup says nothing")
	}
}

// Fifty scans of one ticket at two doors at the same instant: exactly one
// admitted, every other already used, one check-in row.
func TestGateConcurrentScansAdmitOnce(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	_, token := gateTicket(t, app, "10101", "opening", "G9")
	doors := []*apptest.Client{gateStaff(t, app, "gate"), gateStaff(t, app, "council")}
	const n = 50
	results := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := doors[i%2]
			req := gateScanRequest(app, c, []string{"north", "south"}[i%2], token, nil)
			<-start
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var v gateVerdict
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				t.Error(err)
			}
			results[i] = v.Result
		})
	}
	close(start)
	wg.Wait()
	admitted, used := 0, 0
	for _, r := range results {
		switch r {
		case "admitted":
			admitted++
		case "already-used":
			used++
		}
	}
	if admitted != 1 || used != n-1 {
		t.Errorf("%d admitted, %d already used of %d", admitted, used, n)
	}
	if got := app.Count(t, `SELECT count(*) FROM check_ins`); got != 1 {
		t.Errorf("%d check-in rows", got)
	}
	if got := app.Count(t, `SELECT count(*) FROM scan_log`); got != n {
		t.Errorf("%d scans logged, want %d", got, n)
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// The offline door's list, and its sync: a queued scan sent twice is
// applied once; a ticket admitted offline at two doors is reported as a
// duplicate to both (in the list every door refreshes).
func TestGateOfflineListAndSync(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	id, token := gateTicket(t, app, "10101", "opening", "K4")
	north, south := gateStaff(t, app, "gate"), gateStaff(t, app, "council")
	offline := func(c *apptest.Client, gate string) (list struct {
		Performance string            `json:"performance"`
		Titles      map[string]string `json:"titles"`
		Keys        map[string]string `json:"keys"`
		Tickets     map[string]struct {
			Seat, Name, No, In, Gate string
			Cancelled                bool
		} `json:"tickets"`
		Duplicates []struct {
			Seat      string `json:"seat"`
			FirstGate string `json:"first_gate"`
			Gate      string `json:"gate"`
		} `json:"duplicates"`
		GateCount int `json:"gate_count"`
	}) {
		t.Helper()
		req := mustRequest(t, http.MethodGet, app.URL+"/gate/offline?performance=opening&gate="+url.QueryEscape(gate))
		req.Header.Set("Accept", "application/json")
		resp, body := c.Do(req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
			t.Fatalf("GET /gate/offline: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		return list
	}
	list := offline(north, "north")
	for kid, pub := range app.Ring.PublicKeys() {
		if list.Keys[kid] != base64.RawURLEncoding.EncodeToString(pub) {
			t.Errorf("key %s: %q", kid, list.Keys[kid])
		}
	}
	if tk := list.Tickets[id]; tk.Seat != "K4" || tk.No != "10101" || tk.Name == "" || tk.In != "" || tk.Cancelled {
		t.Errorf("the list's ticket: %+v", tk)
	}
	if list.Titles["night"] != "밤 공연 Night Concert" {
		t.Errorf("titles: %v", list.Titles)
	}

	// North admitted it offline a minute ago; its sync is sent twice.
	at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	sync := url.Values{"nonce": {"north-sync-0000000001"}, "scanned_at": {at}, "local": {"admitted"}}
	for i := range 2 {
		v := gateScanJSON(t, app, north, "north", token, sync)
		if v.Result != "admitted" || v.Duplicate || v.Replayed != (i == 1) {
			t.Errorf("north sync %d: %+v", i, v)
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM scan_log WHERE offline`); n != 1 {
		t.Errorf("%d offline scans logged, want 1", n)
	}
	// South admitted the same ticket offline too: a duplicate.
	v := gateScanJSON(t, app, south, "south", token, url.Values{"nonce": {"south-sync-0000000001"}, "scanned_at": {at}, "local": {"admitted"}})
	if v.Result != "already-used" || !v.Duplicate || v.FirstGate != "north" {
		t.Errorf("south sync: %+v", v)
	}
	for _, door := range []struct {
		c    *apptest.Client
		gate string
	}{{north, "north"}, {south, "south"}} {
		l := offline(door.c, door.gate)
		if len(l.Duplicates) != 1 || l.Duplicates[0].Seat != "K4" || l.Duplicates[0].FirstGate != "north" || l.Duplicates[0].Gate != "south" {
			t.Errorf("%s's list does not report the duplicate: %+v", door.gate, l.Duplicates)
		}
		if tk := l.Tickets[id]; tk.In == "" || tk.Gate != "north" {
			t.Errorf("%s's list does not show the ticket in: %+v", door.gate, tk)
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM check_ins`); n != 1 {
		t.Errorf("%d check-ins", n)
	}

	// Offline details need a nonce and make sense, else nothing is logged.
	before := app.Count(t, `SELECT count(*) FROM scan_log`)
	for _, bad := range []url.Values{
		{"scanned_at": {at}, "local": {"admitted"}},
		{"nonce": {"bad-offline-000000001"}, "scanned_at": {"yesterday"}, "local": {"admitted"}},
		{"nonce": {"bad-offline-000000002"}, "scanned_at": {at}, "local": {"welcome"}},
	} {
		if resp, _ := north.Do(gateScanRequest(app, north, "north", token, bad)); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", bad, resp.StatusCode)
		}
	}
	if app.Count(t, `SELECT count(*) FROM scan_log`) != before {
		t.Error("a malformed offline scan was logged")
	}
	// Students do not get the list.
	st := app.NewClient(t)
	st.SignIn("10102")
	if resp, _ := st.Do(mustRequest(t, http.MethodGet, app.URL+"/gate/offline?performance=opening&gate=north")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("student GET /gate/offline: %d", resp.StatusCode)
	}
}

// The doors' counts are pushed live, across instances, through
// PostgreSQL: a scanner's socket on one instance gets every door's
// admissions and the total again when a ticket gets in at a door served by
// another instance (NOTIFY festa_seats "checkin:{id}" after the commit).
// The instances' periodic catch-up is an hour, so only the notification
// can carry it. A scan that admits nobody, or a resent one, sends
// nothing; only staff open the socket.
func TestGateCountsPushedLive(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3, LiveCatchUp: time.Hour})
	other := apptest.Serve(t, app.Store, app.Demo, apptest.Options{LiveCatchUp: time.Hour})
	_, t1 := gateTicket(t, app, "10101", "opening", "F1")
	_, t2 := gateTicket(t, app, "10102", "opening", "F2")
	north := gateStaff(t, app, "gate")
	south := gateStaff(t, app, "council")

	// The scanner page draws the tally its socket will keep current.
	_, page := north.Get("/gate?performance=opening&gate=north")
	for _, want := range []string{`ws-connect="/ws/gate/opening"`, `id="gate-tally"`, `data-total="0"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the scanner page lacks %s", want)
		}
	}

	dial := func(base string, c *apptest.Client) (*websocket.Conn, error) {
		opts := &websocket.DialOptions{}
		if c != nil {
			opts.HTTPClient = c.HTTP
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws/gate/opening", opts)
		return conn, err
	}
	// The north door's scanner, served by the other instance (sessions
	// live in the database, so its cookie holds there).
	conn, err := dial(other.URL, north)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	read := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no tally pushed: %v", err)
		}
		return string(msg)
	}
	if first := read(); !strings.Contains(first, `id="gate-tally"`) || !strings.Contains(first, `data-total="0"`) ||
		!strings.Contains(first, `hx-swap-oob="true"`) {
		t.Fatalf("the first message is not the tally: %s", first)
	}

	// A ticket gets in at the south door, on the first instance.
	if v := gateScanJSON(t, app, south, "south", t1, url.Values{"nonce": {"live-count-nonce-0001"}}); v.Result != db.Admitted {
		t.Fatalf("south scan: %s", v.Result)
	}
	msg := read()
	if !strings.Contains(msg, `data-total="1"`) || !strings.Contains(msg, `<data hidden value="1" data-gate="south">`) {
		t.Errorf("after the south door's admission the socket says %s", msg)
	}
	// The same scan resent, and the same ticket again: nothing moves, so
	// nothing is sent, and the next message is the north door's admission.
	gateScanJSON(t, app, south, "south", t1, url.Values{"nonce": {"live-count-nonce-0001"}})
	if v := gateScanJSON(t, app, south, "south", t1, nil); v.Result != db.AlreadyUsed {
		t.Fatalf("south rescan: %s", v.Result)
	}
	if v := gateScanJSON(t, app, north, "north", t2, nil); v.Result != db.Admitted {
		t.Fatalf("north scan: %s", v.Result)
	}
	msg = read()
	if !strings.Contains(msg, `data-total="2"`) || !strings.Contains(msg, `data-gate="north"`) || !strings.Contains(msg, `data-gate="south"`) {
		t.Errorf("after the north door's admission the socket says %s", msg)
	}

	// Only staff: a student's and a signed-out socket are refused before
	// any upgrade.
	student := app.NewClient(t)
	student.SignIn("10103")
	for who, c := range map[string]*apptest.Client{"student": student, "signed out": nil} {
		if conn, err := dial(app.URL, c); err == nil {
			conn.CloseNow()
			t.Errorf("a %s opened the gate socket", who)
		}
	}
}

// gateBench is a hall of tickets and ten signed-in doors, for the
// benchmarks below.
type gateBench struct {
	app    *apptest.App
	tokens []string
	doors  []*apptest.Client
}

// newGateBench sells every free seat of the opening performance (signed
// with the app's own key ring) and signs ten doors in.
func newGateBench(b *testing.B) *gateBench {
	app := apptest.Start(b, apptest.Options{Students: 600})
	ctx := b.Context()
	perf, err := app.Store.PerformanceBySlug(ctx, "opening")
	if err != nil {
		b.Fatal(err)
	}
	newID := func() (string, error) {
		id, err := tickets.NewID()
		return id.String(), err
	}
	sign := func(id, slug, seat string, at time.Time) (string, string, error) {
		tid, err := tickets.ParseID(id)
		if err != nil {
			return "", "", err
		}
		tok, err := app.Ring.Sign(tickets.Claims{TicketID: tid, Performance: slug, Seat: seat, IssuedAt: at})
		return strings.Split(tok, ".")[1], tok, err
	}
	var labels []string
	rows, _ := app.Store.Pool.Query(ctx, `SELECT s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND ps.state = 'available' ORDER BY s.y, s.x`, perf.ID)
	for rows.Next() {
		var l string
		rows.Scan(&l)
		labels = append(labels, l)
	}
	g := &gateBench{app: app}
	for i, st := range app.Demo.Students {
		if i >= len(labels) {
			break
		}
		var id int64
		app.Store.Pool.QueryRow(ctx, `SELECT id FROM students WHERE student_no = $1`, st.No).Scan(&id)
		a := db.Actor{Kind: "student", ID: id}
		if _, err := app.Store.Hold(ctx, perf.ID, labels[i], id, a); err != nil {
			b.Fatal(err)
		}
		ts, err := app.Store.Confirm(ctx, perf.ID, id, newID, sign, a)
		if err != nil {
			b.Fatal(err)
		}
		g.tokens = append(g.tokens, ts[0].Token)
	}
	password := ""
	for _, l := range app.Demo.Staff {
		if l.Username == "gate" {
			password = l.Password
		}
	}
	for d := range 10 {
		c := app.NewClient(b)
		c.Get("/staff/login")
		if resp, _ := authPost(app, c, "/staff/login", url.Values{"username": {"gate"}, "password": {password}}); resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("staff sign-in: %d", resp.StatusCode)
		}
		c.Get(fmt.Sprintf("/gate?performance=opening&gate=door-%d", d))
		g.doors = append(g.doors, c)
	}
	return g
}

// scan sends one scan from door d and returns how long the answer took.
func (g *gateBench) scan(b *testing.B, d int, token string) time.Duration {
	req := gateScanRequest(g.app, g.doors[d], fmt.Sprintf("door-%d", d), token, nil)
	t0 := time.Now()
	resp, err := g.doors[d].HTTP.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if resp.StatusCode != http.StatusOK {
		b.Errorf("scan: %d", resp.StatusCode)
	}
	return took
}

func reportLatency(b *testing.B, latency []time.Duration, elapsed time.Duration) {
	slices.Sort(latency)
	pct := func(p float64) float64 {
		return float64(latency[int(p*float64(len(latency)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latency))/elapsed.Seconds(), "scans/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(1), "max_ms")
}

// BenchmarkGateScan measures POST /gate/scan over HTTP as the scanner
// script sends it (JSON), from 10 doors scanning as fast as they can: the
// token verified, the verdict decided by festa_scan, the answer rendered.
// The first pass over the hall's tickets admits each one; later scans are
// already-used, which costs the same statement. docs/BENCHMARKS.md has the
// command and the figures.
func BenchmarkGateScan(b *testing.B) {
	g := newGateBench(b)
	var (
		next, door atomic.Int64
		mu         sync.Mutex
		latency    []time.Duration
	)
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((len(g.doors) + procs - 1) / procs)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		d := int(door.Add(1)-1) % len(g.doors)
		var mine []time.Duration
		for pb.Next() {
			mine = append(mine, g.scan(b, d, g.tokens[int(next.Add(1)-1)%len(g.tokens)]))
		}
		mu.Lock()
		latency = append(latency, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, latency, elapsed)
}

// watch opens n live seat-map viewers of the opening performance, each as
// a page drawn now would open it, reading (and dropping) whatever the
// server pushes until the benchmark ends.
func (g *gateBench) watch(b *testing.B, n int) {
	perf, err := g.app.Store.PerformanceBySlug(b.Context(), "opening")
	if err != nil {
		b.Fatal(err)
	}
	_, horizon, err := g.app.Store.PerformanceSeats(b.Context(), perf.ID)
	if err != nil {
		b.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(g.app.URL, "http") + fmt.Sprintf("/ws/p/opening?v=%d&t=%d", horizon, time.Now().Unix())
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, _, err := websocket.Dial(b.Context(), url, &websocket.DialOptions{CompressionMode: websocket.CompressionNoContextTakeover})
			if err != nil {
				b.Error(err)
				return
			}
			b.Cleanup(func() { c.CloseNow() })
			go func() {
				for {
					if _, _, err := c.Read(context.Background()); err != nil {
						return
					}
				}
			}()
		})
	}
	wg.Wait()
	// The viewers are counted once the hub has them; wait for all.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		live := apptest.Metric(b, g.app.Registry, "festa_live_viewers")
		if live >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%v of %d viewers connected", live, n)
		}
	}
}

// BenchmarkGateScanPaced is the issue's load: 10 doors each scanning 3
// tickets a second, every door on its own steady clock, for b.N seconds,
// while 2,000 viewers keep the live seat map open. It reports the latency
// a door sees at that pace.
func BenchmarkGateScanPaced(b *testing.B) {
	g := newGateBench(b)
	g.watch(b, 2000)
	var (
		next    atomic.Int64
		mu      sync.Mutex
		latency []time.Duration
		wg      sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for d := range g.doors {
		wg.Go(func() {
			tick := time.NewTicker(time.Second / 3)
			defer tick.Stop()
			// Doors start spread over the first third of a second, as real
			// doors are not in step.
			time.Sleep(time.Duration(d) * time.Second / 30)
			var mine []time.Duration
			for range 3 * b.N {
				<-tick.C
				mine = append(mine, g.scan(b, d, g.tokens[int(next.Add(1)-1)%len(g.tokens)]))
			}
			mu.Lock()
			latency = append(latency, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, latency, elapsed)
}

// gateGuestTicket gives seat of the opening performance, held back first,
// to a guest named name with the desk's own database functions, signed
// with the app's key ring, and returns the ticket's id and token.
func gateGuestTicket(t *testing.T, app *apptest.App, seatLabel, name string) (id, token string) {
	t.Helper()
	ctx := context.Background()
	perf := int64(app.Count(t, `SELECT id FROM performances WHERE slug = 'opening'`))
	council := db.Actor{Kind: "staff", ID: int64(app.Count(t, `SELECT id FROM staff WHERE username = 'council'`))}
	if err := app.Store.ReserveSeat(ctx, perf, seatLabel, true, council, "내빈석"); err != nil {
		t.Fatalf("reserve %s: %v", seatLabel, err)
	}
	newID := func() (string, error) {
		id, err := tickets.NewID()
		return id.String(), err
	}
	sign := func(id, performance, seat string, at time.Time) (string, string, error) {
		tid, err := tickets.ParseID(id)
		if err != nil {
			return "", "", err
		}
		token, err := app.Ring.Sign(tickets.Claims{TicketID: tid, Performance: performance, Seat: seat, IssuedAt: at})
		return strings.Split(token, ".")[1], token, err
	}
	id, err := app.Store.IssueGuestTicket(ctx, perf, seatLabel, name, newID, sign, council, "초청")
	if err != nil {
		t.Fatalf("guest ticket %s: %v", seatLabel, err)
	}
	if err := app.Store.Pool.QueryRow(ctx, `SELECT token FROM tickets WHERE id = $1::uuid`, id).Scan(&token); err != nil {
		t.Fatal(err)
	}
	return id, token
}

// A guest's ticket at the door: in the offline list with the guest's
// name and the guest mark, found by the manual lookup by its seat,
// admitted once with the guest's name and the guest label where a
// student's class would be, then already used.
func TestGateGuestTicket(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	id, token := gateGuestTicket(t, app, "B5", "김손님")
	c := gateStaff(t, app, "gate")

	req := mustRequest(t, http.MethodGet, app.URL+"/gate/offline?performance=opening&gate=north")
	req.Header.Set("Accept", "application/json")
	resp, body := c.Do(req)
	var list struct {
		Tickets map[string]struct {
			Seat, Name, No string
			Guest          bool
		} `json:"tickets"`
	}
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /gate/offline: %d %v", resp.StatusCode, err)
	}
	if tk, ok := list.Tickets[id]; !ok || tk.Seat != "B5" || tk.Name != "김손님" || tk.No != "" || !tk.Guest {
		t.Errorf("the guest in the offline list: %+v (listed %v)", tk, ok)
	}

	req = mustRequest(t, http.MethodGet, app.URL+"/gate/lookup?performance=opening&gate=north&q=b5")
	req.Header.Set("HX-Request", "true")
	resp, body = c.Do(req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-lookup-seat="B5"`) || !strings.Contains(body, "김손님") ||
		!strings.Contains(body, `data-guest>손님</span>`) || !strings.Contains(body, `value="`+token+`"`) {
		t.Fatalf("lookup B5: %d %s", resp.StatusCode, body)
	}

	v := gateScanJSON(t, app, c, "north", token, nil)
	if v.Result != "admitted" || v.Seat != "B5" || v.StudentName != "김손님" || v.StudentNo != "" ||
		!strings.Contains(v.HTML, "김손님") || !strings.Contains(v.HTML, `data-guest>손님</p>`) {
		t.Fatalf("the guest's scan: %+v", v)
	}
	if v := gateScanJSON(t, app, c, "south", token, nil); v.Result != "already-used" || v.StudentName != "김손님" || v.FirstGate != "north" {
		t.Errorf("the guest's second scan: %+v", v)
	}
	// A student's admission has the class, never the guest label.
	_, student := gateTicket(t, app, "10101", "opening", "B6")
	if v := gateScanJSON(t, app, c, "north", student, nil); v.Result != "admitted" || strings.Contains(v.HTML, "data-guest") ||
		!strings.Contains(v.HTML, "1학년 1반 1번") {
		t.Errorf("the student's scan: %+v", v)
	}
}

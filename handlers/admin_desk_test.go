package handlers_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"festa/apptest"
)

// deskCouncil is a council client with the desk's CSRF token.
func deskCouncil(t *testing.T, app *apptest.App) *apptest.Client {
	t.Helper()
	c := gateStaff(t, app, "council")
	if status, _ := c.Get("/admin/desk"); status != http.StatusOK {
		t.Fatalf("desk: %d", status)
	}
	return c
}

// deskPost posts an action as htmx does and returns the status, the
// message (the body) and the HX-Redirect.
func deskPost(t *testing.T, app *apptest.App, c *apptest.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	req := htmxPost(t, app, c, path, form)
	resp, body := c.Do(req)
	return resp.StatusCode, body, resp.Header.Get("HX-Redirect")
}

func deskSeat(t *testing.T, app *apptest.App, perf, label string) (state string, student *int64) {
	t.Helper()
	err := app.Store.Pool.QueryRow(context.Background(), `SELECT ps.state, ps.student_id FROM performance_seats ps
		JOIN seats s ON s.id = ps.seat_id JOIN performances p ON p.id = ps.performance_id
		WHERE p.slug = $1 AND s.label = $2`, perf, label).Scan(&state, &student)
	if err != nil {
		t.Fatal(err)
	}
	return state, student
}

// deskAuditCount counts audit rows of action on seat by the council with
// the reason.
func deskAuditCount(t *testing.T, app *apptest.App, action, seat, reason string) int {
	t.Helper()
	return app.Count(t, `SELECT count(*) FROM audit_log a JOIN staff s ON s.id = a.actor_id
		WHERE a.actor_kind = 'staff' AND s.username = 'council' AND a.action = $1 AND a.seat_label = $2
		  AND a.after->>'reason' = $3`, action, seat, reason)
}

// Moving a ticket keeps every seat rule: a seat being picked, a sold seat,
// the sound desk, a seat the council holds back, a seat that does not
// exist, the same seat and another performance's seat are refused with a
// clear message and change nothing; a move to a free seat keeps the
// ticket's id and holder, signs its token for the new seat (the old QR is
// refused at the door), frees the old seat and writes two audit rows with
// the council member and the reason.
func TestDeskMoveFollowsEverySeatRule(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 5})
	council := deskCouncil(t, app)
	owner := app.Demo.Students[0]
	id, oldToken := gateTicket(t, app, owner.No, "opening", "C12")
	gateTicket(t, app, app.Demo.Students[1].No, "opening", "C15")
	picker := app.NewClient(t)
	picker.SignIn(app.Demo.Students[2].No)
	if status, _ := picker.Post("/p/opening/hold", seat("C13"), true); status != http.StatusOK {
		t.Fatal("hold C13")
	}
	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/D1/reserve", url.Values{"reason": {"내빈석"}}); status != http.StatusOK {
		t.Fatalf("reserve D1: %d %s", status, body)
	}

	move := "/admin/desk/tickets/" + id + "/move"
	before := app.Fingerprint(t)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"a seat being picked", url.Values{"seat": {"C13"}, "performance": {"opening"}, "reason": {"r"}}, 409, "이미 누가 선택했거나 판매된"},
		{"a sold seat", url.Values{"seat": {"C15"}, "performance": {"opening"}, "reason": {"r"}}, 409, "이미 누가 선택했거나 판매된"},
		{"the sound desk", url.Values{"seat": {"P13"}, "performance": {"opening"}, "reason": {"r"}}, 409, "막힌 좌석"},
		{"a seat held back", url.Values{"seat": {"D1"}, "performance": {"opening"}, "reason": {"r"}}, 409, "막힌 좌석"},
		{"no such seat", url.Values{"seat": {"Z99"}, "performance": {"opening"}, "reason": {"r"}}, 422, "Z99 좌석이 없어요"},
		{"the same seat", url.Values{"seat": {"C12"}, "performance": {"opening"}, "reason": {"r"}}, 422, "이미 C12에"},
		{"another performance's seat", url.Values{"seat": {"C14"}, "performance": {"night"}, "reason": {"r"}}, 422, "다른 공연의 좌석으로는"},
		{"a malformed seat", url.Values{"seat": {"12C"}, "performance": {"opening"}, "reason": {"r"}}, 422, "C12처럼"},
		{"no reason", url.Values{"seat": {"C14"}, "performance": {"opening"}}, 422, "이유를 적어 주세요"},
	} {
		status, body, _ := deskPost(t, app, council, move, tc.form)
		if status != tc.status || !strings.Contains(body, tc.says) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, status, tc.status, tc.says, body)
		}
	}
	if app.Fingerprint(t) != before {
		t.Fatal("a refused move changed something")
	}

	status, body, to := deskPost(t, app, council, move, url.Values{"seat": {"c14"}, "performance": {"opening"}, "reason": {"시야 가림"}, "back": {"/admin/desk?q=" + owner.No}})
	if status != http.StatusOK || to != "/admin/desk?q="+owner.No {
		t.Fatalf("move: %d %q\n%s", status, to, body)
	}
	if st, _ := deskSeat(t, app, "opening", "C12"); st != "available" {
		t.Errorf("C12 is %s after the move", st)
	}
	if st, who := deskSeat(t, app, "opening", "C14"); st != "sold" || who == nil {
		t.Errorf("C14 is %s (student %v) after the move", st, who)
	}
	var newToken, seatNow string
	app.Store.Pool.QueryRow(context.Background(), `SELECT t.token, s.label FROM tickets t JOIN seats s ON s.id = t.seat_id
		WHERE t.id = $1 AND t.status = 'active'`, id).Scan(&newToken, &seatNow)
	claims, err := app.Ring.Verify(newToken)
	if seatNow != "C14" || err != nil || claims.Seat != "C14" || claims.TicketID.String() != id {
		t.Errorf("the ticket is now %s with claims %+v (%v)", seatNow, claims, err)
	}
	for _, label := range []string{"C12", "C14"} {
		if n := deskAuditCount(t, app, "move", label, "시야 가림"); n != 1 {
			t.Errorf("%d move audit rows for %s, want 1", n, label)
		}
	}
	// The projection screen's ticker tells the move once, at the new seat.
	var perfID int64
	app.Store.Pool.QueryRow(context.Background(), `SELECT id FROM performances WHERE slug = 'opening'`).Scan(&perfID)
	stats, err := app.Store.ScreenStats(context.Background(), perfID)
	if err != nil || len(stats.Recent) == 0 || stats.Recent[0].Kind != "moved" || stats.Recent[0].Seat != "C14" ||
		(len(stats.Recent) > 1 && stats.Recent[1].Kind == "moved") {
		t.Errorf("the screen's ticker after the move: %+v (%v)", stats.Recent, err)
	}
	// The student's own page shows the new seat and the new QR; the door
	// refuses the old one and admits the new one.
	student := app.NewClient(t)
	student.SignIn(owner.No)
	if _, page := student.Get("/tickets/" + id); !strings.Contains(page, newToken) || !strings.Contains(page, "C14") {
		t.Error("the student's ticket page does not show the move")
	}
	if v := gateScanJSON(t, app, council, "north", oldToken, nil); v.Result != "invalid" {
		t.Errorf("the old QR: %s", v.Result)
	}
	if v := gateScanJSON(t, app, council, "north", newToken, nil); v.Result != "admitted" || v.Seat != "C14" {
		t.Errorf("the new QR: %+v", v)
	}
	// The desk notice follows the redirect once.
	if _, page := council.Get(to); !strings.Contains(page, "C12에서 C14(으)로 옮겼어요") {
		t.Error("no notice after the move")
	}
	if _, page := council.Get(to); strings.Contains(page, "옮겼어요") {
		t.Error("the notice came back")
	}
}

// Cancelling at the desk works while sales are paused, frees the seat and
// is audited with the reason; a cancelled ticket and one used at the door
// are refused. Releasing a stuck hold frees it and is audited; a seat with
// no hold is refused.
func TestDeskCancelAndReleaseAHold(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 4})
	council := deskCouncil(t, app)
	id, _ := gateTicket(t, app, app.Demo.Students[0].No, "opening", "E5")
	usedID, usedToken := gateTicket(t, app, app.Demo.Students[1].No, "opening", "E6")
	gateScanJSON(t, app, council, "north", usedToken, nil)
	picker := app.NewClient(t)
	picker.SignIn(app.Demo.Students[2].No)
	if status, _ := picker.Post("/p/opening/hold", seat("E7"), true); status != http.StatusOK {
		t.Fatal("hold E7")
	}
	app.Exec(t, `UPDATE performances SET paused = true, pause_message = '점검' WHERE slug = 'opening'`)

	before := app.Fingerprint(t)
	if status, body, _ := deskPost(t, app, council, "/admin/desk/tickets/"+id+"/cancel", url.Values{"reason": {"  "}}); status != 422 || !strings.Contains(body, "이유를 적어 주세요") {
		t.Errorf("cancel without a reason: %d %s", status, body)
	}
	if status, body, _ := deskPost(t, app, council, "/admin/desk/tickets/"+usedID+"/cancel", url.Values{"reason": {"r"}}); status != 409 || !strings.Contains(body, "이미 입구에서 입장한") {
		t.Errorf("cancel a used ticket: %d %s", status, body)
	}
	if app.Fingerprint(t) != before {
		t.Fatal("a refused cancel changed something")
	}
	if status, body, _ := deskPost(t, app, council, "/admin/desk/tickets/"+id+"/cancel", url.Values{"reason": {"학생 요청"}}); status != http.StatusOK {
		t.Fatalf("cancel: %d %s", status, body)
	}
	if st, _ := deskSeat(t, app, "opening", "E5"); st != "available" {
		t.Errorf("E5 is %s", st)
	}
	if n := app.Count(t, `SELECT count(*) FROM tickets WHERE id = $1 AND status = 'cancelled'`, id); n != 1 {
		t.Error("the ticket is not cancelled")
	}
	if n := deskAuditCount(t, app, "cancel", "E5", "학생 요청"); n != 1 {
		t.Errorf("%d cancel audit rows", n)
	}
	if status, body, _ := deskPost(t, app, council, "/admin/desk/tickets/"+id+"/cancel", url.Values{"reason": {"r"}}); status != 409 || !strings.Contains(body, "이미 취소된") {
		t.Errorf("cancel twice: %d %s", status, body)
	}

	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/E7/release", url.Values{"reason": {"휴대폰 분실"}}); status != http.StatusOK {
		t.Fatalf("release: %d %s", status, body)
	}
	if st, _ := deskSeat(t, app, "opening", "E7"); st != "available" {
		t.Errorf("E7 is %s", st)
	}
	if n := deskAuditCount(t, app, "release", "E7", "휴대폰 분실"); n != 1 {
		t.Errorf("%d release audit rows", n)
	}
	before = app.Fingerprint(t)
	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/E7/release", url.Values{"reason": {"r"}}); status != 409 || !strings.Contains(body, "선택이 없어요") {
		t.Errorf("release a free seat: %d %s", status, body)
	}
	if app.Fingerprint(t) != before {
		t.Fatal("a refused release changed something")
	}
}

var deskPrintQR = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

// A guest's ticket comes from a seat the council holds back: a free seat
// or the sound desk is refused; a held-back seat cannot be picked by a
// student; the guest's ticket is named, prints on one page with the QR,
// is admitted at the door with the guest's name, and can be cancelled.
func TestDeskGuestTicket(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	council := deskCouncil(t, app)
	guest := url.Values{"guest": {"김손님"}, "reason": {"교장 선생님 손님"}}

	before := app.Fingerprint(t)
	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/B3/guest", guest); status != 409 || !strings.Contains(body, "학생회 몫이 아니에요") {
		t.Errorf("a guest on a free seat: %d %s", status, body)
	}
	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/P13/guest", guest); status != 409 || !strings.Contains(body, "설비 자리") {
		t.Errorf("a guest on the sound desk: %d %s", status, body)
	}
	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/P13/reserve", url.Values{"reason": {"r"}}); status != 409 || !strings.Contains(body, "설비 자리") {
		t.Errorf("reserve the sound desk: %d %s", status, body)
	}
	if app.Fingerprint(t) != before {
		t.Fatal("a refused guest ticket changed something")
	}

	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/B3/reserve", url.Values{"reason": {"내빈석"}}); status != http.StatusOK {
		t.Fatalf("reserve: %d %s", status, body)
	}
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	if status, _ := student.Post("/p/opening/hold", seat("B3"), true); status < 400 {
		t.Errorf("a student held a seat the council holds back: %d", status)
	}
	if status, body, to := deskPost(t, app, council, "/admin/desk/p/opening/seats/B3/guest", url.Values{"guest": {"김손님"}, "reason": {"교장 선생님 손님"}, "back": {"/admin/desk/p/opening/seats/B3"}}); status != http.StatusOK || to != "/admin/desk/p/opening/seats/B3" {
		t.Fatalf("guest ticket: %d %q %s", status, to, body)
	}
	var id, token string
	app.Store.Pool.QueryRow(context.Background(), `SELECT id::text, token FROM tickets WHERE guest_name = '김손님' AND student_id IS NULL AND status = 'active'`).Scan(&id, &token)
	if id == "" {
		t.Fatal("no guest ticket")
	}
	if st, who := deskSeat(t, app, "opening", "B3"); st != "sold" || who != nil {
		t.Errorf("B3 is %s (student %v)", st, who)
	}
	if n := deskAuditCount(t, app, "issue_guest", "B3", "교장 선생님 손님"); n != 1 {
		t.Errorf("%d guest audit rows", n)
	}
	if _, page := council.Get("/admin/desk/p/opening/seats/B3"); !strings.Contains(page, "김손님") || !strings.Contains(page, "B3 티켓을 손님 김손님에게 발급했어요") {
		t.Error("the seat's page does not show the guest and the notice")
	}

	status, page := council.Get("/admin/desk/tickets/" + id + "/print")
	m := deskPrintQR.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil || !strings.Contains(page, "손님 김손님") || !strings.Contains(page, "css/ticket-print.") {
		t.Fatalf("print: %d\n%s", status, page)
	}
	png, _ := base64.StdEncoding.DecodeString(m[1])
	if got := decodeQR(t, png); got != token {
		t.Errorf("the printed QR reads %q, want the ticket's token", got)
	}
	if v := gateScanJSON(t, app, council, "north", token, nil); v.Result != "admitted" || v.StudentName != "김손님" || v.Seat != "B3" {
		t.Errorf("the guest at the door: %+v", v)
	}
	id2, _ := gateTicketGuestless(t, app, council)
	if status, body, _ := deskPost(t, app, council, "/admin/desk/tickets/"+id2+"/cancel", url.Values{"reason": {"취소"}}); status != http.StatusOK {
		t.Errorf("cancel a guest ticket: %d %s", status, body)
	}
	if st, who := deskSeat(t, app, "opening", "B4"); st != "available" || who != nil {
		t.Errorf("B4 after cancelling the guest's ticket: %s", st)
	}
}

// gateTicketGuestless issues a guest ticket for B4 (reserved first) and
// returns its id.
func gateTicketGuestless(t *testing.T, app *apptest.App, council *apptest.Client) (string, string) {
	t.Helper()
	deskPost(t, app, council, "/admin/desk/p/opening/seats/B4/reserve", url.Values{"reason": {"r"}})
	if status, body, _ := deskPost(t, app, council, "/admin/desk/p/opening/seats/B4/guest", url.Values{"guest": {"이손님"}, "reason": {"r"}}); status != http.StatusOK {
		t.Fatalf("guest B4: %d %s", status, body)
	}
	var id, token string
	app.Store.Pool.QueryRow(context.Background(), `SELECT id::text, token FROM tickets WHERE guest_name = '이손님'`).Scan(&id, &token)
	return id, token
}

// The desk finds a student by number and by a part of the name, and a
// seat of the chosen performance, and says so when nothing matches.
func TestDeskFindsStudentsAndSeats(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := deskCouncil(t, app)
	st := app.Demo.Students[0]
	gateTicket(t, app, st.No, "opening", "F8")

	_, page := council.Get("/admin/desk?q=" + st.No)
	if !strings.Contains(page, `id="desk-student"`) || !strings.Contains(page, st.Name) || !strings.Contains(page, `data-ticket-status="active"`) || !strings.Contains(page, "F8") {
		t.Errorf("by number: %s", page)
	}
	if !strings.Contains(page, `data-action="confirm"`) {
		t.Error("the student's trail lacks the confirm")
	}
	name := []rune(st.Name)
	_, page = council.Get("/admin/desk?q=" + url.QueryEscape(string(name[1:])))
	if !strings.Contains(page, `data-student="`+st.No+`"`) {
		t.Errorf("by a part of the name %q: %s", string(name[1:]), page)
	}
	_, page = council.Get("/admin/desk?q=f8&performance=opening")
	if !strings.Contains(page, `id="desk-seat"`) || !strings.Contains(page, `data-seat="F8"`) || !strings.Contains(page, `data-state="sold"`) || !strings.Contains(page, st.Name) {
		t.Errorf("by seat: %s", page)
	}
	_, page = council.Get("/admin/desk?q=F8&performance=night")
	if !strings.Contains(page, `data-state="available"`) {
		t.Error("the seat search did not look in the chosen performance")
	}
	for q, says := range map[string]string{"99999": "학번 99999인 학생이 없어요", "없는이름": "맞는 학생이 없어요", "Z99": "Z99 좌석이 없어요"} {
		if _, page := council.Get("/admin/desk?q=" + url.QueryEscape(q)); !strings.Contains(page, says) {
			t.Errorf("%s: no %q", q, says)
		}
	}
}

// Every desk route is the council's: gate staff and students are refused,
// signed out goes to the staff sign-in (a POST gets 401), and a council
// POST without its CSRF token is refused; none of them changes anything.
func TestDeskRoutesAreTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := deskCouncil(t, app)
	id, _ := gateTicket(t, app, app.Demo.Students[0].No, "opening", "G5")
	gets := []string{"/admin/desk", "/admin/desk?q=G5", "/admin/desk/p/opening/seats/G5", "/admin/desk/tickets/" + id + "/print"}
	posts := []string{"/admin/desk/tickets/" + id + "/cancel", "/admin/desk/tickets/" + id + "/move",
		"/admin/desk/p/opening/seats/G6/release", "/admin/desk/p/opening/seats/G6/reserve",
		"/admin/desk/p/opening/seats/G6/unreserve", "/admin/desk/p/opening/seats/G6/guest"}
	form := url.Values{"reason": {"r"}, "seat": {"G7"}, "performance": {"opening"}, "guest": {"x"}}

	gate := gateStaff(t, app, "gate")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[1].No)
	anon := app.NewClient(t)
	anon.Get("/")
	before := app.Fingerprint(t)
	for _, p := range gets {
		if status, _ := council.Get(p); status != http.StatusOK {
			t.Errorf("council GET %s: %d", p, status)
		}
		if status, _ := gate.Get(p); status != http.StatusForbidden {
			t.Errorf("gate GET %s: %d", p, status)
		}
		if status, _ := student.Get(p); status != http.StatusForbidden && status != http.StatusSeeOther {
			t.Errorf("student GET %s: %d", p, status)
		}
		resp, _ := anon.Do(mustRequest(t, http.MethodGet, app.URL+p))
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login") {
			t.Errorf("signed out GET %s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, p := range posts {
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student, "signed out": anon} {
			if status, _ := c.Post(p, form, false); status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d", name, p, status)
			}
		}
		bad := url.Values{"_csrf": {"forged"}}
		for k, v := range form {
			bad[k] = v
		}
		if status, _ := council.Post(p, bad, false); status != http.StatusForbidden {
			t.Errorf("council POST %s with a forged token: %d", p, status)
		}
	}
	if app.Fingerprint(t) != before {
		t.Fatal("a refused request changed something")
	}
}

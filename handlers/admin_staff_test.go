package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"festa/apptest"
)

// staffState digests the staff table and the audit log's size: what a
// refused staff request must leave alone.
func staffState(t *testing.T, app *apptest.App) string {
	t.Helper()
	var s string
	if err := app.Store.Pool.QueryRow(context.Background(), `SELECT concat((SELECT string_agg(concat_ws('|', id, username, role, enabled, password_hash), ',' ORDER BY id) FROM staff),
		'#', (SELECT count(*) FROM audit_log))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func staffAccountID(t *testing.T, app *apptest.App, username string) string {
	t.Helper()
	return strconv.Itoa(app.Count(t, `SELECT id::int FROM staff WHERE username = $1`, username))
}

// staffSignIn tries username/password at /staff/login on a fresh client
// and returns the status (303 is signed in).
func staffSignIn(t *testing.T, app *apptest.App, username, password string) int {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/staff/login")
	resp, _ := authPost(app, c, "/staff/login", url.Values{"username": {username}, "password": {password}})
	return resp.StatusCode
}

// Only the council reaches the staff pages: a gate account, a student and
// anyone signed out are refused, and so is a POST without its CSRF token;
// nothing refused changes anything.
func TestStaffPagesAreTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	council := gateStaff(t, app, "council")
	gate := gateStaff(t, app, "gate")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	student.Get("/")
	anon := app.NewClient(t)
	anon.Get("/")
	gateID := staffAccountID(t, app, "gate")
	posts := []adminRoute{
		{"POST", "/admin/staff", url.Values{"username": {"newdoor"}, "role": {"gate"}, "password": {"a long password"}}},
		{"POST", "/admin/staff/" + gateID + "/disable", nil},
		{"POST", "/admin/staff/" + gateID + "/enable", nil},
		{"POST", "/admin/staff/" + gateID + "/role", url.Values{"role": {"council"}}},
		{"POST", "/admin/staff/" + gateID + "/password", url.Values{"password": {"another long one"}}},
	}
	before := staffState(t, app)
	if status, _ := gate.Get("/admin/staff"); status != http.StatusForbidden {
		t.Errorf("gate GET /admin/staff: %d", status)
	}
	for name, c := range map[string]*apptest.Client{"student": student, "signed out": anon} {
		if resp, _ := c.Do(mustRequest(t, http.MethodGet, app.URL+"/admin/staff")); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s GET /admin/staff: %d", name, resp.StatusCode)
		}
	}
	for _, r := range posts {
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student, "signed out": anon} {
			if status, _ := c.Post(r.path, clone(r.form), false); status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", name, r.path, status)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, app.URL+r.path, strings.NewReader(r.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, _ := council.Do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("council POST %s without a token: %d", r.path, resp.StatusCode)
		}
	}
	if staffState(t, app) != before {
		t.Fatal("a refused staff request changed something")
	}
	status, body := council.Get("/admin/staff")
	if status != http.StatusOK || !strings.Contains(body, `data-staff="council"`) || !strings.Contains(body, `href="/admin/staff"`) {
		t.Fatalf("council GET /admin/staff: %d\n%.500s", status, body)
	}
	if strings.Contains(body, "argon2id") {
		t.Fatal("the page shows a password hash")
	}
}

// The council adds an account that signs in; disabling it stops it
// signing in; a reset password works and the old one does not; the last
// council account is refused in words and nothing changes; every change
// is audited.
func TestStaffManagement(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	council := gateStaff(t, app, "council")
	council.Get("/admin/staff")
	audits := app.Count(t, `SELECT count(*)::int FROM audit_log WHERE action LIKE 'staff_%'`)

	// Refused adds: short password, bad name, bad role, a taken name.
	before := staffState(t, app)
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"username": {"door2"}, "role": {"gate"}, "password": {"short"}}, "비밀번호는 10자 이상이어야 해요."},
		{url.Values{"username": {"Door 2"}, "role": {"gate"}, "password": {"long enough!"}}, "아이디는 영문 소문자"},
		{url.Values{"username": {"door2"}, "role": {"root"}, "password": {"long enough!"}}, "역할은 학생회 또는 입구 담당"},
		{url.Values{"username": {"gate"}, "role": {"gate"}, "password": {"long enough!"}}, "gate 아이디는 이미 있어요."},
	} {
		status, body := council.Post("/admin/staff", tc.form, false)
		if status < 400 || !strings.Contains(body, tc.want) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("add %v: %d, want a refusal with %q", tc.form, status, tc.want)
		}
		if strings.Contains(body, tc.form.Get("password")) && tc.form.Get("password") != "short" {
			t.Errorf("add %v: the password came back", tc.form)
		}
	}
	if staffState(t, app) != before {
		t.Fatal("a refused add changed something")
	}

	status, body := council.Post("/admin/staff", url.Values{"username": {"Door2"}, "role": {"gate"}, "password": {"first password 1"}}, false)
	if status != http.StatusOK || !strings.Contains(body, `data-staff="door2"`) || strings.Contains(body, "first password 1") {
		t.Fatalf("add door2: %d", status)
	}
	if s := staffSignIn(t, app, "door2", "first password 1"); s != http.StatusSeeOther {
		t.Fatalf("new account signs in: %d", s)
	}
	id := staffAccountID(t, app, "door2")
	// The audit viewer names the action in words.
	if status, body := council.Get("/admin/audit?action=staff_add"); status != http.StatusOK || !strings.Contains(body, "운영진 계정 추가") || strings.Contains(body, "argon2") {
		t.Errorf("audit viewer for staff_add: %d", status)
	}
	// door2 signed in on a phone: disabling the account signs it out there.
	phone := app.NewClient(t)
	phone.Get("/staff/login")
	authPost(app, phone, "/staff/login", url.Values{"username": {"door2"}, "password": {"first password 1"}})
	if status, _ := phone.Get("/gate"); status != http.StatusOK {
		t.Fatalf("door2 at the gate: %d", status)
	}

	// Disabled: cannot sign in; enabled again: can.
	if status, body := council.Post("/admin/staff/"+id+"/disable", nil, false); status != http.StatusOK || !strings.Contains(body, `data-staff="door2" data-staff-role="gate" data-staff-state="disabled"`) {
		t.Fatalf("disable: %d", status)
	}
	if s := staffSignIn(t, app, "door2", "first password 1"); s != http.StatusForbidden {
		t.Errorf("a disabled account signs in: %d", s)
	}
	if resp, _ := phone.Do(mustRequest(t, http.MethodGet, app.URL+"/gate")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled account's open session still reaches the gate: %d", resp.StatusCode)
	}
	council.Post("/admin/staff/"+id+"/enable", nil, false)

	// Reset: the new password works, the old one does not.
	if status, body := council.Post("/admin/staff/"+id+"/password", url.Values{"password": {"second password 2"}}, false); status != http.StatusOK || strings.Contains(body, "second password 2") {
		t.Fatalf("reset: %d", status)
	}
	if s := staffSignIn(t, app, "door2", "second password 2"); s != http.StatusSeeOther {
		t.Errorf("the reset password: %d", s)
	}
	if s := staffSignIn(t, app, "door2", "first password 1"); s != http.StatusUnauthorized {
		t.Errorf("the old password after a reset: %d", s)
	}
	if status, _ := council.Post("/admin/staff/"+id+"/password", url.Values{"password": {"short"}}, false); status != http.StatusUnprocessableEntity {
		t.Errorf("a short reset: %d", status)
	}

	// The last council account: refused in words, in Korean and English.
	me := staffAccountID(t, app, "council")
	before = staffState(t, app)
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/admin/staff/" + me + "/disable", nil},
		{"/admin/staff/" + me + "/role", url.Values{"role": {"gate"}}},
	} {
		status, body := council.Post(tc.path, tc.form, false)
		if status != http.StatusConflict || !strings.Contains(body, "사용 중인 학생회 계정이 하나뿐이라") {
			t.Errorf("%s: %d, want 409 with the reason", tc.path, status)
		}
	}
	council.Lang = "en"
	if _, body := council.Post("/admin/staff/"+me+"/disable", nil, false); !strings.Contains(body, "only active council account") {
		t.Error("the last-council refusal is not in English")
	}
	council.Lang = "ko"
	if staffState(t, app) != before {
		t.Fatal("a refused last-council change changed something")
	}

	// With door2 promoted, the first council account may step down.
	if status, _ := council.Post("/admin/staff/"+id+"/role", url.Values{"role": {"council"}}, false); status != http.StatusOK {
		t.Fatalf("promote: %d", status)
	}
	if status, body := council.Post("/admin/staff/"+me+"/role", url.Values{"role": {"gate"}}, false); status != http.StatusOK || !strings.Contains(body, `data-staff="council" data-staff-role="gate"`) {
		t.Fatalf("demote with another council: %d", status)
	}
	if status, _ := council.Post("/admin/staff/999999/disable", nil, false); status != http.StatusNotFound {
		t.Errorf("unknown account: %d", status)
	}

	// add, disable, enable, password, promote, demote.
	if n := app.Count(t, `SELECT count(*)::int FROM audit_log WHERE action LIKE 'staff_%' AND actor_kind = 'staff'
		AND actor_id = $1::bigint`, me) - audits; n != 6 {
		t.Errorf("%d staff audit rows by the council, want 6", n)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM audit_log WHERE (coalesce(before::text, '') || coalesce(after::text, '')) LIKE '%argon2%'`); n != 0 {
		t.Errorf("%d audit rows hold a hash", n)
	}
}

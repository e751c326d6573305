package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"festa/apptest"
)

// A roster file far over the upload limit (10 MB) is refused by the roster
// preview itself, to the signed-in council in its console, with the 2 MB
// limit named; nothing is written. The post still needs the council's CSRF
// token; anyone but the council gets the generic refusal, unread.
func TestOversizedRosterRefusedOnRosterPage(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	council.Get("/admin/students")
	big := append([]byte("student_no,name\n"), bytes.Repeat([]byte("30101,김하늘\n"), 10<<20/17)...)
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	student.Get("/tickets")
	before, students := app.Fingerprint(t), studentCount(t, app)

	status, body := rosterPost(t, app, council, "/admin/students/import", url.Values{"apply": {"1"}}, big, true)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%.500s", status, body)
	}
	for _, want := range []string{
		"파일이 2MB보다 커서 읽지 않았어요", // the roster's own refusal
		`data-roster-refused`,
		`data-staff="council"`,                       // signed in
		`href="/admin/students" aria-current="page"`, // in the console
		`roster.csv`, // the file it was
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the refusal lacks %q\n%.1500s", want, body)
		}
	}
	if strings.Contains(body, "너무 커요") || strings.Contains(body, `id="roster-apply"`) {
		t.Errorf("the generic refusal or an apply button\n%.800s", body)
	}

	// In English too.
	council.Lang = "en"
	if _, body := rosterPost(t, app, council, "/admin/students/import", nil, big, true); !strings.Contains(body, "larger than 2 MB") {
		t.Errorf("the English refusal does not name the limit\n%.800s", body)
	}

	// No token, a student, nobody: refused before the roster page.
	if status, _ := rosterPost(t, app, council, "/admin/students/import", url.Values{"apply": {"1"}}, big, false); status != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", status)
	}
	if status, body := rosterPost(t, app, student, "/admin/students/import", nil, big, true); status != http.StatusRequestEntityTooLarge || strings.Contains(body, "2MB") {
		t.Errorf("a student: %d, want 413\n%.300s", status, body)
	}
	nobody := app.NewClient(t)
	nobody.Get("/")
	if status, _ := rosterPost(t, app, nobody, "/admin/students/import", nil, big, true); status != http.StatusRequestEntityTooLarge {
		t.Errorf("nobody signed in: %d, want 413", status)
	}
	if app.Fingerprint(t) != before || studentCount(t, app) != students {
		t.Error("a refused roster post changed something")
	}
}

// A body refused by the size limit is answered on a page that still shows
// who is signed in (the limit used to run before the session was read).
func TestRefusedBodyShowsWhoIsSignedIn(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	council := gateStaff(t, app, "council")
	council.Get("/admin/students")
	status, body := council.Post("/admin/students/reissue", url.Values{"student_no": {strings.Repeat("1", 100<<10)}}, false)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413\n%.300s", status, body)
	}
	if !strings.Contains(body, `data-staff="council"`) || strings.Contains(body, `href="/login"`) {
		t.Errorf("the refusal shows the council signed out\n%.1500s", body)
	}
}

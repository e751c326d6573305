package handlers_test

import (
	"strings"
	"testing"

	"festa/apptest"
)

// The footer's staff sign-in is for people who are not signed in as
// staff: signed-in staff find their own console there instead, and a
// signed-in student a quieter link.
func TestFooterStaffLink(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	footer := func(c *apptest.Client) string {
		t.Helper()
		_, body := c.Get("/")
		i := strings.Index(body, "<footer")
		if i < 0 {
			t.Fatalf("no footer\n%.300s", body)
		}
		return body[i:]
	}
	for _, c := range []struct {
		name   string
		client *apptest.Client
		want   string
		absent string
	}{
		{"nobody", app.NewClient(t), `<a href="/staff/login" class="underline underline-offset-4" data-staff-login>운영진 로그인</a>`, "data-staff-home"},
		{"council", gateStaff(t, app, "council"), `<a href="/admin" class="underline underline-offset-4" data-staff-home>운영 콘솔</a>`, "/staff/login"},
		{"gate", gateStaff(t, app, "gate"), `<a href="/gate" class="underline underline-offset-4" data-staff-home>입장 스캐너</a>`, "/staff/login"},
		{"student", authSignedIn(t, app, app.Demo.Students[0]), `<a href="/staff/login" class="hover:underline underline-offset-4" data-staff-login>`, "data-staff-home"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := footer(c.client)
			if !strings.Contains(f, c.want) {
				t.Errorf("the footer lacks %q\n%s", c.want, f)
			}
			if strings.Contains(f, c.absent) {
				t.Errorf("the footer has %q\n%s", c.absent, f)
			}
		})
	}
}

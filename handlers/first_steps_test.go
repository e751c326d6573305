package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"festa/apptest"
)

// firstStepRE finds a checklist step and whether it is done.
var firstStepRE = regexp.MustCompile(`data-step="(\d)"(\s+data-done)?`)

func firstSteps(body string) string {
	var out []string
	for _, m := range firstStepRE.FindAllStringSubmatch(body, -1) {
		state := "todo"
		if m[2] != "" {
			state = "done"
		}
		out = append(out, m[1]+":"+state)
	}
	return strings.Join(out, " ")
}

// emptyCouncil serves an empty database with one council account, signed
// in.
func emptyCouncil(t *testing.T) (*apptest.App, *apptest.Client) {
	t.Helper()
	app := apptest.StartEmpty(t, apptest.Options{})
	app.AddStaff(t, "hana", "council", "first-steps-pass")
	c := app.NewClient(t)
	c.Get("/staff/login")
	if resp, body := authPost(app, c, "/staff/login", url.Values{"username": {"hana"}, "password": {"first-steps-pass"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%.300s", resp.StatusCode, body)
	}
	return app, c
}

// On an empty database the console is titled as the console and lists a
// school's first steps, with the way to each; every step is ticked from
// the database as it is done, and the list goes once all are.
func TestConsoleFirstSteps(t *testing.T) {
	app, council := emptyCouncil(t)
	status, body := council.Get("/admin")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`<h1 class="text-3xl sm:text-4xl font-extrabold tracking-tight">운영 콘솔</h1>`,
		`id="first-steps"`, "축제 준비 순서",
		`href="/admin/setup">축제와 공연장 만들기</a>`,
		`href="/admin/students">학생 명단 올리기</a>`,
		"접속 코드 출력", "예매 열기",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the empty console lacks %q", want)
		}
	}
	if strings.Contains(body, ">festa</h1>") {
		t.Error("the heading falls back to festa")
	}
	if got := firstSteps(body); got != "1:todo 2:todo 3:todo 4:todo" {
		t.Errorf("steps %q on an empty database", got)
	}

	for _, step := range []struct {
		sql, want string
	}{
		{`INSERT INTO events (slug, name) VALUES ('fest', '봄 축제')`, "1:todo 2:todo 3:todo 4:todo"},
		{`INSERT INTO halls (slug, name) VALUES ('hall', '강당')`, "1:todo 2:todo 3:todo 4:todo"},
		{`INSERT INTO performances (event_id, hall_id, slug, title, starts_at, sales_open_at, sales_close_at)
			SELECT e.id, h.id, 'opening', '개막', now() + interval '3 days', now() + interval '1 day', now() + interval '2 days' FROM events e, halls h`,
			"1:done 2:todo 3:todo 4:todo"},
		{`INSERT INTO students (student_no, name, code_hash) VALUES ('10101', '가', ''), ('10102', '나', '')`, "1:done 2:done 3:todo 4:todo"},
		{`UPDATE students SET code_hash = 'x'`, "1:done 2:done 3:done 4:todo"},
	} {
		app.Exec(t, step.sql)
		_, body := council.Get("/admin")
		if got := firstSteps(body); got != step.want {
			t.Errorf("after %.50q: steps %q, want %q", step.sql, got, step.want)
		}
	}
	if _, body := council.Get("/admin"); !strings.Contains(body, ">봄 축제</h1>") {
		t.Error("the heading is not the festival's name once it has one")
	}
	app.Exec(t, `UPDATE performances SET sales_open_at = now() - interval '1 minute'`)
	if _, body := council.Get("/admin"); strings.Contains(body, `id="first-steps"`) {
		t.Error("the checklist stays once every step is done")
	}

	council.Lang = "en"
	app.Exec(t, `UPDATE students SET code_hash = '' WHERE student_no = '10102'`)
	if _, body := council.Get("/admin"); !strings.Contains(body, "1 student has no code yet") || !strings.Contains(body, "3 of 4 steps done") {
		t.Errorf("the English checklist\n%.3000s", body)
	}
}

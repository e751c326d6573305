package handlers_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"festa/apptest"
	"festa/demo"
)

func TestLoginPageForm(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	c := app.NewClient(t)
	status, body := c.Get("/login?next=%2Fp%2Fopening")
	if status != http.StatusOK {
		t.Fatalf("GET /login: %d", status)
	}
	for _, want := range []string{
		`lang="ko"`, `action="/login"`, `name="student_no"`, `inputmode="numeric"`, `autocomplete="username"`,
		`name="code"`, `autocomplete="current-password"`, `name="_csrf" value="` + c.CSRF + `"`,
		`name="next" value="/p/opening"`, "학번", "접속 코드",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if strings.Contains(body, "⟦") {
		t.Error("a message id is missing from the catalogue")
	}
	// The staff page has its own form.
	status, body = c.Get("/staff/login")
	if status != http.StatusOK || !strings.Contains(body, `name="username"`) || !strings.Contains(body, `name="password"`) || strings.Contains(body, "⟦") {
		t.Errorf("GET /staff/login: %d", status)
	}
}

func TestLoginRightCodeSignsIn(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	st := app.Demo.Students[1]
	c := app.NewClient(t)
	c.Get("/login")
	// The number is trimmed and the code may be typed in lower case.
	resp, _ := authPost(app, c, "/login", url.Values{"student_no": {" " + st.No + " "}, "code": {strings.ToLower(st.Code)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if authSessionToken(c) == "" {
		t.Fatal("no session cookie after signing in")
	}
	_, body := c.Get("/")
	if !strings.Contains(body, `href="/tickets"`) || !strings.Contains(body, "내 티켓") || !strings.Contains(body, `action="/logout"`) {
		t.Error("home does not show the signed-in header (My tickets, sign out)")
	}
	// Signed in, the sign-in page sends the student on.
	resp, _ = c.Do(mustRequest(t, "GET", app.URL+"/login?next=%2Fp%2Fopening"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/p/opening" {
		t.Errorf("GET /login signed in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := authCount(t, app, `SELECT count(*) FROM login_failures`); n != 0 {
		t.Errorf("a successful sign-in left %d failure rows", n)
	}
}

func TestLoginWrongCodeAndUnknownNumber(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	st := app.Demo.Students[0]
	for _, tc := range []struct{ name, no, code string }{
		{"wrong code", st.No, "ZZZZZZ"},
		{"unknown number", "39999", st.Code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := app.NewClient(t)
			c.Get("/login")
			before, beforeRest := authState(t, app), authStateWithoutFailures(t, app)
			resp, body := authPost(app, c, "/login", url.Values{"student_no": {tc.no}, "code": {tc.code}})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			if !strings.Contains(body, "학번 또는 접속 코드가 맞지 않아요") || !strings.Contains(body, `role="alert"`) {
				t.Error("no wrong-code message in place")
			}
			if !strings.Contains(body, `value="`+tc.no+`"`) {
				t.Error("the student number was not kept")
			}
			if authSessionToken(c) != "" {
				t.Error("a failed sign-in set a session cookie")
			}
			// Only the failure counters moved: one for the number, one for the address.
			if authStateWithoutFailures(t, app) != beforeRest {
				t.Error("a failed sign-in changed more than the failure counters")
			}
			if authState(t, app) == before {
				t.Error("the failure counters did not move")
			}
			if n := authCount(t, app, `SELECT failures FROM login_failures WHERE key = $1`, "student:"+tc.no); n != 1 {
				t.Errorf("number's failures %d, want 1", n)
			}
		})
	}
	if n := authCount(t, app, `SELECT failures FROM login_failures WHERE key LIKE 'student-ip:%'`); n != 2 {
		t.Errorf("address failures %d, want 2", n)
	}
	if n := authCount(t, app, `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions after failed sign-ins", n)
	}
}

func TestLoginMalformedInputChangesNothing(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	st := app.Demo.Students[0]
	c := app.NewClient(t)
	c.Get("/login")
	before := authState(t, app)
	for _, tc := range []struct{ no, code, want string }{
		{"2031", st.Code, "학번은 숫자 5자리로"},
		{"203155", st.Code, "학번은 숫자 5자리로"},
		{"2O315", st.Code, "학번은 숫자 5자리로"},
		{"", st.Code, "학번은 숫자 5자리로"},
		{st.No, "ABC", "접속 코드는 영문자와 숫자 4~32자"},
		{st.No, "ABC-12", "접속 코드는 영문자와 숫자 4~32자"},
		{st.No, strings.Repeat("A", 33), "접속 코드는 영문자와 숫자 4~32자"},
		{st.No, "", "접속 코드는 영문자와 숫자 4~32자"},
		{"1234x", "!", "학번은 숫자 5자리로"},
	} {
		resp, body := authPost(app, c, "/login", url.Values{"student_no": {tc.no}, "code": {tc.code}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%q/%q: status %d, want 422", tc.no, tc.code, resp.StatusCode)
		}
		if !strings.Contains(body, tc.want) || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%q/%q: no %q in place", tc.no, tc.code, tc.want)
		}
		if tc.no != "" && !strings.Contains(body, `value="`+html.EscapeString(tc.no)+`"`) {
			t.Errorf("%q/%q: the number was not kept", tc.no, tc.code)
		}
	}
	if authSessionToken(c) != "" {
		t.Error("malformed sign-ins set a session cookie")
	}
	if after := authState(t, app); after != before {
		t.Error("malformed sign-ins changed the database")
	}
}

func TestLoginDisabledStudent(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	st := app.Demo.Students[0]
	authExec(t, app, `UPDATE students SET enabled = false WHERE student_no = $1`, st.No)
	c := app.NewClient(t)
	c.Get("/login")
	before := authState(t, app)
	resp, body := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "사용이 중지된 계정이에요. 학생회에 문의해 주세요.") {
		t.Errorf("disabled student: %d", resp.StatusCode)
	}
	if authSessionToken(c) != "" {
		t.Error("a disabled student got a session")
	}
	if authState(t, app) != before {
		t.Error("a disabled student's sign-in changed the database")
	}
	// A wrong code says only that it is wrong: being disabled is told to
	// the holder of the code alone.
	resp, body = authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {"WRONG1"}})
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "중지") {
		t.Errorf("disabled student, wrong code: %d", resp.StatusCode)
	}
}

func TestLoginWithoutCSRFChangesNothing(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	st := app.Demo.Students[0]
	before := authState(t, app)
	// A client that never loaded a page has no token; another sends a wrong one.
	fresh := app.NewClient(t)
	resp, body := authPost(app, fresh, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "보안 확인이 만료됐어요") {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	forged := app.NewClient(t)
	forged.Get("/login")
	resp, _ = authPost(app, forged, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}, "_csrf": {strings.Repeat("x", 43)}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	resp, _ = authPost(app, forged, "/staff/login", url.Values{"username": {"council"}, "password": {"x"}, "_csrf": {""}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("staff, no token: %d", resp.StatusCode)
	}
	if authSessionToken(fresh) != "" || authSessionToken(forged) != "" {
		t.Error("a request without a valid CSRF token got a session")
	}
	if authState(t, app) != before {
		t.Error("requests without a valid CSRF token changed the database")
	}
}

func TestLoginThrottlePerNumber(t *testing.T) {
	clock := newAuthClock()
	app := apptest.Start(t, apptest.Options{Students: 2, Now: clock.Now})
	st, other := app.Demo.Students[0], app.Demo.Students[1]
	c := app.NewClient(t)
	c.Get("/login")
	for i := 1; i <= 5; i++ {
		if resp, _ := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {fmt.Sprintf("WRONG%d", i)}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i, resp.StatusCode)
		}
	}
	clock.Advance(10 * time.Second)
	before := authState(t, app)
	// Over the limit, even the right code is refused, unchecked.
	resp, body := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: status %d, want 429", resp.StatusCode)
	}
	if !strings.Contains(body, "시도가 너무 많아요. 290초 뒤에 다시 시도해 주세요.") || resp.Header.Get("Retry-After") != "290" {
		t.Errorf("no try-again-in-290-seconds message (Retry-After %q)", resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, `value="`+st.No+`"`) {
		t.Error("the number was not kept")
	}
	if authSessionToken(c) != "" {
		t.Error("a throttled attempt got a session")
	}
	if authState(t, app) != before {
		t.Error("a refused attempt changed the database")
	}
	// Another number from the same address is not affected.
	other2 := app.NewClient(t)
	other2.Get("/login")
	if resp, _ := authPost(app, other2, "/login", url.Values{"student_no": {other.No}, "code": {other.Code}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another number: status %d", resp.StatusCode)
	}
	// When the window ends the student gets in, and the count is forgotten.
	clock.Advance(5 * time.Minute)
	if resp, _ := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: status %d", resp.StatusCode)
	}
	if n := authCount(t, app, `SELECT count(*) FROM login_failures WHERE key = $1`, "student:"+st.No); n != 0 {
		t.Error("a success did not clear the number's failures")
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 21})
	c := app.NewClient(t)
	c.Get("/login")
	// 100 failures spread over 20 numbers stay under each number's limit.
	for _, st := range app.Demo.Students[:20] {
		for i := range 5 {
			if resp, _ := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {fmt.Sprintf("NOPE%d", i)}}); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s failure %d: status %d", st.No, i, resp.StatusCode)
			}
		}
	}
	before := authState(t, app)
	last := app.Demo.Students[20]
	for _, no := range []string{last.No, "39999"} {
		resp, body := authPost(app, c, "/login", url.Values{"student_no": {no}, "code": {last.Code}})
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "시도가 너무 많아요.") {
			t.Errorf("%s after 100 failures from one address: %d", no, resp.StatusCode)
		}
	}
	if authState(t, app) != before {
		t.Error("attempts refused for the address changed the database")
	}
	// Staff sign-in keeps its own budget per address.
	if resp, _ := authPost(app, c, "/staff/login", url.Values{"username": {"gate"}, "password": {authStaffPassword(t, app, "gate")}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("staff sign-in from the same address: %d", resp.StatusCode)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	c := authSignedIn(t, app, app.Demo.Students[0])
	token := authSessionToken(c)
	if resp, _ := c.Do(mustRequest(t, "GET", app.URL+"/tickets")); resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("signed in, /tickets redirects to %q", resp.Header.Get("Location"))
	}
	resp, _ := authPost(app, c, "/logout", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = c.Do(mustRequest(t, "GET", app.URL+"/tickets"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Ftickets" {
		t.Errorf("after logout /tickets: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := authCount(t, app, `SELECT count(*) FROM sessions WHERE token = $1`, token); n != 0 {
		t.Error("the session is still in the database")
	}
	// The old cookie, replayed, signs nobody in.
	replay := app.NewClient(t)
	replay.HTTP.Jar.SetCookies(authURL(t, app.URL), []*http.Cookie{{Name: "festa_session", Value: token, Path: "/"}})
	if resp, _ := replay.Do(mustRequest(t, "GET", app.URL+"/tickets")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed cookie after logout: %d", resp.StatusCode)
	}
	// Logging out without the CSRF token does nothing.
	c2 := authSignedIn(t, app, app.Demo.Students[0])
	if resp, _ := authPost(app, c2, "/logout", url.Values{"_csrf": {""}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without token: %d", resp.StatusCode)
	}
	if resp, _ := c2.Do(mustRequest(t, "GET", app.URL+"/tickets")); resp.StatusCode == http.StatusSeeOther {
		t.Error("a logout without token ended the session")
	}
}

func TestLoginRenewsSessionToken(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	a, b := app.Demo.Students[0], app.Demo.Students[1]
	// An attacker signs in and plants their session cookie in the victim's browser.
	attacker := authSignedIn(t, app, a)
	planted := authSessionToken(attacker)
	victim := app.NewClient(t)
	victim.HTTP.Jar.SetCookies(authURL(t, app.URL), []*http.Cookie{{Name: "festa_session", Value: planted, Path: "/"}})
	victim.Get("/") // signed in as the attacker already; the page has the CSRF token
	resp, _ := authPost(app, victim, "/login", url.Values{"student_no": {b.No}, "code": {b.Code}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if got := authSessionToken(victim); got == "" || got == planted {
		t.Fatalf("session token after sign-in %q, planted %q: not renewed", got, planted)
	}
	if n := authCount(t, app, `SELECT count(*) FROM sessions WHERE token = $1`, planted); n != 0 {
		t.Error("the planted token still exists")
	}
	// The planted token opens nothing now.
	if resp, _ := attacker.Do(mustRequest(t, "GET", app.URL+"/tickets")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("planted token after the victim signed in: %d", resp.StatusCode)
	}
}

func TestLoginNextStaysLocal(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	st := app.Demo.Students[0]
	c, viewer := app.NewClient(t), app.NewClient(t)
	c.Get("/login")
	for next, want := range map[string]string{
		"/p/opening?x=1":         "/p/opening?x=1",
		"":                       "/",
		"https://evil.example/":  "/",
		"//evil.example/":        "/",
		"/\\evil.example":        "/",
		"\\\\evil.example":       "/",
		"/\t/evil.example":       "/",
		"javascript:alert(1)":    "/",
		"http:/evil.example":     "/",
		"evil.example":           "/",
		"/%2F%2Fevil.example":    "/%2F%2Fevil.example", // a local path, however odd
		"https:///evil.example/": "/",
	} {
		_, page := viewer.Get("/login?next=" + url.QueryEscape(next))
		if !strings.Contains(page, `name="next" value="`+html.EscapeString(want)+`"`) && !strings.Contains(page, `name="next" value="`+want+`"`) {
			t.Errorf("GET /login?next=%q: the form does not carry %q", next, want)
		}
		resp, _ := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}, "next": {next}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("next=%q: %d to %q, want %q", next, resp.StatusCode, loc, want)
		}
		resp, _ = authPost(app, c, "/staff/login", url.Values{"username": {"council"}, "password": {authStaffPassword(t, app, "council")}, "next": {next}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("staff next=%q: %d to %q, want %q", next, resp.StatusCode, loc, want)
		}
	}
}

func TestStaffLogin(t *testing.T) {
	clock := newAuthClock()
	app := apptest.Start(t, apptest.Options{Students: 1, Now: clock.Now})
	for _, user := range []string{"council", "gate"} {
		t.Run(user, func(t *testing.T) {
			c := app.NewClient(t)
			c.Get("/staff/login")
			// Usernames are not case-sensitive; passwords are taken as typed.
			resp, _ := authPost(app, c, "/staff/login", url.Values{"username": {" " + strings.ToUpper(user) + " "}, "password": {authStaffPassword(t, app, user)}, "next": {"/gate"}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/gate" {
				t.Fatalf("staff login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if authSessionToken(c) == "" {
				t.Fatal("no session cookie")
			}
			// Signed in as staff, the staff sign-in page sends them on…
			if resp, _ := c.Do(mustRequest(t, "GET", app.URL+"/staff/login?next=%2Fadmin")); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
				t.Errorf("GET /staff/login signed in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			// …but staff are not students.
			if resp, _ := c.Do(mustRequest(t, "GET", app.URL+"/tickets")); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("staff on a student page: %d", resp.StatusCode)
			}
			resp, _ = authPost(app, c, "/staff/logout", url.Values{})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/login" {
				t.Errorf("staff logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if status, _ := c.Get("/staff/login"); status != http.StatusOK {
				t.Errorf("after staff logout /staff/login: %d", status)
			}
		})
	}

	c := app.NewClient(t)
	c.Get("/staff/login")
	before, beforeRest := authState(t, app), authStateWithoutFailures(t, app)
	for _, tc := range []struct {
		user, password string
		status         int
		want           string
	}{
		{"council", "wrong-password", http.StatusUnauthorized, "아이디 또는 비밀번호가 맞지 않아요."},
		{"nobody", "whatever", http.StatusUnauthorized, "아이디 또는 비밀번호가 맞지 않아요."},
		{"", "whatever", http.StatusUnprocessableEntity, "아이디를 확인해 주세요."},
		{"counc il", "whatever", http.StatusUnprocessableEntity, "아이디를 확인해 주세요."},
		{"council", "", http.StatusUnprocessableEntity, "비밀번호를 입력해 주세요."},
		{"council", strings.Repeat("p", 257), http.StatusUnprocessableEntity, "비밀번호를 입력해 주세요."},
	} {
		resp, body := authPost(app, c, "/staff/login", url.Values{"username": {tc.user}, "password": {tc.password}})
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%q/%q: %d, want %d with %q", tc.user, tc.password, resp.StatusCode, tc.status, tc.want)
		}
	}
	if authSessionToken(c) != "" {
		t.Error("a refused staff sign-in set a session cookie")
	}
	if authStateWithoutFailures(t, app) != beforeRest {
		t.Error("refused staff sign-ins changed more than the failure counters")
	}
	if authState(t, app) == before {
		t.Error("refused staff sign-ins were not counted")
	}
	// The username's budget: four more failures make five, then even the
	// right password waits.
	for i := range 4 {
		authPost(app, c, "/staff/login", url.Values{"username": {"council"}, "password": {fmt.Sprintf("guess-%d", i)}})
	}
	resp, body := authPost(app, c, "/staff/login", url.Values{"username": {"council"}, "password": {authStaffPassword(t, app, "council")}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "초 뒤에 다시 시도해 주세요.") {
		t.Errorf("council after 5 failures: %d", resp.StatusCode)
	}
	// A disabled staff account says so, to the holder of its password.
	authExec(t, app, `UPDATE staff SET enabled = false WHERE username = 'gate'`)
	resp, body = authPost(app, c, "/staff/login", url.Values{"username": {"gate"}, "password": {authStaffPassword(t, app, "gate")}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "사용이 중지된 운영진 계정이에요.") || authSessionToken(c) != "" {
		t.Errorf("disabled staff: %d", resp.StatusCode)
	}
}

func TestLoginMessagesInEnglish(t *testing.T) {
	clock := newAuthClock()
	app := apptest.Start(t, apptest.Options{Students: 1, Now: clock.Now})
	st := app.Demo.Students[0]
	c := app.NewClient(t)
	c.Lang = "en"
	_, page := c.Get("/login")
	for _, want := range []string{`lang="en"`, "Student number", "Access code", "Sign in"} {
		if !strings.Contains(page, want) {
			t.Errorf("English login page lacks %q", want)
		}
	}
	for _, tc := range []struct {
		no, code string
		status   int
		want     string
	}{
		{"123", st.Code, http.StatusUnprocessableEntity, "Enter your student number as 5 digits"},
		{st.No, "a!", http.StatusUnprocessableEntity, "An access code is 4 to 32 letters and digits."},
		{st.No, "WRONG1", http.StatusUnauthorized, "That student number and access code don&#39;t match."},
		{st.No, "WRONG2", http.StatusUnauthorized, "That student number and access code don&#39;t match."},
		{st.No, "WRONG3", http.StatusUnauthorized, "That student number and access code don&#39;t match."},
		{st.No, "WRONG4", http.StatusUnauthorized, "That student number and access code don&#39;t match."},
		{st.No, "WRONG5", http.StatusUnauthorized, "That student number and access code don&#39;t match."},
		{st.No, st.Code, http.StatusTooManyRequests, "Too many attempts. Try again in 300 seconds."},
	} {
		resp, body := authPost(app, c, "/login", url.Values{"student_no": {tc.no}, "code": {tc.code}})
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%q/%q: %d, want %d with %q", tc.no, tc.code, resp.StatusCode, tc.status, tc.want)
		}
		if strings.Contains(body, "⟦") {
			t.Errorf("%q/%q: a message id is missing from the English catalogue", tc.no, tc.code)
		}
	}
	clock.Advance(299 * time.Second)
	if _, body := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}}); !strings.Contains(body, "Try again in 1 second.") {
		t.Error("no singular “1 second”")
	}
	authExec(t, app, `UPDATE students SET enabled = false`)
	clock.Advance(time.Second)
	if _, body := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}}); !strings.Contains(body, "This account is disabled. Ask the student council.") {
		t.Error("no English disabled message")
	}
	_, body := authPost(app, c, "/staff/login", url.Values{"username": {"council"}, "password": {"nope"}})
	if !strings.Contains(body, "That username and password don&#39;t match.") {
		t.Error("no English staff message")
	}
}

// authPost posts form to path with the client's CSRF token (unless form
// has one) and returns the response, redirects not followed.
func authPost(app *apptest.App, c *apptest.Client, path string, form url.Values) (*http.Response, string) {
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.CSRF)
	}
	req, _ := http.NewRequest(http.MethodPost, app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// authSignedIn returns a client signed in as st.
func authSignedIn(t *testing.T, app *apptest.App, st demo.Student) *apptest.Client {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/login")
	if resp, body := authPost(app, c, "/login", url.Values{"student_no": {st.No}, "code": {st.Code}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d\n%s", st.No, resp.StatusCode, body)
	}
	return c
}

func authSessionToken(c *apptest.Client) string {
	for _, ck := range c.Cookies() {
		if ck.Name == "festa_session" {
			return ck.Value
		}
	}
	return ""
}

func authStaffPassword(t *testing.T, app *apptest.App, user string) string {
	t.Helper()
	for _, l := range app.Demo.Staff {
		if l.Username == user {
			return l.Password
		}
	}
	t.Fatalf("no demo staff %q", user)
	return ""
}

// authState digests everything sign-in may touch: the roster, staff,
// sessions, failure counters and the audit log.
func authState(t *testing.T, app *apptest.App) string {
	t.Helper()
	return authDigest(t, app, true)
}

// authStateWithoutFailures is authState without the failure counters.
func authStateWithoutFailures(t *testing.T, app *apptest.App) string {
	t.Helper()
	return authDigest(t, app, false)
}

func authDigest(t *testing.T, app *apptest.App, failures bool) string {
	t.Helper()
	q := `SELECT md5(
		(SELECT coalesce(string_agg(s::text, ',' ORDER BY id), '') FROM students s) ||
		(SELECT coalesce(string_agg(s::text, ',' ORDER BY id), '') FROM staff s) ||
		(SELECT coalesce(string_agg(token || expiry::text || md5(data), ',' ORDER BY token), '') FROM sessions) ||
		(SELECT count(*)::text FROM audit_log) ||
		CASE WHEN $1 THEN (SELECT coalesce(string_agg(f::text, ',' ORDER BY key), '') FROM login_failures f) ELSE '' END)`
	var s string
	if err := app.Store.Pool.QueryRow(context.Background(), q, failures).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func authCount(t *testing.T, app *apptest.App, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := app.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func authExec(t *testing.T, app *apptest.App, sql string, args ...any) {
	t.Helper()
	if _, err := app.Store.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func authURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authClock is a server clock the test moves by hand.
type authClock struct {
	mu  sync.Mutex
	now time.Time
}

func newAuthClock() *authClock { return &authClock{now: time.Now()} }

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"festa/apptest"
	"festa/db"
)

// questionsState digests the questions, the canned answers and the audit
// log's size: what a refused question or answer must leave alone.
func questionsState(t *testing.T, app *apptest.App) string {
	t.Helper()
	var s string
	if err := app.Store.Pool.QueryRow(context.Background(), `SELECT md5(concat(
		(SELECT string_agg(q::text, ',' ORDER BY id) FROM questions q),
		(SELECT string_agg(c::text, ',' ORDER BY id) FROM canned_answers c),
		(SELECT count(*) FROM audit_log)))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// askingStudent signs in the demo's n-th student and loads /questions.
func askingStudent(t *testing.T, app *apptest.App, n int) *apptest.Client {
	t.Helper()
	c := app.NewClient(t)
	c.SignIn(app.Demo.Students[n].No)
	if status, body := c.Get("/questions"); status != http.StatusOK {
		t.Fatalf("GET /questions: %d\n%s", status, body)
	}
	return c
}

func ask(c *apptest.Client, body string, htmx bool) (int, string) {
	return c.Post("/questions", url.Values{"body": {body}}, htmx)
}

var myQuestionRE = regexp.MustCompile(`data-question="(\d+)"`)

// A student asks through the form and sees the question listed; the
// council answers; the student sees the answer as plain text (escaped),
// marked new once. The answer is audited with the council member.
func TestQuestionAskAndAnswer(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	student := askingStudent(t, app, 0)
	resp, _ := student.Do(formPost(app, student, "/questions", url.Values{"body": {"환불은 언제까지 되나요?"}}))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/questions?sent=1" {
		t.Fatalf("plain form: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := student.Get("/questions?sent=1")
	for _, want := range []string{"질문을 보냈어요", "환불은 언제까지 되나요?", `data-state="waiting"`, `ws-connect="/ws/questions?v=`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page after asking lacks %q", want)
		}
	}
	// htmx gets the fresh form and the list out of band.
	status, frag := ask(student, "좌석을 바꿀 수 있나요?", true)
	if status != http.StatusOK || !strings.Contains(frag, `id="question-form"`) || !strings.Contains(frag, `id="my-questions" class="mt-4" hx-swap-oob="true"`) ||
		!strings.Contains(frag, "좌석을 바꿀 수 있나요?") {
		t.Fatalf("htmx ask: %d\n%s", status, frag)
	}
	id := myQuestionRE.FindStringSubmatch(page)[1]
	// Waiting for an answer, every page of the student's opens the
	// questions socket for the notice.
	if _, home := student.Get("/"); !strings.Contains(home, `data-questions-live`) {
		t.Error("the home page of a student waiting for an answer has no live notice")
	}
	// So does another device of theirs, from its sign-in.
	phone := app.NewClient(t)
	phone.SignIn(app.Demo.Students[0].No)
	if _, home := phone.Get("/"); !strings.Contains(home, `data-questions-live`) {
		t.Error("a device signing in while a question waits has no live notice")
	}

	council := gateStaff(t, app, "council")
	_, inbox := council.Get("/admin/questions")
	if !strings.Contains(inbox, "환불은 언제까지 되나요?") || !strings.Contains(inbox, `data-waiting="2"`) || !strings.Contains(inbox, `href="/admin/questions"`) {
		t.Fatalf("the inbox lacks the question or its count:\n%s", inbox)
	}
	if _, overview := council.Get("/admin"); !strings.Contains(overview, `data-questions-waiting="2"`) {
		t.Error("the console's navigation does not count the waiting questions")
	}
	_, panel := council.Get("/admin/questions/" + id)
	if !strings.Contains(panel, `id="answer-form"`) || !strings.Contains(panel, "환불·취소") {
		t.Fatalf("the answer panel lacks its form or the canned answers:\n%s", panel)
	}
	answer := "<b>공연 전</b>까지 취소할 수 있어요.\n두 번째 줄"
	status, body := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {answer}}, true)
	if status != http.StatusOK || !strings.Contains(body, "답변을 보냈어요") || !strings.Contains(body, `id="inbox-list"`) {
		t.Fatalf("answer: %d\n%s", status, body)
	}
	if n := app.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'question_answer' AND actor_id = (SELECT id FROM staff WHERE username = 'council')`); n != 1 {
		t.Fatalf("%d audit rows for the answer", n)
	}
	if _, audit := council.Get("/admin/audit"); !strings.Contains(audit, "문의 답변") {
		t.Error("the audit viewer does not name the answer in words")
	}

	_, page = student.Get("/questions")
	if !strings.Contains(page, "&lt;b&gt;공연 전&lt;/b&gt;까지") || strings.Contains(page, "<b>공연 전") {
		t.Error("the answer is not shown as escaped text")
	}
	if !strings.Contains(page, "새 답변") {
		t.Error("a new answer is not marked new")
	}
	if _, again := student.Get("/questions"); strings.Contains(again, "새 답변") {
		t.Error("an answer already seen is marked new again")
	}
	if _, one := student.Get("/questions/" + id); !strings.Contains(one, "두 번째 줄") {
		t.Error("the question's own page lacks the answer")
	}
}

// Refusals: an empty, blank or too long question, too many waiting, a
// missing CSRF token; another student's question is 404; a student, a
// gate account and anyone signed out cannot reach the inbox or answer;
// the council cannot answer twice or send an empty answer. Nothing
// refused changes anything, and each says why.
func TestQuestionRefusals(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	alice := askingStudent(t, app, 0)
	bob := askingStudent(t, app, 1)
	if status, _ := ask(alice, "첫 질문", false); status != http.StatusSeeOther {
		t.Fatalf("first question: %d", status)
	}
	q, err := app.Store.StudentQuestions(context.Background(), int64(app.Count(t, `SELECT id::int FROM students WHERE student_no = $1`, app.Demo.Students[0].No)))
	if err != nil || len(q) != 1 {
		t.Fatalf("alice's questions: %v %v", q, err)
	}
	id := strconv.FormatInt(q[0].ID, 10)
	before := questionsState(t, app)

	for _, tc := range []struct {
		name, body string
		htmx       bool
		status     int
		says       string
	}{
		{"empty", "", false, http.StatusUnprocessableEntity, "질문을 입력해 주세요."},
		{"blank", " \r\n\t ", true, http.StatusUnprocessableEntity, "질문을 입력해 주세요."},
		{"too long", strings.Repeat("가", db.MaxQuestionChars+1), false, http.StatusUnprocessableEntity, "1000자까지"},
		{"too long (htmx)", strings.Repeat("a", db.MaxQuestionChars+1), true, http.StatusUnprocessableEntity, "지금 1001자예요"},
	} {
		status, body := ask(alice, tc.body, tc.htmx)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, says %q?\n%.300s", tc.name, status, tc.says, body)
		}
		if !tc.htmx && tc.body != "" && !strings.Contains(body, tc.body[:30]) {
			t.Errorf("%s: the plain form does not keep the text", tc.name)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/questions", strings.NewReader(url.Values{"body": {"토큰 없음"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := alice.Do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}
	if status, _ := bob.Get("/questions/" + id); status != http.StatusNotFound {
		t.Errorf("bob reads alice's question: %d", status)
	}
	if status, _ := bob.Get("/questions/nope"); status != http.StatusNotFound {
		t.Errorf("a malformed id: %d", status)
	}
	if _, home := bob.Get("/"); strings.Contains(home, `data-questions-live`) {
		t.Error("a student with no question opens the questions socket")
	}
	if _, page := bob.Get("/questions"); strings.Contains(page, "첫 질문") {
		t.Error("bob's list shows alice's question")
	}
	anon := app.NewClient(t)
	resp, _ := anon.Do(mustRequest(t, http.MethodGet, app.URL+"/questions"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fquestions" {
		t.Errorf("signed out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	gate := gateStaff(t, app, "gate")
	for name, c := range map[string]*apptest.Client{"student": bob, "gate": gate, "signed out": anon} {
		if status, _ := c.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {"가로채기"}}, false); status != http.StatusForbidden {
			t.Errorf("%s answers: %d, want 403", name, status)
		}
		if status, _ := c.Post("/admin/questions/canned", url.Values{"title": {"x"}, "body": {"y"}}, false); status != http.StatusForbidden {
			t.Errorf("%s adds a canned answer: %d, want 403", name, status)
		}
	}
	if status, _ := gate.Get("/admin/questions"); status != http.StatusForbidden {
		t.Errorf("gate reads the inbox: %d", status)
	}
	council := gateStaff(t, app, "council")
	council.Get("/admin/questions")
	if status, body := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {"  "}}, true); status != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "답변을 입력하거나") {
		t.Errorf("empty answer: %d\n%.300s", status, body)
	}
	if status, _ := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {strings.Repeat("a", db.MaxAnswerChars+1)}}, false); status != http.StatusUnprocessableEntity {
		t.Errorf("too long answer: %d", status)
	}
	if status, _ := council.Post("/admin/questions/99999/answer", url.Values{"answer": {"없음"}}, false); status != http.StatusNotFound {
		t.Errorf("unknown question: %d", status)
	}
	if questionsState(t, app) != before {
		t.Fatal("a refused request changed something")
	}

	// The first answer stays; the second is refused and shows it.
	if status, _ := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {"첫 답"}}, false); status != http.StatusOK {
		t.Fatalf("answer: %d", status)
	}
	before = questionsState(t, app)
	status, body := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {"둘째 답"}}, true)
	if status != http.StatusConflict || !strings.Contains(body, "먼저 답했어요") || !strings.Contains(body, "첫 답") {
		t.Errorf("second answer: %d\n%.400s", status, body)
	}
	if questionsState(t, app) != before {
		t.Fatal("a second answer changed something")
	}

	// Too many waiting: the limit's message, and nothing written.
	for i := 1; i < db.MaxWaitingQuestions; i++ {
		if status, _ := ask(bob, "질문 "+strconv.Itoa(i), false); status != http.StatusSeeOther {
			t.Fatalf("question %d: %d", i, status)
		}
	}
	ask(bob, "마지막", false)
	before = questionsState(t, app)
	if status, body := ask(bob, "하나 더", true); status != http.StatusTooManyRequests || !strings.Contains(body, "이미 5개") {
		t.Errorf("over the limit: %d\n%.300s", status, body)
	}
	if questionsState(t, app) != before {
		t.Fatal("a question over the limit changed something")
	}
}

// Choosing a canned answer fills the answer box with it; with no script
// the form sends the chosen one when the box is empty. The council adds
// and deletes canned answers.
func TestCannedAnswerPicker(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	student := askingStudent(t, app, 0)
	ask(student, "코드를 잃어버렸어요", false)
	council := gateStaff(t, app, "council")
	council.Get("/admin/questions")
	canned, _ := app.Store.CannedAnswers(context.Background())
	var lost db.CannedAnswer
	for _, c := range canned {
		if c.Title == "접속 코드 분실" {
			lost = c
		}
	}
	status, box := council.Get("/admin/questions/canned?canned=" + strconv.FormatInt(lost.ID, 10))
	if status != http.StatusOK || !strings.Contains(box, `id="answer-body"`) || !strings.Contains(box, "학생회실로 와 주세요") {
		t.Fatalf("picker: %d\n%s", status, box)
	}
	id := strconv.Itoa(app.Count(t, `SELECT id::int FROM questions`))
	if status, _ := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {""}, "canned": {strconv.FormatInt(lost.ID, 10)}}, false); status != http.StatusOK {
		t.Fatalf("answer with the canned one: %d", status)
	}
	if _, page := student.Get("/questions"); !strings.Contains(page, "학생회실로 와 주세요") {
		t.Error("the student does not see the canned answer")
	}
	if status, page := council.Post("/admin/questions/canned", url.Values{"title": {"주차"}, "body": {"주차는 안 돼요."}}, false); status != http.StatusOK ||
		!strings.Contains(page, `data-canned="주차"`) {
		t.Fatalf("add canned: %d", status)
	}
	if status, _ := council.Post("/admin/questions/canned", url.Values{"title": {""}, "body": {"제목 없음"}}, false); status != http.StatusUnprocessableEntity {
		t.Errorf("canned answer without a title: %d", status)
	}
	parking := strconv.Itoa(app.Count(t, `SELECT id::int FROM canned_answers WHERE title = '주차'`))
	if status, page := council.Post("/admin/questions/canned/"+parking+"/delete", nil, false); status != http.StatusOK || strings.Contains(page, `data-canned="주차"`) {
		t.Errorf("delete canned: %d", status)
	}
}

// The question round trip over the WebSocket, across two app instances:
// the council's inbox socket on one instance gets a question asked on the
// other, and the student's socket on the second instance gets the answer
// the council sent through the first. Neither waits for a periodic
// catch-up (an hour here): the NOTIFY carries it.
func TestQuestionRoundTripOverWebSocket(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2, LiveCatchUp: time.Hour})
	other := apptest.Serve(t, app.Store, app.Demo, apptest.Options{LiveCatchUp: time.Hour})
	student := askingStudent(t, app, 0)
	council := gateStaff(t, app, "council")
	dial := func(base, path string, c *apptest.Client) (*websocket.Conn, error) {
		opts := &websocket.DialOptions{}
		if c != nil {
			opts.HTTPClient = c.HTTP
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+path, opts)
		if conn != nil {
			conn.SetReadLimit(1 << 20)
		}
		return conn, err
	}
	read := func(conn *websocket.Conn, what string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("%s: nothing pushed: %v", what, err)
		}
		return string(msg)
	}

	// Only the council opens the inbox socket, only a student their own.
	if _, err := dial(app.URL, "/ws/admin/questions", student); err == nil {
		t.Error("a student opened the inbox socket")
	}
	if _, err := dial(app.URL, "/ws/questions", nil); err == nil {
		t.Error("a visitor without a session opened a questions socket")
	}
	if _, err := dial(app.URL, "/ws/questions", council); err == nil {
		t.Error("the council opened a student's questions socket")
	}

	inbox, err := dial(other.URL, "/ws/admin/questions", council)
	if err != nil {
		t.Fatal(err)
	}
	defer inbox.CloseNow()
	if first := read(inbox, "inbox"); !strings.Contains(first, `data-waiting="0"`) || !strings.Contains(first, `id="inbox-list"`) {
		t.Fatalf("the inbox's first message: %s", first)
	}
	mine, err := dial(other.URL, "/ws/questions", student)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.CloseNow()
	if first := read(mine, "student"); !strings.Contains(first, `id="my-questions"`) || strings.Contains(first, "data-unread") {
		t.Fatalf("the student's first message: %s", first)
	}

	if status, _ := ask(student, "입장은 몇 시부터예요?", true); status != http.StatusOK {
		t.Fatalf("ask: %d", status)
	}
	if got := read(inbox, "inbox after the question"); !strings.Contains(got, "입장은 몇 시부터예요?") || !strings.Contains(got, `data-waiting="1"`) {
		t.Fatalf("the inbox got: %s", got)
	}
	if got := read(mine, "student after asking"); !strings.Contains(got, `data-state="waiting"`) {
		t.Fatalf("the student's list after asking: %s", got)
	}
	id := strconv.Itoa(app.Count(t, `SELECT id::int FROM questions`))
	council.Get("/admin/questions/" + id)
	if status, _ := council.Post("/admin/questions/"+id+"/answer", url.Values{"answer": {"공연 30분 전부터예요 <script>"}}, true); status != http.StatusOK {
		t.Fatalf("answer: %d", status)
	}
	got := read(mine, "student after the answer")
	for _, want := range []string{`id="question-notice" role="status" aria-live="polite" hx-swap-oob="innerHTML"`, "답변이 도착했어요", `data-unread="1"`,
		"공연 30분 전부터예요 &lt;script&gt;", `data-state="answered"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the answer's message lacks %q:\n%s", want, got)
		}
	}
	if got := read(inbox, "inbox after the answer"); !strings.Contains(got, `data-waiting="0"`) {
		t.Errorf("the inbox after the answer: %s", got)
	}
}

// The inbox lists the newest hundred questions but counts every waiting
// one, on the page and over its socket.
func TestInboxCountsBeyondItsList(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	app.Exec(t, `INSERT INTO questions (student_id, body) SELECT (SELECT min(id) FROM students), '질문 ' || n FROM generate_series(1, 105) AS n`)
	council := gateStaff(t, app, "council")
	_, page := council.Get("/admin/questions")
	if !strings.Contains(page, `data-waiting="105"`) || strings.Count(page, `<a class="card block`) != 100 {
		t.Errorf("the inbox: %d listed, count %v", strings.Count(page, `<a class="card block`), strings.Contains(page, `data-waiting="105"`))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+"/ws/admin/questions", &websocket.DialOptions{HTTPClient: council.HTTP})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	if _, msg, err := conn.Read(ctx); err != nil || !strings.Contains(string(msg), `data-waiting="105"`) {
		t.Errorf("the socket's count: %v %.200s", err, msg)
	}
}

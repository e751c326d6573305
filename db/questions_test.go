package db_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"festa/db"
)

// councilActor is the demo's council account as an audit actor.
func (f *fixture) councilActor() db.Actor {
	f.t.Helper()
	return db.Actor{Kind: "staff", ID: int64(f.count(`SELECT id FROM staff WHERE username = 'council'`)), IP: "198.51.100.2", UserAgent: "test"}
}

// questionsDigest is the questions table and the audit log's size: what a
// refused question or answer must leave alone.
func (f *fixture) questionsDigest() string {
	f.t.Helper()
	var s string
	err := f.store.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT coalesce(string_agg(q::text, ',' ORDER BY id), '') FROM questions q) ||
		(SELECT count(*)::text FROM audit_log))`).Scan(&s)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// A question goes from the student to the inbox and its answer back; the
// answer is audited with who gave it, a second answer is refused and the
// first stays, and another student can neither list nor read it.
func TestQuestionAnsweredOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	council := f.councilActor()
	q, err := f.store.AskQuestion(ctx, f.alice, f.opening.ID, "환불은 언제까지 되나요?")
	if err != nil {
		t.Fatal(err)
	}
	if q.Answered() || q.PerformanceTitle != f.opening.Title || q.StudentNo != "10101" {
		t.Fatalf("asked: %+v", q)
	}
	inbox, err := f.store.InboxQuestions(ctx)
	if err != nil || len(inbox) != 1 || inbox[0].ID != q.ID {
		t.Fatalf("inbox: %+v, %v", inbox, err)
	}
	if n, _ := f.store.WaitingQuestions(ctx); n != 1 {
		t.Fatalf("waiting %d, want 1", n)
	}
	if _, err := f.store.StudentQuestion(ctx, f.bob, q.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("bob reads alice's question: %v", err)
	}
	if list, _ := f.store.StudentQuestions(ctx, f.bob); len(list) != 0 {
		t.Fatalf("bob lists %d questions", len(list))
	}

	audits := f.count(`SELECT count(*) FROM audit_log`)
	a, err := f.store.AnswerQuestion(ctx, q.ID, "공연 시작 전까지 '내 표'에서 취소할 수 있어요.", council)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Answered() || a.AnsweredBy != "council" || a.Read {
		t.Fatalf("answered: %+v", a)
	}
	var actor int64
	var after string
	err = f.store.Pool.QueryRow(ctx, `SELECT actor_id, after::text FROM audit_log WHERE action = 'question_answer'`).Scan(&actor, &after)
	if err != nil || actor != council.ID || !strings.Contains(after, `"question_id": `+strconv.FormatInt(q.ID, 10)) {
		t.Fatalf("audit: actor %d after %s: %v", actor, after, err)
	}
	if f.count(`SELECT count(*) FROM audit_log`) != audits+1 {
		t.Fatal("an answer is one audit row")
	}

	before := f.questionsDigest()
	if _, err := f.store.AnswerQuestion(ctx, q.ID, "다른 답", council); !errors.Is(err, db.ErrAlreadyAnswered) {
		t.Fatalf("second answer: %v", err)
	}
	if _, err := f.store.AnswerQuestion(ctx, q.ID+1000, "없는 질문", council); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown question: %v", err)
	}
	if f.questionsDigest() != before {
		t.Fatal("a refused answer changed something")
	}
	mine, err := f.store.StudentQuestion(ctx, f.alice, q.ID)
	if err != nil || mine.Answer != a.Answer {
		t.Fatalf("alice sees %q: %v", mine.Answer, err)
	}
	if n, err := f.store.MarkAnswersRead(ctx, f.alice); n != 1 || err != nil {
		t.Fatalf("marked %d read: %v", n, err)
	}
	if n, _ := f.store.MarkAnswersRead(ctx, f.alice); n != 0 {
		t.Fatalf("marked again %d", n)
	}
	if n, _ := f.store.WaitingQuestions(ctx); n != 0 {
		t.Fatalf("waiting %d after the answer", n)
	}
}

// The database refuses what the forms refuse: an empty, blank or too long
// question or answer, an unknown performance; and a student may have only
// MaxWaitingQuestions unanswered and ask only QuestionBurst times in
// QuestionWindow. Each refusal writes nothing.
func TestQuestionLimits(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	before := f.questionsDigest()
	for name, body := range map[string]string{
		"empty": "", "blank": "  \n ", "too long": strings.Repeat("가", db.MaxQuestionChars+1),
	} {
		if _, err := f.store.AskQuestion(ctx, f.alice, 0, body); err == nil {
			t.Errorf("%s question accepted", name)
		}
	}
	if _, err := f.store.AskQuestion(ctx, f.alice, 999999, "어느 공연?"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown performance: %v", err)
	}
	if f.questionsDigest() != before {
		t.Fatal("a refused question changed something")
	}
	// Exactly the limit in characters is fine, Korean or not.
	if _, err := f.store.AskQuestion(ctx, f.alice, 0, strings.Repeat("가", db.MaxQuestionChars)); err != nil {
		t.Fatalf("a question of %d characters: %v", db.MaxQuestionChars, err)
	}
	for i := 1; i < db.MaxWaitingQuestions; i++ {
		if _, err := f.store.AskQuestion(ctx, f.alice, 0, "질문 "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	before = f.questionsDigest()
	if _, err := f.store.AskQuestion(ctx, f.alice, 0, "하나 더"); !errors.Is(err, db.ErrTooManyWaiting) {
		t.Fatalf("question %d: %v", db.MaxWaitingQuestions+1, err)
	}
	if f.questionsDigest() != before {
		t.Fatal("a refused question changed something")
	}
	// Bob is not limited by Alice's questions.
	if _, err := f.store.AskQuestion(ctx, f.bob, 0, "저는요?"); err != nil {
		t.Fatalf("bob: %v", err)
	}
	// Answered questions free the waiting places, but not the burst.
	f.exec(`UPDATE questions SET answer = '네', answered_at = now() WHERE student_id = $1`, f.alice)
	if _, err := f.store.AskQuestion(ctx, f.alice, 0, "또 물어봐요"); !errors.Is(err, db.ErrAskingTooFast) {
		t.Fatalf("a burst: %v", err)
	}
	f.exec(`UPDATE questions SET created_at = now() - interval '11 minutes' WHERE student_id = $1`, f.alice)
	if _, err := f.store.AskQuestion(ctx, f.alice, 0, "이제는 돼요?"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// An answer too long or blank is refused by the CHECK.
	q, _ := f.store.AskQuestion(ctx, f.bob, 0, "하나 더요")
	for _, answer := range []string{"", " ", strings.Repeat("a", db.MaxAnswerChars+1)} {
		if _, err := f.store.AnswerQuestion(ctx, q.ID, answer, f.councilActor()); err == nil {
			t.Errorf("answer of %d characters accepted", len(answer))
		}
	}
}

// Asking and answering each wake every instance's listener with
// "question:{student id}", once the transaction commits; a refused ask
// wakes nobody.
func TestQuestionNotifies(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, f.store.Pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `LISTEN festa_seats`); err != nil {
		t.Fatal(err)
	}
	want := db.QuestionChannelPrefix + strconv.FormatInt(f.alice, 10)
	next := func() string {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		n, err := conn.WaitForNotification(wait)
		if err != nil {
			return ""
		}
		return n.Payload
	}
	q, err := f.store.AskQuestion(ctx, f.alice, 0, "입장은 몇 시부터예요?")
	if err != nil {
		t.Fatal(err)
	}
	if got := next(); got != want {
		t.Fatalf("ask notified %q, want %q", got, want)
	}
	if _, err := f.store.AnswerQuestion(ctx, q.ID, "30분 전부터예요.", f.councilActor()); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != want {
		t.Fatalf("answer notified %q, want %q", got, want)
	}
	if _, err := f.store.AskQuestion(ctx, f.alice, 0, ""); err == nil {
		t.Fatal("empty question accepted")
	}
	if got := next(); got != "" {
		t.Fatalf("a refused ask notified %q", got)
	}
}

// The migration seeds canned answers for the common questions; the council
// adds and deletes them, and a deleted one leaves sent answers alone.
func TestCannedAnswers(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	list, err := f.store.CannedAnswers(ctx)
	if err != nil || len(list) < 4 {
		t.Fatalf("seeded %d canned answers: %v", len(list), err)
	}
	c, err := f.store.AddCannedAnswer(ctx, "주차", "학교 안에는 주차할 수 없어요.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AddCannedAnswer(ctx, "", "제목 없음"); err == nil {
		t.Fatal("a canned answer without a title accepted")
	}
	q, _ := f.store.AskQuestion(ctx, f.alice, 0, "차를 가져가도 되나요?")
	if _, err := f.store.AnswerQuestion(ctx, q.ID, c.Body, f.councilActor()); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteCannedAnswer(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteCannedAnswer(ctx, c.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if after, _ := f.store.CannedAnswers(ctx); len(after) != len(list) {
		t.Fatalf("%d canned answers after add and delete, want %d", len(after), len(list))
	}
	if got, _ := f.store.StudentQuestion(ctx, f.alice, q.ID); got.Answer != c.Body {
		t.Fatalf("the sent answer changed to %q", got.Answer)
	}
}

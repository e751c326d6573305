package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// The questions inbox (010_questions.sql): a student asks, the council
// answers once, and the answer shows on the student's pages. Every ask and
// every answer sends NOTIFY festa_seats "question:{student id}" in its own
// transaction (delivered at commit, never for a rolled-back one), so every
// app instance's listener wakes that student's live notice and the
// council's inbox. Questions are few, so the cluster-wide notify lock a
// NOTIFY inside a transaction takes costs nothing that matters here.

// QuestionChannelPrefix starts the payload of the NOTIFY festa_seats sent
// when a student's question is asked or answered: "question:{student id}".
const QuestionChannelPrefix = "question:"

// Limits on questions; the table's CHECKs hold the lengths too.
const (
	MaxQuestionChars = 1000 // a question's body, in characters
	MaxAnswerChars   = 2000 // an answer or a canned answer's text
	MaxCannedTitle   = 60   // a canned answer's title
	// MaxWaitingQuestions is how many unanswered questions a student may
	// have at once: the council answers before more pile up.
	MaxWaitingQuestions = 5
	// QuestionBurst questions at most per QuestionWindow, answered or
	// not, so a student cannot flood the inbox by asking and forgetting.
	QuestionBurst  = 5
	QuestionWindow = 10 * time.Minute
)

var (
	// ErrTooManyWaiting means the student already has
	// MaxWaitingQuestions unanswered questions; nothing was written.
	ErrTooManyWaiting = errors.New("too many unanswered questions")
	// ErrAskingTooFast means the student asked QuestionBurst questions in
	// the last QuestionWindow; nothing was written.
	ErrAskingTooFast = errors.New("too many questions in a short time")
	// ErrAlreadyAnswered means another council member answered first;
	// their answer stays.
	ErrAlreadyAnswered = errors.New("question already answered")
)

// Question is a student's question and, once given, its answer.
type Question struct {
	ID               int64
	StudentID        int64
	StudentNo        string
	StudentName      string
	PerformanceID    int64  // 0 when the student named none
	PerformanceTitle string // "" when none
	Body             string
	CreatedAt        time.Time
	Answer           string    // "" until answered
	AnsweredAt       time.Time // zero until answered
	AnsweredBy       string    // the council member's username; "" until answered
	Read             bool      // the student has seen the answer
}

// Answered reports whether the council has answered.
func (q Question) Answered() bool { return !q.AnsweredAt.IsZero() }

// CannedAnswer is one of the council's ready replies.
type CannedAnswer struct {
	ID    int64
	Title string
	Body  string
}

const questionColumns = `q.id, q.student_id, st.student_no, st.name, coalesce(q.performance_id, 0),
	coalesce(p.title, ''), q.body, q.created_at, coalesce(q.answer, ''), q.answered_at,
	coalesce(sf.username, ''), q.read_by_student`

const questionFrom = `questions q
	JOIN students st ON st.id = q.student_id
	LEFT JOIN performances p ON p.id = q.performance_id
	LEFT JOIN staff sf ON sf.id = q.answered_by`

func scanQuestion(row pgx.CollectableRow) (Question, error) {
	var q Question
	var answeredAt *time.Time
	err := row.Scan(&q.ID, &q.StudentID, &q.StudentNo, &q.StudentName, &q.PerformanceID, &q.PerformanceTitle,
		&q.Body, &q.CreatedAt, &q.Answer, &answeredAt, &q.AnsweredBy, &q.Read)
	if answeredAt != nil {
		q.AnsweredAt = *answeredAt
	}
	return q, err
}

// AskQuestion records a student's question (performanceID 0 for none)
// and announces it. The body must already be trimmed and within
// MaxQuestionChars (the CHECK refuses it otherwise). A student with
// MaxWaitingQuestions unanswered questions gets ErrTooManyWaiting, one who
// asked QuestionBurst times in QuestionWindow ErrAskingTooFast; the
// student's row is locked while counting, so two tabs asking at once
// cannot both slip under the limit.
func (s *Store) AskQuestion(ctx context.Context, studentID, performanceID int64, body string) (Question, error) {
	var q Question
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var waiting, recent int
		err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM questions WHERE student_id = $1 AND answered_at IS NULL),
			(SELECT count(*) FROM questions WHERE student_id = $1 AND created_at > now() - make_interval(secs => $2))
			FROM students WHERE id = $1 FOR NO KEY UPDATE`, studentID, QuestionWindow.Seconds()).Scan(&waiting, &recent)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch {
		case waiting >= MaxWaitingQuestions:
			return ErrTooManyWaiting
		case recent >= QuestionBurst:
			return ErrAskingTooFast
		}
		var perf *int64
		if performanceID != 0 {
			perf = &performanceID
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO questions (student_id, performance_id, body) VALUES ($1, $2, $3) RETURNING id`,
			studentID, perf, body).Scan(&id)
		if pgCode(err) == "23503" { // foreign_key_violation: no such performance
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := notifyQuestion(ctx, tx, studentID); err != nil {
			return err
		}
		q, err = questionByID(ctx, tx, id)
		return err
	})
	if errors.Is(err, ErrTooManyWaiting) || errors.Is(err, ErrAskingTooFast) || errors.Is(err, ErrNotFound) {
		return q, err
	}
	if err != nil {
		return q, fmt.Errorf("db: ask question: %w", err)
	}
	return q, nil
}

func notifyQuestion(ctx context.Context, tx pgx.Tx, studentID int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify('festa_seats', $1)`, QuestionChannelPrefix+strconv.FormatInt(studentID, 10))
	return err
}

func questionByID(ctx context.Context, q pgx.Tx, id int64) (Question, error) {
	rows, _ := q.Query(ctx, `SELECT `+questionColumns+` FROM `+questionFrom+` WHERE q.id = $1`, id)
	return pgx.CollectExactlyOneRow(rows, scanQuestion)
}

// maxListed bounds the lists below: a student's own questions and the
// council's inbox. Older ones stay in the table.
const maxListed = 100

// StudentQuestions lists a student's questions, newest first.
func (s *Store) StudentQuestions(ctx context.Context, studentID int64) ([]Question, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+questionColumns+` FROM `+questionFrom+`
		WHERE q.student_id = $1 ORDER BY q.created_at DESC, q.id DESC LIMIT $2`, studentID, maxListed)
	out, err := pgx.CollectRows(rows, scanQuestion)
	if err != nil {
		return nil, fmt.Errorf("db: student questions: %w", err)
	}
	return out, nil
}

// StudentQuestion returns one of the student's own questions; anyone
// else's is ErrNotFound, exactly as a question that does not exist.
func (s *Store) StudentQuestion(ctx context.Context, studentID, id int64) (Question, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+questionColumns+` FROM `+questionFrom+`
		WHERE q.id = $1 AND q.student_id = $2`, id, studentID)
	q, err := pgx.CollectExactlyOneRow(rows, scanQuestion)
	if errors.Is(err, pgx.ErrNoRows) {
		return q, ErrNotFound
	}
	if err != nil {
		return q, fmt.Errorf("db: student question: %w", err)
	}
	return q, nil
}

// MarkAnswersRead records that the student has seen every answer they
// were given so far, and returns how many were new to them.
func (s *Store) MarkAnswersRead(ctx context.Context, studentID int64) (int, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE questions SET read_by_student = true
		WHERE student_id = $1 AND answered_at IS NOT NULL AND NOT read_by_student`, studentID)
	if err != nil {
		return 0, fmt.Errorf("db: mark answers read: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// InboxQuestions is the council's inbox: unanswered questions newest
// first, then the answered ones, most recently answered first; maxListed
// in all.
func (s *Store) InboxQuestions(ctx context.Context) ([]Question, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+questionColumns+` FROM `+questionFrom+`
		ORDER BY q.answered_at IS NOT NULL, coalesce(q.answered_at, q.created_at) DESC, q.id DESC
		LIMIT $1`, maxListed)
	out, err := pgx.CollectRows(rows, scanQuestion)
	if err != nil {
		return nil, fmt.Errorf("db: inbox: %w", err)
	}
	return out, nil
}

// WaitingQuestions counts the questions nobody has answered yet.
func (s *Store) WaitingQuestions(ctx context.Context) (int, error) {
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM questions WHERE answered_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: waiting questions: %w", err)
	}
	return n, nil
}

// answerSnapshot is an answer as the audit log records it.
type answerSnapshot struct {
	QuestionID int64  `json:"question_id"`
	StudentNo  string `json:"student_no"`
	Answer     string `json:"answer"`
}

// AnswerQuestion gives the question its answer (trimmed, within
// MaxAnswerChars), records who answered in the audit log and announces it
// to the student. A question answered already is ErrAlreadyAnswered (the
// first answer stays: two council members answering at once cannot both
// send), an unknown one ErrNotFound.
func (s *Store) AnswerQuestion(ctx context.Context, id int64, answer string, a Actor) (Question, error) {
	var q Question
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var studentID int64
		act := actorArgs(a)
		err := tx.QueryRow(ctx, `UPDATE questions SET answer = $2, answered_at = now(), answered_by = $3
			WHERE id = $1 AND answered_at IS NULL RETURNING student_id`, id, answer, act[1]).Scan(&studentID)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM questions WHERE id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return ErrAlreadyAnswered
			}
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if q, err = questionByID(ctx, tx, id); err != nil {
			return err
		}
		after, _ := json.Marshal(answerSnapshot{QuestionID: id, StudentNo: q.StudentNo, Answer: answer})
		if _, err := tx.Exec(ctx, `SELECT festa_audit($1, $2, 'question_answer', NULLIF($3, 0), NULL, $4, $5, NULL, $6)`,
			act[0], act[1], q.PerformanceID, act[2], act[3], string(after)); err != nil {
			return err
		}
		return notifyQuestion(ctx, tx, studentID)
	})
	if errors.Is(err, ErrAlreadyAnswered) || errors.Is(err, ErrNotFound) {
		return q, err
	}
	if err != nil {
		return q, fmt.Errorf("db: answer question: %w", err)
	}
	return q, nil
}

// CannedAnswers lists the council's ready replies, oldest first (the
// order they were added in).
func (s *Store) CannedAnswers(ctx context.Context) ([]CannedAnswer, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT id, title, body FROM canned_answers ORDER BY id`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CannedAnswer, error) {
		var c CannedAnswer
		return c, r.Scan(&c.ID, &c.Title, &c.Body)
	})
	if err != nil {
		return nil, fmt.Errorf("db: canned answers: %w", err)
	}
	return out, nil
}

// AddCannedAnswer adds a ready reply (title and body trimmed and within
// their limits; the CHECKs refuse anything else).
func (s *Store) AddCannedAnswer(ctx context.Context, title, body string) (CannedAnswer, error) {
	c := CannedAnswer{Title: title, Body: body}
	err := s.Pool.QueryRow(ctx, `INSERT INTO canned_answers (title, body) VALUES ($1, $2) RETURNING id`, title, body).Scan(&c.ID)
	if err != nil {
		return c, fmt.Errorf("db: add canned answer: %w", err)
	}
	return c, nil
}

// DeleteCannedAnswer removes a ready reply; answers sent with it keep
// their text. An unknown id is ErrNotFound.
func (s *Store) DeleteCannedAnswer(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM canned_answers WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("db: delete canned answer: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// InboxQuestion returns any question, for the council's answer panel.
func (s *Store) InboxQuestion(ctx context.Context, id int64) (Question, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+questionColumns+` FROM `+questionFrom+` WHERE q.id = $1`, id)
	q, err := pgx.CollectExactlyOneRow(rows, scanQuestion)
	if errors.Is(err, pgx.ErrNoRows) {
		return q, ErrNotFound
	}
	if err != nil {
		return q, fmt.Errorf("db: question: %w", err)
	}
	return q, nil
}

// StudentWaitingQuestions counts the student's unanswered questions, for
// the live notice of a device that signs in (handlers/questions.go).
func (s *Store) StudentWaitingQuestions(ctx context.Context, studentID int64) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM questions WHERE student_id = $1 AND answered_at IS NULL`, studentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: student's waiting questions: %w", err)
	}
	return n, nil
}

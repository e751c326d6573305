package realtime

import (
	"context"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"festa/components"
	"festa/db"
	"festa/i18n"
)

// The questions inbox, live. Asking and answering send NOTIFY festa_seats
// "question:{student id}" inside their transaction (db.AskQuestion,
// db.AnswerQuestion), so it arrives, at commit, at every instance's
// Listener, this one's included; the Listener calls WakeQuestions, which
// wakes that student's hub (their notice and list) and the council's
// inbox hub. Like every hub they also refresh at the periodic catch-up,
// so a lost NOTIFY delays an answer by at most that period.
//
// A student's hub exists only while one of their pages holds the socket:
// /questions, and any page while they wait for an answer
// (components.QuestionNoticeLive). Every (re)connect gets the whole state:
// a student's own questions and the inbox are small.

// questionKeyBase starts the keys of the questions' hubs, far below the
// gate scanners' (gateKeyBase - id): the council's inbox is
// questionKeyBase itself, a student's questions questionKeyBase - their id.
const questionKeyBase = -1 << 60

func studentQuestionsKey(studentID int64) int64 { return questionKeyBase - studentID }

// isQuestionKey reports whether key is the inbox's or a student's; newHub
// asks it before isGateKey, whose range includes these keys.
func isQuestionKey(key int64) bool { return key <= questionKeyBase }

// ServeMyQuestions is ServePerformance for a student's questions: the
// notice of unread answers and the list of their questions. The caller has
// checked who the student is.
//
// from is where the page stands (its list's QuestionsVersion), nil when
// the page does not say: a page showing the current list is sent nothing
// first.
func (b *Broker) ServeMyQuestions(w http.ResponseWriter, r *http.Request, studentID int64, lang string, from *Position) {
	b.serve(w, r, studentQuestionsKey(studentID), lang, from)
}

// ServeInbox is ServePerformance for the council's inbox: the count of
// waiting questions and the list. The caller has checked the viewer is
// the council.
func (b *Broker) ServeInbox(w http.ResponseWriter, r *http.Request, lang string) {
	b.serve(w, r, questionKeyBase, lang, nil)
}

// WakeQuestions tells the broker that a question of the student was asked
// or answered: the student's hub and the inbox re-read. It never blocks.
func (b *Broker) WakeQuestions(studentID int64) {
	b.mu.RLock()
	mine, inbox := b.hubs[studentQuestionsKey(studentID)], b.hubs[questionKeyBase]
	b.mu.RUnlock()
	if mine != nil {
		mine.poke()
	}
	if inbox != nil {
		inbox.poke()
	}
}

// questionPayload reads the student id out of a question notification
// ("question:12"); ok is false for any other payload.
func questionPayload(payload string) (id int64, ok bool) {
	s, found := strings.CutPrefix(payload, db.QuestionChannelPrefix)
	if !found {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func newQuestionsFeed(store *db.Store, key int64) feed {
	if key == questionKeyBase {
		return &inboxFeed{store: store}
	}
	return &myQuestionsFeed{store: store, student: questionKeyBase - key}
}

// questionsSignature says what a list shows: each question and whether it
// is answered. A refresh sends nothing when it is unchanged. Whether the
// student has read an answer is left out: reading changes no list, and
// /questions marks answers read without a NOTIFY, so including it would
// redraw a page just loaded at the next catch-up (and lose its "new"
// marks).
func questionsSignature(qs []db.Question) string {
	var b strings.Builder
	for _, q := range qs {
		b.WriteString(strconv.FormatInt(q.ID, 10))
		if q.Answered() {
			b.WriteString("a,")
		} else {
			b.WriteString("w,")
		}
	}
	return b.String()
}

// QuestionsVersion names a student's list as a page drew it, for its
// socket URL (?v=): a socket whose page already shows the current list
// gets nothing first, so the page keeps its "new" marks; any other gets
// the whole list.
func QuestionsVersion(qs []db.Question) int64 {
	h := fnv.New64a()
	h.Write([]byte(questionsSignature(qs)))
	return int64(h.Sum64() >> 1)
}

// myQuestionsFeed is a student's questions.
type myQuestionsFeed struct {
	store   *db.Store
	student int64
	list    []db.Question
	sig     string
	version int64 // QuestionsVersion(list)
}

func (f *myQuestionsFeed) load(ctx context.Context) error {
	list, err := f.store.StudentQuestions(ctx, f.student)
	if err != nil {
		return err
	}
	f.list, f.sig, f.version = list, questionsSignature(list), QuestionsVersion(list)
	return nil
}

func (f *myQuestionsFeed) refresh(ctx context.Context) (*delta, error) {
	list, err := f.store.StudentQuestions(ctx, f.student)
	if err != nil {
		return nil, err
	}
	if sig := questionsSignature(list); sig != f.sig {
		f.list, f.sig, f.version = list, sig, QuestionsVersion(list)
		return &delta{render: f.full}, nil
	}
	f.list = list // the read marks, for the next full state
	return nil, nil
}

func (f *myQuestionsFeed) expire(time.Time) *delta { return nil }
func (f *myQuestionsFeed) nextExpiry() time.Time   { return time.Time{} }

// catchUp sends nothing to a page that shows the current list (see
// QuestionsVersion), the whole state to any other.
func (f *myQuestionsFeed) catchUp(pos Position) (*delta, bool) {
	return nil, pos.Horizon != f.version // a questions page carries its QuestionsVersion there
}

// full draws the notice and the list; an answer the student has not
// read yet is marked new, as /questions marks it.
func (f *myQuestionsFeed) full(ctx context.Context, b *builder) error {
	if err := b.add(ctx, "question-notice", components.QuestionNotice(UnreadAnswers(f.list), true)); err != nil {
		return err
	}
	views := QuestionViews(f.list)
	for i, q := range f.list {
		views[i].New = q.Answered() && !q.Read
	}
	return b.add(ctx, "my-questions", components.MyQuestions(views, langOf(ctx), true))
}

// inboxFeed is the council's inbox: the listed questions (the newest
// hundred, db.InboxQuestions) and how many wait in all.
type inboxFeed struct {
	store   *db.Store
	list    []db.Question
	waiting int
	sig     string
}

func (f *inboxFeed) read(ctx context.Context) (list []db.Question, waiting int, sig string, err error) {
	if list, err = f.store.InboxQuestions(ctx); err != nil {
		return nil, 0, "", err
	}
	if waiting, err = f.store.WaitingQuestions(ctx); err != nil {
		return nil, 0, "", err
	}
	return list, waiting, strconv.Itoa(waiting) + ":" + questionsSignature(list), nil
}

func (f *inboxFeed) load(ctx context.Context) (err error) {
	f.list, f.waiting, f.sig, err = f.read(ctx)
	return err
}

func (f *inboxFeed) refresh(ctx context.Context) (*delta, error) {
	list, waiting, sig, err := f.read(ctx)
	if err != nil {
		return nil, err
	}
	if sig == f.sig {
		return nil, nil
	}
	f.list, f.waiting, f.sig = list, waiting, sig
	return &delta{render: f.full}, nil
}

func (f *inboxFeed) expire(time.Time) *delta         { return nil }
func (f *inboxFeed) nextExpiry() time.Time           { return time.Time{} }
func (f *inboxFeed) catchUp(Position) (*delta, bool) { return nil, true }
func (f *inboxFeed) full(ctx context.Context, b *builder) error {
	if err := b.add(ctx, "inbox-count", components.InboxCount(f.waiting, true)); err != nil {
		return err
	}
	return b.add(ctx, "inbox-list", components.InboxList(QuestionViews(f.list), langOf(ctx), true))
}

// QuestionViews converts questions for the components, as the pages and
// their sockets both draw them.
func QuestionViews(qs []db.Question) []components.QuestionView {
	out := make([]components.QuestionView, len(qs))
	for i, q := range qs {
		out[i] = QuestionView(q)
	}
	return out
}

// QuestionView converts one question for the components.
func QuestionView(q db.Question) components.QuestionView {
	return components.QuestionView{
		ID: q.ID, Body: q.Body, Performance: q.PerformanceTitle, AskedAt: q.CreatedAt,
		Answer: q.Answer, AnsweredAt: q.AnsweredAt, AnsweredBy: q.AnsweredBy,
		StudentNo: q.StudentNo, StudentName: q.StudentName,
	}
}

// UnreadAnswers counts the answers the student has not seen yet.
func UnreadAnswers(qs []db.Question) int {
	n := 0
	for _, q := range qs {
		if q.Answered() && !q.Read {
			n++
		}
	}
	return n
}

// WaitingQuestions counts the unanswered questions of a list.
func WaitingQuestions(qs []db.Question) int {
	n := 0
	for _, q := range qs {
		if !q.Answered() {
			n++
		}
	}
	return n
}

// langOf is the language a hub renders in (see hub.render).
func langOf(ctx context.Context) string { return i18n.FromContext(ctx).Lang() }

package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/realtime"
)

// The students' side of the questions inbox (the council's is in
// admin_questions.go): /questions asks and lists a student's own
// questions, /questions/{id} shows one, and /ws/questions brings answers
// live. A question is plain text; the database holds the limits
// (db.MaxQuestionChars, db.MaxWaitingQuestions, db.QuestionBurst) and this
// file says them in words.

// sessQuestionsLive marks a session whose student waits for an answer:
// while it is set every page opens the questions socket, so "an answer
// has arrived" shows wherever the student is (components.QuestionNoticeLive).
// Asking sets it, and so does signing in with a question waiting (asked
// on another device); /questions clears it once nothing is waiting.
// Other students' pages open no extra socket.
const sessQuestionsLive = "questions_live"

// questionsLive reports whether the request's student waits for an answer.
func (h *Handler) questionsLive(c echo.Context) bool {
	if loaded, _ := c.Get(sessionLoaded).(bool); !loaded {
		return false
	}
	return h.sessions.GetBool(c.Request().Context(), sessQuestionsLive)
}

// showQuestions is /questions: the form and the student's questions. The
// answers shown here count as read from now on, so the notice stops; the
// ones new to the student are marked once on this page.
func (h *Handler) showQuestions(c echo.Context) error {
	v, err := h.questionsView(c)
	if err != nil {
		return err
	}
	if c.QueryParam("sent") == "1" {
		v.Notice = tr(c, "questions.sent")
	}
	return h.renderQuestions(c, http.StatusOK, v)
}

// questionsView reads the student's questions and the performances they
// may name, and marks the answers read.
func (h *Handler) questionsView(c echo.Context) (components.QuestionsView, error) {
	ctx := c.Request().Context()
	st, _ := h.student(c)
	list, err := h.store.StudentQuestions(ctx, st.ID)
	if err != nil {
		return components.QuestionsView{}, err
	}
	if _, err := h.store.MarkAnswersRead(ctx, st.ID); err != nil {
		return components.QuestionsView{}, err
	}
	h.sessions.Put(ctx, sessQuestionsLive, realtime.WaitingQuestions(list) > 0)
	views := realtime.QuestionViews(list)
	for i, q := range list {
		views[i].New = q.Answered() && !q.Read
	}
	choices, err := h.questionChoices(ctx)
	if err != nil {
		return components.QuestionsView{}, err
	}
	return components.QuestionsView{
		CSRF: csrfToken(c), Lang: localizer(c).Lang(), Questions: views, Choices: choices,
		MaxChars: db.MaxQuestionChars, MaxWaiting: db.MaxWaitingQuestions,
		WaitingCount: realtime.WaitingQuestions(list),
		LiveURL:      components.QuestionsSocket + "?v=" + strconv.FormatInt(realtime.QuestionsVersion(list), 10),
	}, nil
}

// questionChoices are the festival's performances, for "about a show".
func (h *Handler) questionChoices(ctx context.Context) ([]components.QuestionChoice, error) {
	ev, err := h.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	perfs, err := h.store.EventPerformances(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	out := make([]components.QuestionChoice, len(perfs))
	for i, p := range perfs {
		out[i] = components.QuestionChoice{ID: p.ID, Title: p.Title}
	}
	return out, nil
}

func (h *Handler) renderQuestions(c echo.Context, status int, v components.QuestionsView) error {
	c.Response().Header().Set("Cache-Control", "private, no-store")
	// The page opens the questions socket itself.
	p := h.page(c, tr(c, "questions.title"))
	p.QuestionsLive = false
	return h.render(c, status, components.QuestionsPage(p, v))
}

// askQuestion sends the student's question. A plain form is answered with
// a redirect to /questions (so a reload does not ask twice); htmx gets a
// fresh form and the list. A refused question keeps its text: htmx leaves
// the form alone and says why in #messages, a plain form gets the page
// again with the text and the reason.
func (h *Handler) askQuestion(c echo.Context) error {
	ctx := c.Request().Context()
	st, _ := h.student(c)
	body := strings.TrimSpace(strings.ReplaceAll(c.FormValue("body"), "\r\n", "\n"))
	perf, perfErr := strconv.ParseInt(c.FormValue("performance"), 10, 64)
	if c.FormValue("performance") == "" {
		perf, perfErr = 0, nil
	}
	var refusal error
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		refusal = fail(http.StatusUnprocessableEntity, "questions.err_empty")
	case n > db.MaxQuestionChars:
		refusal = fail(http.StatusUnprocessableEntity, "questions.err_too_long", "max", db.MaxQuestionChars, "length", n)
	case perfErr != nil || perf < 0:
		refusal = fail(http.StatusUnprocessableEntity, "questions.err_performance")
	}
	if refusal == nil {
		_, err := h.store.AskQuestion(ctx, st.ID, perf, body)
		switch {
		case errors.Is(err, db.ErrTooManyWaiting):
			refusal = fail(http.StatusTooManyRequests, "questions.err_waiting", "max", db.MaxWaitingQuestions)
		case errors.Is(err, db.ErrAskingTooFast):
			refusal = fail(http.StatusTooManyRequests, "questions.err_too_fast", "minutes", int(db.QuestionWindow.Minutes()))
		case errors.Is(err, db.ErrNotFound):
			refusal = fail(http.StatusUnprocessableEntity, "questions.err_performance")
		case err != nil:
			return err
		}
	}
	if refusal != nil {
		return h.refuseQuestion(c, refusal, body, perf)
	}
	h.sessions.Put(ctx, sessQuestionsLive, true)
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/questions?sent=1")
	}
	v, err := h.questionsView(c)
	if err != nil {
		return err
	}
	v.Notice = tr(c, "questions.sent")
	return h.render(c, http.StatusOK, components.QuestionSent(v))
}

// refuseQuestion answers a refused question: see askQuestion.
func (h *Handler) refuseQuestion(c echo.Context, refusal error, body string, perf int64) error {
	if isHTMX(c) {
		return refusal
	}
	v, err := h.questionsView(c)
	if err != nil {
		return err
	}
	ue := refusal.(*userError)
	v.Error = tr(c, ue.id, ue.args...)
	v.Body, v.Performance = body, perf
	return h.renderQuestions(c, ue.status, v)
}

// showQuestion is /questions/{id}: one of the student's own questions.
// Anyone else's, and an id that is no number, is 404.
func (h *Handler) showQuestion(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	st, _ := h.student(c)
	q, err := h.store.StudentQuestion(c.Request().Context(), st.ID, id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return h.render(c, http.StatusOK, components.QuestionPage(h.page(c, tr(c, "questions.one_title")), realtime.QuestionView(q)))
}

// watchMyQuestions opens a student's questions socket: the notice of
// unread answers and their list, live; ?v= is the version of the list the
// page shows (components.QuestionsView.LiveURL). Sockets skip the session
// middleware (session.go), so the session is read here from its cookie;
// anyone not signed in as a student is refused before the upgrade.
func (h *Handler) watchMyQuestions(c echo.Context) error {
	if h.live == nil {
		return echo.ErrNotFound
	}
	ck, err := c.Cookie(h.sessions.Cookie.Name)
	if err != nil {
		return fail(http.StatusForbidden, "auth.required")
	}
	ctx, err := h.sessions.Load(c.Request().Context(), ck.Value)
	if err != nil {
		return err
	}
	id := h.sessions.GetInt64(ctx, sessStudentID)
	if id == 0 {
		return fail(http.StatusForbidden, "auth.required")
	}
	var from *realtime.Position
	if v, err := strconv.ParseInt(c.QueryParam("v"), 10, 64); err == nil {
		from = &realtime.Position{Horizon: v} // the list's QuestionsVersion, in the horizon's place
	}
	h.live.ServeMyQuestions(c.Response(), c.Request(), id, localizer(c).Lang(), from)
	return nil
}

package handlers

import (
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

// The council's questions inbox (routes.go puts it behind the council
// role): /admin/questions lists every question live (/ws/admin/questions),
// /admin/questions/{id} opens one with its answer form, and the canned
// answers are managed on the same page. An answer is sent once
// (db.ErrAlreadyAnswered when someone was quicker) and audited.

// inboxView reads the inbox and the canned answers; selected (0 for none)
// opens that question's answer panel.
func (h *Handler) inboxView(c echo.Context, selected int64) (components.InboxView, error) {
	ctx := c.Request().Context()
	list, err := h.store.InboxQuestions(ctx)
	if err != nil {
		return components.InboxView{}, err
	}
	canned, err := h.store.CannedAnswers(ctx)
	if err != nil {
		return components.InboxView{}, err
	}
	waiting, err := h.store.WaitingQuestions(ctx)
	if err != nil {
		return components.InboxView{}, err
	}
	v := components.InboxView{
		CSRF: csrfToken(c), Lang: localizer(c).Lang(), Questions: realtime.QuestionViews(list),
		Waiting: waiting, MaxAnswer: db.MaxAnswerChars, MaxTitle: db.MaxCannedTitle,
	}
	for _, ca := range canned {
		v.Canned = append(v.Canned, components.CannedView{ID: ca.ID, Title: ca.Title, Body: ca.Body})
	}
	if selected != 0 {
		// The inbox lists the newest hundred; an older question is read
		// on its own.
		for i := range v.Questions {
			if v.Questions[i].ID == selected {
				v.Selected = &v.Questions[i]
			}
		}
		if v.Selected == nil {
			q, err := h.store.InboxQuestion(ctx, selected)
			if errors.Is(err, db.ErrNotFound) {
				return v, echo.ErrNotFound
			}
			if err != nil {
				return v, err
			}
			qv := realtime.QuestionView(q)
			v.Selected = &qv
		}
	}
	return v, nil
}

// renderInbox answers with the whole page, or only the answer panel to
// htmx (a question chosen in the list, an answer sent).
func (h *Handler) renderInbox(c echo.Context, status int, v components.InboxView) error {
	noStore(c)
	// htmx restoring history asks for the whole page.
	if isHTMX(c) && c.Request().Header.Get("HX-History-Restore-Request") != "true" {
		return h.render(c, status, components.InboxPanelUpdate(v))
	}
	return h.render(c, status, components.InboxPage(h.page(c, tr(c, "questions.inbox_title")), v))
}

func (h *Handler) showInbox(c echo.Context) error {
	v, err := h.inboxView(c, 0)
	if err != nil {
		return err
	}
	return h.renderInbox(c, http.StatusOK, v)
}

// showInboxQuestion opens one question's answer panel.
func (h *Handler) showInboxQuestion(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	v, err := h.inboxView(c, id)
	if err != nil {
		return err
	}
	return h.renderInbox(c, http.StatusOK, v)
}

// answerQuestion sends the answer typed (or, with an empty box, the
// canned answer chosen: the form works without scripts too).
func (h *Handler) answerQuestion(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	answer := strings.TrimSpace(strings.ReplaceAll(c.FormValue("answer"), "\r\n", "\n"))
	if answer == "" && c.FormValue("canned") != "" {
		if ca, ok := h.cannedAnswer(c); ok {
			answer = ca.Body
		}
	}
	refuse := func(status int, msg string) error {
		v, err := h.inboxView(c, id)
		if err != nil {
			return err
		}
		v.Answer, v.Error = answer, msg
		return h.renderInbox(c, status, v)
	}
	switch n := utf8.RuneCountInString(answer); {
	case n == 0:
		return refuse(http.StatusUnprocessableEntity, tr(c, "questions.err_answer_empty"))
	case n > db.MaxAnswerChars:
		return refuse(http.StatusUnprocessableEntity, tr(c, "questions.err_answer_long", "max", db.MaxAnswerChars, "length", n))
	}
	_, err = h.store.AnswerQuestion(ctx, id, answer, h.consoleActor(c))
	switch {
	case errors.Is(err, db.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, db.ErrAlreadyAnswered):
		return refuse(http.StatusConflict, tr(c, "questions.err_already"))
	case err != nil:
		return err
	}
	v, err := h.inboxView(c, id)
	if err != nil {
		return err
	}
	v.Notice = tr(c, "questions.answer_sent")
	return h.renderInbox(c, http.StatusOK, v)
}

// cannedAnswer is the canned answer the form names (canned=id).
func (h *Handler) cannedAnswer(c echo.Context) (db.CannedAnswer, bool) {
	id, err := strconv.ParseInt(c.FormValue("canned"), 10, 64)
	if err != nil {
		return db.CannedAnswer{}, false
	}
	list, err := h.store.CannedAnswers(c.Request().Context())
	if err != nil {
		return db.CannedAnswer{}, false
	}
	for _, ca := range list {
		if ca.ID == id {
			return ca, true
		}
	}
	return db.CannedAnswer{}, false
}

// fillCannedAnswer answers the canned-answer picker: the answer box
// filled with the chosen answer (empty for "write my own"), to edit.
func (h *Handler) fillCannedAnswer(c echo.Context) error {
	ca, _ := h.cannedAnswer(c)
	noStore(c)
	return h.render(c, http.StatusOK, components.AnswerBox(ca.Body, db.MaxAnswerChars, false))
}

// addCannedAnswer adds a canned answer from the console's form.
func (h *Handler) addCannedAnswer(c echo.Context) error {
	title := strings.TrimSpace(c.FormValue("title"))
	body := strings.TrimSpace(strings.ReplaceAll(c.FormValue("body"), "\r\n", "\n"))
	v, err := h.inboxView(c, 0)
	if err != nil {
		return err
	}
	if nt, nb := utf8.RuneCountInString(title), utf8.RuneCountInString(body); nt == 0 || nb == 0 || nt > db.MaxCannedTitle || nb > db.MaxAnswerChars {
		v.Error = tr(c, "questions.err_canned", "title", db.MaxCannedTitle, "body", db.MaxAnswerChars)
		return h.render(c, http.StatusUnprocessableEntity, components.InboxPage(h.page(c, tr(c, "questions.inbox_title")), v))
	}
	if _, err := h.store.AddCannedAnswer(c.Request().Context(), title, body); err != nil {
		return err
	}
	if v, err = h.inboxView(c, 0); err != nil {
		return err
	}
	v.Notice = tr(c, "questions.canned_added", "title", title)
	return h.render(c, http.StatusOK, components.InboxPage(h.page(c, tr(c, "questions.inbox_title")), v))
}

// deleteCannedAnswer removes a canned answer; sent answers keep their text.
func (h *Handler) deleteCannedAnswer(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	err = h.store.DeleteCannedAnswer(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	v, err := h.inboxView(c, 0)
	if err != nil {
		return err
	}
	v.Notice = tr(c, "questions.canned_deleted")
	return h.render(c, http.StatusOK, components.InboxPage(h.page(c, tr(c, "questions.inbox_title")), v))
}

// watchInbox opens the council's inbox socket (requireStaffSocket has let
// only the council through).
func (h *Handler) watchInbox(c echo.Context) error {
	if h.live == nil {
		return echo.ErrNotFound
	}
	h.live.ServeInbox(c.Response(), c.Request(), localizer(c).Lang())
	return nil
}

// questionsWaiting counts the unanswered questions for the console's
// navigation: council pages only (one count on a partial index). The
// badge is a convenience, so a failed count shows none rather than
// failing the page.
func (h *Handler) questionsWaiting(c echo.Context) int {
	s, ok := h.staff(c)
	if !ok || s.Role != "council" {
		return 0
	}
	n, err := h.store.WaitingQuestions(c.Request().Context())
	if err != nil {
		h.log.WarnContext(c.Request().Context(), "count waiting questions", "error", err)
		return 0
	}
	return n
}

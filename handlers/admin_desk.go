package handlers

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/tickets"
)

// The ticket desk (routes.go puts it behind the council role): find a
// student by number or name, or a seat of a performance, and fix what went
// wrong for them. Each action is a form with a reason, applied by one
// festa_desk_* function under the seats' locks (db/desk.go), which
// keeps the seat rules and writes the audit rows; a success comes back to
// the page the form was on with a notice, a refusal says why and changes
// nothing.
//
// The desk works whatever the sales state: people come to it while sales
// are paused and at the door after they close, and the council is trusted
// with the window. It never bends a seat rule: a seat given out must be
// free, of the ticket's own performance, and not blocked.

// deskNoticeKey is the session key of the notice an action leaves for the
// page it returns to.
const deskNoticeKey = "desk_notice"

// Limits of what the desk's forms take, in characters.
const (
	maxDeskReason = 200
	maxGuestName  = 100
)

// showDesk is /admin/desk?q=…&performance=…: q is a student number, a
// seat label (looked up in the chosen performance) or a part of a name.
func (h *Handler) showDesk(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	return h.renderDesk(c, q, c.QueryParam("performance"))
}

// showDeskSeat is a seat's page at the desk.
func (h *Handler) showDeskSeat(c echo.Context) error {
	return h.renderDesk(c, strings.ToUpper(c.Param("label")), c.Param("performance"))
}

func (h *Handler) renderDesk(c echo.Context, q, perfSlug string) error {
	ctx := c.Request().Context()
	v := components.DeskView{Query: q, CSRF: csrfToken(c), Lang: localizer(c).Lang(), Here: c.Request().URL.RequestURI(),
		Notice: h.sessions.PopString(ctx, deskNoticeKey)}
	perfs, err := h.deskPerformances(c)
	if err != nil {
		return err
	}
	var perf *db.PerformanceWithOccupancy
	for i := range perfs {
		v.Performances = append(v.Performances, components.DeskPerformance{Slug: perfs[i].Slug, Title: perfs[i].Title})
		if perfs[i].Slug == perfSlug {
			perf = &perfs[i]
		}
	}
	if perf == nil && len(perfs) > 0 {
		perf = &perfs[0]
	}
	if perf != nil {
		v.Performance = perf.Slug
	}
	label := strings.ToUpper(q)
	switch {
	case q == "":
	case studentNoRE.MatchString(q):
		err = h.deskFindStudent(c, &v, q)
	case seatLabelRE.MatchString(label) && perf != nil:
		err = h.deskFindSeat(c, &v, perf.Performance, label)
	default:
		err = h.deskFindName(c, &v, q)
	}
	if err != nil {
		return err
	}
	noStore(c)
	return h.render(c, http.StatusOK, components.DeskPage(h.page(c, tr(c, "desk.title")), v))
}

// deskPerformances are the event's performances, in start order.
func (h *Handler) deskPerformances(c echo.Context) ([]db.PerformanceWithOccupancy, error) {
	ev, err := h.store.FirstEvent(c.Request().Context())
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return h.store.EventPerformances(c.Request().Context(), ev.ID)
}

func (h *Handler) deskFindStudent(c echo.Context, v *components.DeskView, no string) error {
	st, err := h.store.DeskStudentByNo(c.Request().Context(), no)
	if errors.Is(err, db.ErrNotFound) {
		v.NotFound = tr(c, "desk.no_student", "q", no)
		return nil
	}
	if err != nil {
		return err
	}
	sv := &components.DeskStudentView{No: st.No, Name: st.Name, Enabled: st.Enabled, Audit: deskAuditRows(st.Audit)}
	for _, hd := range st.Holds {
		sv.Holds = append(sv.Holds, components.DeskHoldView{Performance: hd.PerformanceSlug,
			PerformanceTitle: hd.PerformanceTitle, Seat: hd.SeatLabel, HeldUntil: hd.HeldUntil, Live: hd.Live})
	}
	for _, t := range st.Tickets {
		sv.Tickets = append(sv.Tickets, deskTicketView(t))
	}
	v.Student = sv
	return nil
}

func (h *Handler) deskFindSeat(c echo.Context, v *components.DeskView, perf db.Performance, label string) error {
	s, err := h.store.DeskSeatByLabel(c.Request().Context(), perf.ID, label)
	if errors.Is(err, db.ErrNotFound) {
		v.NotFound = tr(c, "desk.no_seat", "seat", label, "title", perf.Title)
		return nil
	}
	if err != nil {
		return err
	}
	sv := &components.DeskSeatView{Performance: perf.Slug, PerformanceTitle: perf.Title, Label: s.Label, Kind: s.Kind,
		State: s.State, Reserved: s.Reserved(), HeldUntil: s.HeldUntil, HolderNo: s.HolderNo, HolderName: s.HolderName,
		Audit: deskAuditRows(s.Audit)}
	if s.Ticket != nil {
		tv := deskTicketView(*s.Ticket)
		sv.Ticket = &tv
	}
	v.Seat = sv
	return nil
}

func (h *Handler) deskFindName(c echo.Context, v *components.DeskView, q string) error {
	hits, err := h.store.FindStudents(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if len(hits) == 1 {
		return h.deskFindStudent(c, v, hits[0].No)
	}
	for _, m := range hits {
		v.Matches = append(v.Matches, components.DeskMatch{No: m.No, Name: m.Name, Enabled: m.Enabled})
	}
	if len(hits) == 0 {
		v.NotFound = tr(c, "desk.no_match", "q", q)
	}
	return nil
}

func deskTicketView(t db.DeskTicket) components.DeskTicketView {
	return components.DeskTicketView{ID: t.ID, Performance: t.PerformanceSlug, PerformanceTitle: t.PerformanceTitle,
		HallName: t.HallName, StartsAt: t.StartsAt, Seat: t.SeatLabel, RowLabel: t.RowLabel, SeatNumber: t.SeatNumber,
		StudentNo: t.StudentNo, StudentName: t.StudentName, Guest: t.GuestName, Status: t.Status, IssuedAt: t.IssuedAt,
		CancelledAt: t.CancelledAt, CheckedInAt: t.CheckedInAt, CheckedGate: t.CheckedGate}
}

func deskAuditRows(rows []db.DeskAudit) []components.DeskAuditRow {
	out := make([]components.DeskAuditRow, len(rows))
	for i, a := range rows {
		out[i] = components.DeskAuditRow{At: a.At, ActorKind: a.ActorKind, ActorName: a.ActorName, Action: a.Action,
			Performance: a.Performance, Seat: a.SeatLabel, Reason: a.Reason}
	}
	return out
}

// deskTicket is the ticket named in the path, a student's or a guest's.
func (h *Handler) deskTicket(c echo.Context) (db.DeskTicket, error) {
	id := c.Param("id")
	if _, err := tickets.ParseID(id); err != nil {
		return db.DeskTicket{}, echo.ErrNotFound
	}
	t, err := h.store.DeskTicketByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return t, echo.ErrNotFound
	}
	return t, err
}

// deskSeatParams are the performance and the seat label of a seat's path.
func (h *Handler) deskSeatParams(c echo.Context) (db.Performance, string, error) {
	perf, err := h.performance(c)
	if err != nil {
		return perf, "", err
	}
	label := strings.ToUpper(c.Param("label"))
	if !seatLabelRE.MatchString(label) {
		return perf, "", echo.ErrNotFound
	}
	return perf, label, nil
}

// deskReason is the form's reason: required, kept in the audit log.
func deskReason(c echo.Context) (string, error) {
	r := strings.TrimSpace(c.FormValue("reason"))
	if r == "" || !utf8.ValidString(r) || utf8.RuneCountInString(r) > maxDeskReason {
		return "", fail(http.StatusUnprocessableEntity, "desk.err_reason", "max", maxDeskReason)
	}
	return r, nil
}

// deskDone wakes the live views of the performance, leaves notice for the
// page the form came from, and goes back there.
func (h *Handler) deskDone(c echo.Context, performanceID int64, notice string) error {
	h.notifier.Poke(performanceID)
	h.sessions.Put(c.Request().Context(), deskNoticeKey, notice)
	back := safeNext(c.FormValue("back"))
	if !strings.HasPrefix(back, "/admin/desk") {
		back = "/admin/desk"
	}
	return redirect(c, back)
}

// deskRefusal says in words why the database refused a desk action.
func deskRefusal(err error, seat, title string) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, db.ErrSeatTaken):
		return fail(http.StatusConflict, "desk.err_seat_taken", "seat", seat)
	case errors.Is(err, db.ErrSeatBlocked):
		return fail(http.StatusConflict, "desk.err_seat_blocked", "seat", seat)
	case errors.Is(err, db.ErrSeatNotFound):
		return fail(http.StatusUnprocessableEntity, "desk.err_seat_not_found", "seat", seat, "title", title)
	case errors.Is(err, db.ErrOtherPerformance):
		return fail(http.StatusUnprocessableEntity, "desk.err_other_performance", "title", title)
	case errors.Is(err, db.ErrSameSeat):
		return fail(http.StatusUnprocessableEntity, "desk.err_same_seat", "seat", seat)
	case errors.Is(err, db.ErrTicketCancelled):
		return fail(http.StatusConflict, "desk.err_cancelled")
	case errors.Is(err, db.ErrCheckedIn):
		return fail(http.StatusConflict, "desk.err_checked_in")
	case errors.Is(err, db.ErrNoHold):
		return fail(http.StatusConflict, "desk.err_no_hold", "seat", seat)
	case errors.Is(err, db.ErrNotReserved):
		return fail(http.StatusConflict, "desk.err_not_reserved", "seat", seat)
	}
	return err
}

// deskCancelTicket cancels a ticket and frees its seat.
func (h *Handler) deskCancelTicket(c echo.Context) error {
	t, err := h.deskTicket(c)
	if err != nil {
		return err
	}
	reason, err := deskReason(c)
	if err != nil {
		return err
	}
	if err := h.store.CancelTicketAtDesk(c.Request().Context(), t.ID, h.consoleActor(c), reason); err != nil {
		return deskRefusal(err, t.SeatLabel, t.PerformanceTitle)
	}
	return h.deskDone(c, t.PerformanceID, tr(c, "desk.cancelled", "seat", t.SeatLabel))
}

// deskMoveTicket moves a ticket to another seat of its performance. The
// form names the performance the seat is in; another one is refused.
func (h *Handler) deskMoveTicket(c echo.Context) error {
	t, err := h.deskTicket(c)
	if err != nil {
		return err
	}
	label := strings.ToUpper(strings.TrimSpace(c.FormValue("seat")))
	if !seatLabelRE.MatchString(label) {
		return fail(http.StatusUnprocessableEntity, "desk.err_seat_format")
	}
	perf, err := h.store.PerformanceBySlug(c.Request().Context(), c.FormValue("performance"))
	if errors.Is(err, db.ErrNotFound) {
		return fail(http.StatusUnprocessableEntity, "desk.err_other_performance", "title", t.PerformanceTitle)
	}
	if err != nil {
		return err
	}
	reason, err := deskReason(c)
	if err != nil {
		return err
	}
	err = h.store.MoveTicket(c.Request().Context(), t.ID, perf.ID, label, h.signTicket, h.consoleActor(c), reason)
	if err != nil {
		return deskRefusal(err, label, t.PerformanceTitle)
	}
	return h.deskDone(c, t.PerformanceID, tr(c, "desk.moved", "from", t.SeatLabel, "to", label))
}

// deskReleaseHold frees a hold on the seat, whoever holds it.
func (h *Handler) deskReleaseHold(c echo.Context) error {
	perf, label, err := h.deskSeatParams(c)
	if err != nil {
		return err
	}
	reason, err := deskReason(c)
	if err != nil {
		return err
	}
	if err := h.store.ReleaseHoldAtDesk(c.Request().Context(), perf.ID, label, h.consoleActor(c), reason); err != nil {
		return deskRefusal(err, label, perf.Title)
	}
	return h.deskDone(c, perf.ID, tr(c, "desk.released", "seat", label))
}

// deskReserveSeat holds a free seat back for the council.
func (h *Handler) deskReserveSeat(c echo.Context) error {
	return h.deskReserve(c, true)
}

// deskUnreserveSeat gives a seat held back to sale again.
func (h *Handler) deskUnreserveSeat(c echo.Context) error {
	return h.deskReserve(c, false)
}

func (h *Handler) deskReserve(c echo.Context, reserve bool) error {
	perf, label, err := h.deskSeatParams(c)
	if err != nil {
		return err
	}
	reason, err := deskReason(c)
	if err != nil {
		return err
	}
	if err := h.store.ReserveSeat(c.Request().Context(), perf.ID, label, reserve, h.consoleActor(c), reason); err != nil {
		if errors.Is(err, db.ErrSeatBlocked) {
			return fail(http.StatusConflict, "desk.err_no_seat", "seat", label)
		}
		return deskRefusal(err, label, perf.Title)
	}
	notice := tr(c, "desk.reserved", "seat", label)
	if !reserve {
		notice = tr(c, "desk.unreserved", "seat", label)
	}
	return h.deskDone(c, perf.ID, notice)
}

// deskIssueGuest gives a seat held back to a guest, named on the ticket.
func (h *Handler) deskIssueGuest(c echo.Context) error {
	perf, label, err := h.deskSeatParams(c)
	if err != nil {
		return err
	}
	guest := strings.TrimSpace(c.FormValue("guest"))
	if guest == "" || !utf8.ValidString(guest) || utf8.RuneCountInString(guest) > maxGuestName ||
		strings.IndexFunc(guest, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fail(http.StatusUnprocessableEntity, "desk.err_guest_name", "max", maxGuestName)
	}
	reason, err := deskReason(c)
	if err != nil {
		return err
	}
	_, err = h.store.IssueGuestTicket(c.Request().Context(), perf.ID, label, guest, newTicketID, h.signTicket, h.consoleActor(c), reason)
	if err != nil {
		if errors.Is(err, db.ErrSeatBlocked) {
			return fail(http.StatusConflict, "desk.err_no_seat", "seat", label)
		}
		return deskRefusal(err, label, perf.Title)
	}
	return h.deskDone(c, perf.ID, tr(c, "desk.guest_issued", "seat", label, "name", guest))
}

// printTicket is one active ticket as a printable A6 page, with the QR
// the gate scans (tickets.QRPNG, as on the student's ticket page).
func (h *Handler) printTicket(c echo.Context) error {
	t, err := h.deskTicket(c)
	if err != nil {
		return err
	}
	if t.Status != "active" {
		return fail(http.StatusConflict, "desk.err_cancelled")
	}
	png, err := tickets.QRPNG(t.Token)
	if err != nil {
		return err
	}
	v := components.DeskPrintView{Ticket: deskTicketView(t), Token: t.Token,
		QR: templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	noStore(c)
	return h.render(c, http.StatusOK, components.DeskPrintPage(h.page(c, t.PerformanceTitle+" "+t.SeatLabel), v))
}

package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/sales"
	"festa/seatpick"
	"festa/seatview"
	"festa/tickets"
)

// seatLabelRE is the shape of every seat label festa draws ("C12",
// "AA101"); anything else is refused before it reaches the database.
var seatLabelRE = regexp.MustCompile(`^[A-Z]{1,2}[0-9]{1,3}$`)

func (h *Handler) performance(c echo.Context) (db.Performance, error) {
	slug := c.Param("performance")
	if len(slug) > 64 {
		return db.Performance{}, echo.ErrNotFound
	}
	p, err := h.store.PerformanceBySlug(c.Request().Context(), slug)
	if errors.Is(err, db.ErrNotFound) {
		return p, echo.ErrNotFound
	}
	return p, err
}

func (h *Handler) showPerformance(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	_, signedIn := h.student(c)
	chosen := chosenSeat(c)
	if chosen != "" && !signedIn {
		// A seat tapped while signed out: sign in, then come back to it.
		next := "/p/" + perf.Slug + "?seat=" + chosen
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
	}
	if isHTMX(c) && c.QueryParam("panel") != "" {
		return h.refreshPanel(c, perf)
	}
	v, err := h.performanceView(c, perf)
	if err != nil {
		return err
	}
	if chosen != "" {
		offerChosenSeat(c, &v, chosen)
	}
	if signedIn {
		// The page shows this student's holds and tickets: never from a
		// shared cache, and never from the back/forward cache's copy of it.
		c.Response().Header().Set("Cache-Control", "private, no-store")
	}
	return h.render(c, http.StatusOK, components.PerformancePage(h.page(c, perf.Title), v))
}

// chosenSeat is the ?seat= of a performance page: a seat picked before
// signing in. Anything not shaped like a seat label is ignored.
func chosenSeat(c echo.Context) string {
	label := strings.ToUpper(strings.TrimSpace(c.QueryParam("seat")))
	if !seatLabelRE.MatchString(label) || c.QueryParam("panel") != "" {
		return ""
	}
	return label
}

// offerChosenSeat puts the seat picked before signing in into the hold
// panel when the student can still take it; when someone else was faster
// the page says so instead. Nothing is held: that takes the panel's POST.
func offerChosenSeat(c echo.Context, v *components.PerformanceView, label string) {
	s, ok := findSeat(v.Hall, label)
	if !ok || len(v.MyHolds) > 0 || v.Status != sales.Open || (v.TicketLimit > 0 && len(v.MyTickets) >= v.TicketLimit) {
		return
	}
	switch s.State {
	case "available":
		v.Selected = &s
	case "held", "sold":
		v.Message = tr(c, "booking.seat_taken", "seat", label)
	}
}

// refreshPanel answers festa.js asking for the hold panel alone (a hold ran
// out: ?panel=expired&seat=C12): the panel, and the named seats as they
// really are, out of band.
func (h *Handler) refreshPanel(c echo.Context, perf db.Performance) error {
	var labels []string
	for _, l := range c.QueryParams()["seat"] {
		if l = strings.ToUpper(l); seatLabelRE.MatchString(l) && len(labels) < 10 {
			labels = append(labels, l)
		}
	}
	v, named, err := h.answerView(c, perf, labels)
	if err != nil {
		return err
	}
	if c.QueryParam("panel") == "expired" {
		for _, s := range named {
			if s.State != "mine" {
				v.Expired = append(v.Expired, s.Label)
			}
		}
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return h.render(c, http.StatusOK, components.PanelRefresh(v, named))
}

// findSeat looks a seat up on the drawn hall.
func findSeat(hall components.Hall, label string) (components.SeatView, bool) {
	for _, row := range hall.Rows {
		for _, cell := range row.Cells {
			if cell != nil && cell.Label == label {
				return *cell, true
			}
		}
	}
	return components.SeatView{}, false
}

// performanceView loads the seat map and the signed-in student's holds and
// tickets for perf.
func (h *Handler) performanceView(c echo.Context, perf db.Performance) (components.PerformanceView, error) {
	ctx := c.Request().Context()
	seats, horizon, err := h.store.PerformanceSeats(ctx, perf.ID)
	if err != nil {
		return components.PerformanceView{}, err
	}
	st, signedIn := h.student(c)
	v := h.viewOf(c, perf, st, signedIn)
	v.Horizon = horizon
	v.Hall, v.Occupancy, v.MyHolds = h.drawHall(perf.ID, seats, st.ID)
	if signedIn {
		ts, err := h.store.StudentTickets(ctx, st.ID)
		if err != nil {
			return v, err
		}
		for _, t := range ts {
			if t.PerformanceID == perf.ID && t.Status == "active" {
				v.MyTickets = append(v.MyTickets, components.TicketLink{ID: t.ID, SeatLabel: t.SeatLabel})
			}
		}
	}
	return v, nil
}

// viewOf is what every view of perf says besides its seats: the
// performance, its sales state now, and who is looking.
func (h *Handler) viewOf(c echo.Context, perf db.Performance, st signedInStudent, signedIn bool) components.PerformanceView {
	now := h.now()
	v := components.PerformanceView{
		Slug: perf.Slug, Title: perf.Title, HallName: perf.HallName,
		StartsAt: perf.StartsAt, SalesOpenAt: perf.SalesOpenAt, SalesCloseAt: perf.SalesCloseAt,
		Status: sales.Status(perf, now), PauseMessage: perf.PauseMessage,
		HoldSeconds: perf.HoldSeconds, TicketLimit: perf.TicketLimit,
		SignedIn: signedIn, CSRF: csrfToken(c), Now: now,
	}
	if signedIn {
		v.HolderTag = h.holders.Tag(perf.ID, st.ID)
	}
	return v
}

// drawHall lays seats out on the hall grid and counts them, as the live
// feed does (seatview). me is the signed-in student (0 for none): their
// seats are drawn as "mine", and their live holds come back too.
func (h *Handler) drawHall(perfID int64, seats []db.SeatState, me int64) (components.Hall, components.Occupancy, []components.SeatView) {
	var mine []components.SeatView
	hall := seatview.Hall(seats, func(s db.SeatState) components.SeatView {
		v := h.seatView(perfID, s, me)
		if heldBy(s, me) {
			mine = append(mine, v)
		}
		return v
	})
	return hall, seatview.Count(seats), mine
}

// heldBy reports whether s is a live hold of student me (0: nobody).
func heldBy(s db.SeatState, me int64) bool {
	return me != 0 && s.StudentID == me && s.State == "held"
}

// seatView is seat s as student me sees it (seatview.View with the
// performance's holder tag).
func (h *Handler) seatView(perfID int64, s db.SeatState, me int64) components.SeatView {
	return seatview.View(s, h.holders.Tag(perfID, s.StudentID), me)
}

// seatParam reads and checks the posted seat label; lower case is
// forgiven, anything not shaped like a label is refused.
func seatParam(c echo.Context) (string, error) {
	label := strings.ToUpper(strings.TrimSpace(c.FormValue("seat")))
	if !seatLabelRE.MatchString(label) {
		return "", fail(http.StatusBadRequest, "booking.bad_seat")
	}
	return label, nil
}

// actor describes the request for the audit log.
func actor(c echo.Context, studentID int64) db.Actor {
	return db.Actor{Kind: "student", ID: studentID, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

func (h *Handler) holdSeat(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	st, _ := h.student(c)
	label, err := seatParam(c)
	if err != nil {
		return err
	}
	h.claims.claim(perf.ID, label, h.now())
	res, err := h.store.Hold(c.Request().Context(), perf.ID, label, st.ID, actor(c, st.ID))
	h.settleClaim(perf.ID, label, err)
	if err != nil {
		return h.refuse(c, perf, err, label)
	}
	h.notifier.Poke(perf.ID)
	return h.answerBooking(c, perf, append(res.Released, label))
}

// settleClaim ends the claim of a hold that has been answered with err:
// a seat held, or gone, stays claimed a moment, until the hall picture
// shows it; a seat whose hold was refused for another reason (the
// student's limit, sales paused) is free for the others at once.
func (h *Handler) settleClaim(perfID int64, label string, err error) {
	keep := err == nil || errors.Is(err, db.ErrSeatTaken) || errors.Is(err, db.ErrSeatBlocked)
	h.claims.settle(perfID, label, h.now(), keep)
}

func (h *Handler) holdBestSeat(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	st, _ := h.student(c)
	ctx := c.Request().Context()
	// Someone may take the chosen seat between the look and the hold, and
	// at the opening many press "best available" in the same instant, all
	// shown the same seats. Each takes the best seat no other tap of this
	// instance is going for (seatClaims); a retry, after a tap elsewhere
	// was faster, picks at random among more of the best ones
	// (bestSpread), so a crowd spread over several instances does not
	// queue for one seat either.
	tried := map[string]bool{}
	for _, spread := range bestSpread {
		seats, err := h.hallNow(ctx, perf.ID)
		if err != nil {
			return err
		}
		label := h.chooseBest(perf.ID, seats, st.ID, spread, tried)
		if label == "" {
			if len(tried) == 0 {
				return fail(http.StatusConflict, "booking.sold_out")
			}
			break
		}
		tried[label] = true
		res, err := h.store.Hold(ctx, perf.ID, label, st.ID, actor(c, st.ID))
		h.settleClaim(perf.ID, label, err)
		if errors.Is(err, db.ErrSeatTaken) || errors.Is(err, db.ErrSeatBlocked) {
			// The hall in hand is a moment old: the seat was taken, or the
			// council took it out of sale, since. The student never named
			// it, so that is no answer for them; try another.
			h.metrics.bestConflicts.Inc()
			continue
		}
		if err != nil {
			return h.refuse(c, perf, err)
		}
		h.notifier.Poke(perf.ID)
		return h.answerBooking(c, perf, append(res.Released, label))
	}
	return fail(http.StatusConflict, "booking.busy")
}

// chooseBest chooses and claims the seat for a try of "best available":
// at random among the spread best free seats of the hall that the student
// has not tried and no other tap of this instance is going for; "" when
// no free seat is left that the student has not tried. The whole hall is
// ranked: Ranked sorts every free seat whatever it is asked for, and the
// claims may cover any number of the best ones.
func (h *Handler) chooseBest(perfID int64, seats []db.SeatState, me int64, spread int, tried map[string]bool) string {
	var fresh []string
	for _, l := range seatpick.Ranked(pickable(seats, me), seatpick.Options{}, len(seats)) {
		if !tried[l] {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) == 0 {
		return ""
	}
	return h.claims.pick(perfID, fresh, spread, h.now())
}

// bestSpread is how many of the best free seats each try of "best
// available" chooses among: the best one first, then ever wider.
var bestSpread = []int{1, 8, 32, 128, 512}

// pickable is the hall as the best-seat picker sees it; the student's own
// hold counts as taken, so "best available" finds them another seat.
func pickable(seats []db.SeatState, me int64) []seatpick.Seat {
	out := make([]seatpick.Seat, 0, len(seats))
	for _, s := range seats {
		if s.Kind == "blocked" {
			continue
		}
		out = append(out, seatpick.Seat{Label: s.Label, Row: s.Y, X: s.X, Free: s.State == "available", Accessible: s.Kind == "accessible"})
	}
	return out
}

func (h *Handler) releaseSeat(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	st, _ := h.student(c)
	label, err := seatParam(c)
	if err != nil {
		return err
	}
	if err := h.store.Release(c.Request().Context(), perf.ID, label, st.ID, actor(c, st.ID)); err != nil {
		return h.refuse(c, perf, err, label)
	}
	h.claims.freed(perf.ID, label)
	h.notifier.Poke(perf.ID)
	return h.answerBooking(c, perf, []string{label})
}

func (h *Handler) confirmHold(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	st, _ := h.student(c)
	ts, err := h.store.Confirm(c.Request().Context(), perf.ID, st.ID, newTicketID, h.signTicket, actor(c, st.ID))
	if err != nil {
		// The form names the seats the page shows as held (never trusted
		// for the booking): they come back as they really are.
		return h.refuse(c, perf, err, formSeats(c)...)
	}
	h.notifier.Poke(perf.ID)
	to := "/tickets"
	if len(ts) == 1 {
		// ?new=1 gives the ticket page its "booked" moment, once.
		to = "/tickets/" + ts[0].ID + "?new=1"
	}
	return redirect(c, to)
}

func newTicketID() (string, error) {
	id, err := tickets.NewID()
	return id.String(), err
}

// signTicket signs a ticket's token with the first key of the ring.
func (h *Handler) signTicket(id, performance, seat string, issuedAt time.Time) (string, string, error) {
	tid, err := tickets.ParseID(id)
	if err != nil {
		return "", "", err
	}
	token, err := h.tickets.Sign(tickets.Claims{TicketID: tid, Performance: performance, Seat: seat, IssuedAt: issuedAt})
	if err != nil {
		return "", "", err
	}
	return strings.Split(token, ".")[1], token, nil
}

// answerBooking answers a hold or release: htmx gets the new hold panel and
// the changed seats out of band; a plain form post goes back to the page.
func (h *Handler) answerBooking(c echo.Context, perf db.Performance, changed []string) error {
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/p/"+perf.Slug)
	}
	v, named, err := h.answerView(c, perf, changed)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, components.BookingUpdate(v, named))
}

// answerView is the view an htmx answer (a booking, a refusal, a panel
// refresh) draws: everything performanceView has except the hall, which
// the page already shows and keeps live, so a tap reads a few seats, the
// counts and the student's tickets (db.Store.SeatSummary) instead of the
// whole map, and counts the hall this instance holds in memory (hallNow)
// with those seats laid over it. named are the seats labelled labels, as
// they now are, in hall order.
func (h *Handler) answerView(c echo.Context, perf db.Performance, labels []string) (components.PerformanceView, []components.SeatView, error) {
	ctx := c.Request().Context()
	st, signedIn := h.student(c)
	sum, err := h.store.SeatSummary(ctx, perf.ID, st.ID, labels)
	if err != nil {
		return components.PerformanceView{}, nil, err
	}
	hall, err := h.hallNow(ctx, perf.ID)
	if err != nil {
		return components.PerformanceView{}, nil, err
	}
	v := h.viewOf(c, perf, st, signedIn)
	v.Occupancy, v.FreeRows = seatview.Tally(hall, sum.Seats, st.ID)
	if signedIn {
		for _, t := range sum.Tickets {
			v.MyTickets = append(v.MyTickets, components.TicketLink{ID: t.ID, SeatLabel: t.SeatLabel})
		}
	}
	want := map[string]bool{}
	for _, l := range labels {
		want[l] = true
	}
	var named []components.SeatView
	for _, s := range sum.Seats {
		sv := h.seatView(perf.ID, s, st.ID)
		if want[s.Label] {
			named = append(named, sv)
		}
		if heldBy(s, st.ID) {
			v.MyHolds = append(v.MyHolds, sv)
		}
	}
	return v, named, nil
}

// redirect sends the browser to path: htmx follows HX-Redirect, a plain
// form post a 303.
func redirect(c echo.Context, path string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// formSeats are the well-formed seat labels a form posted (at most ten).
func formSeats(c echo.Context) []string {
	var labels []string
	if form, err := c.FormParams(); err == nil {
		for _, l := range form["seat"] {
			if l = strings.ToUpper(strings.TrimSpace(l)); seatLabelRE.MatchString(l) && len(labels) < 10 {
				labels = append(labels, l)
			}
		}
	}
	return labels
}

// refuse is bookingError for a request the page is waiting on: besides the
// message, an htmx request gets the truth out of band (components.
// BookingTruth): the seats it named as they really are (the one tapped
// was taken a moment ago, say), the count, and the hold panel unless the
// refusal was about one seat (a taken or missing seat changes nothing the
// panel shows, and swapping it would close the list picker under the
// student's thumb).
func (h *Handler) refuse(c echo.Context, perf db.Performance, cause error, seats ...string) error {
	label := ""
	if len(seats) > 0 {
		label = seats[0]
	}
	err := bookingError(cause, perf, label)
	var ue *userError
	if !isHTMX(c) || !errors.As(err, &ue) {
		return err
	}
	v, named, verr := h.answerView(c, perf, seats)
	if verr != nil {
		// The message still goes out; the live feed brings the seats.
		h.log.WarnContext(c.Request().Context(), "refusal without the seat map", "error", verr)
		return err
	}
	oneSeat := errors.Is(cause, db.ErrSeatTaken) || errors.Is(cause, db.ErrSeatBlocked) || errors.Is(cause, db.ErrSeatNotFound)
	ue.truth = components.BookingTruth(v, named, !oneSeat)
	return ue
}

// bookingError turns a refused booking into the message the student reads.
func bookingError(err error, perf db.Performance, seat string) error {
	switch {
	case errors.Is(err, db.ErrSeatNotFound):
		return fail(http.StatusNotFound, "booking.seat_not_found", "seat", seat)
	case errors.Is(err, db.ErrSeatBlocked):
		return fail(http.StatusConflict, "booking.seat_blocked", "seat", seat)
	case errors.Is(err, db.ErrSeatTaken):
		return fail(http.StatusConflict, "booking.seat_taken", "seat", seat)
	case errors.Is(err, db.ErrSalesNotOpen):
		return fail(http.StatusForbidden, "booking.sales_not_open")
	case errors.Is(err, db.ErrSalesClosed):
		return fail(http.StatusForbidden, "booking.sales_closed")
	case errors.Is(err, db.ErrSalesPaused):
		if perf.PauseMessage != "" {
			return fail(http.StatusForbidden, "booking.sales_paused_because", "message", perf.PauseMessage)
		}
		return fail(http.StatusForbidden, "booking.sales_paused")
	case errors.Is(err, db.ErrLimit):
		return fail(http.StatusConflict, "booking.limit", "count", perf.TicketLimit)
	case errors.Is(err, db.ErrNoHold):
		return fail(http.StatusConflict, "booking.no_hold")
	case errors.Is(err, db.ErrHoldExpired):
		return fail(http.StatusConflict, "booking.hold_expired")
	case errors.Is(err, db.ErrStudentDisabled):
		return fail(http.StatusForbidden, "booking.disabled")
	case errors.Is(err, db.ErrTicketCancelled):
		return fail(http.StatusConflict, "tickets.already_cancelled")
	case errors.Is(err, db.ErrCheckedIn):
		return fail(http.StatusConflict, "tickets.checked_in")
	case errors.Is(err, db.ErrNotFound):
		return echo.ErrNotFound
	}
	return err
}

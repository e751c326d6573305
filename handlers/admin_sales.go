package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
)

// Sales control: open now, pause with a message, resume, close now and
// move the closing time. Each action is one transaction in db (changeSales)
// that writes the audit row and wakes every instance's live viewers, so a
// pause reaches every open performance page and the home page as the
// #sales-banner at once, and every hold and confirm after it is refused
// with the council's message.

// councilZone is the festival's time zone, in which the console shows and
// reads times.
func councilZone() *time.Location { return components.Zone() }

// localTimeLayout is a datetime-local input's value.
const localTimeLayout = "2006-01-02T15:04"

// staffActor describes a council member's request for the audit log.
func (h *Handler) staffActor(c echo.Context) db.Actor {
	s, _ := h.staff(c)
	return db.Actor{Kind: "staff", ID: s.ID, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// readReason reads the optional reason of a sales action, kept in the
// audit log (spaces and line breaks folded). A reason too long to keep is
// refused in place: ok is then false and err is the answer's error, if
// any.
func (h *Handler) readReason(c echo.Context, perf db.Performance) (reason string, ok bool, err error) {
	reason = strings.Join(strings.Fields(c.FormValue("reason")), " ")
	if n := utf8.RuneCountInString(reason); n > components.MaxReason || !utf8.ValidString(reason) {
		return "", false, h.refuseSales(c, perf,
			map[string]string{"reason": tr(c, "admin.sales.err_reason_long", "count", components.MaxReason, "length", n)},
			map[string]string{"reason": reason})
	}
	return reason, true, nil
}

func (h *Handler) openSales(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	reason, ok, err := h.readReason(c, perf)
	if !ok {
		return err
	}
	p, err := h.store.OpenSales(c.Request().Context(), perf.ID, h.staffActor(c), reason)
	if errors.Is(err, db.ErrCloseBeforeOpen) {
		return h.refuseSales(c, perf, map[string]string{"closing": tr(c, "admin.sales.err_open_closed")}, nil)
	}
	if err != nil {
		return err
	}
	return h.salesChanged(c, p, "admin.sales.opened")
}

func (h *Handler) pauseSales(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	// Line ends are kept as typed, one kind of them; the message is shown
	// as text everywhere.
	message := strings.TrimSpace(strings.ReplaceAll(c.FormValue("message"), "\r\n", "\n"))
	if n := utf8.RuneCountInString(message); n > components.MaxPauseMessage || !utf8.ValidString(message) {
		return h.refuseSales(c, perf,
			map[string]string{"message": tr(c, "admin.sales.err_message_long", "count", components.MaxPauseMessage, "length", n)},
			map[string]string{"message": message})
	}
	p, err := h.store.PauseSales(c.Request().Context(), perf.ID, message, h.staffActor(c))
	if err != nil {
		return err
	}
	return h.salesChanged(c, p, "admin.sales.paused")
}

func (h *Handler) resumeSales(c echo.Context) error {
	return h.applySalesAction(c, h.store.ResumeSales, "admin.sales.resumed")
}

func (h *Handler) closeSales(c echo.Context) error {
	return h.applySalesAction(c, h.store.CloseSales, "admin.sales.closed")
}

// applySalesAction runs a sales action that takes nothing but the
// council's optional reason (resume, close) and answers with notice.
func (h *Handler) applySalesAction(c echo.Context,
	act func(ctx context.Context, performanceID int64, a db.Actor, reason string) (db.Performance, error), notice string) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	reason, ok, err := h.readReason(c, perf)
	if !ok {
		return err
	}
	p, err := act(c.Request().Context(), perf.ID, h.staffActor(c), reason)
	if err != nil {
		return err
	}
	return h.salesChanged(c, p, notice)
}

// setSalesClose moves the closing time (closing, a datetime-local value
// in the festival's time zone), which must come after the opening.
func (h *Handler) setSalesClose(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	reason, ok, err := h.readReason(c, perf)
	if !ok {
		return err
	}
	typed := strings.TrimSpace(c.FormValue("closing"))
	form := map[string]string{"closing": typed, "reason": reason}
	at, err := time.ParseInLocation(localTimeLayout, typed, councilZone())
	if err != nil {
		return h.refuseSales(c, perf, map[string]string{"closing": tr(c, "admin.sales.err_closing_format")}, form)
	}
	closeBeforeOpen := map[string]string{"closing": tr(c, "admin.sales.err_closing_before_open",
		"open", perf.SalesOpenAt.In(councilZone()).Format("2006-01-02 15:04"))}
	if !at.After(perf.SalesOpenAt) {
		return h.refuseSales(c, perf, closeBeforeOpen, form)
	}
	p, err := h.store.SetSalesClose(c.Request().Context(), perf.ID, at, h.staffActor(c), reason)
	if errors.Is(err, db.ErrCloseBeforeOpen) {
		// Sales were opened later in between; the database refused.
		return h.refuseSales(c, perf, closeBeforeOpen, form)
	}
	if err != nil {
		return err
	}
	return h.salesChanged(c, p, "admin.sales.closing_moved")
}

// salesChanged answers a sales action that was applied: this instance's
// viewers are woken at once (the transaction's NOTIFY wakes every
// instance's, this one's included, a moment later), and the council sees
// the performance's card again with what was done.
func (h *Handler) salesChanged(c echo.Context, p db.Performance, notice string) error {
	if h.live != nil {
		h.live.WakeSales(p.ID)
	}
	s, _ := h.staff(c)
	h.log.InfoContext(c.Request().Context(), "sales changed", "performance", p.Slug, "staff", s.Username,
		"notice", notice, "paused", p.Paused, "sales_close_at", p.SalesCloseAt)
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/admin#perf-"+p.Slug)
	}
	v, err := h.adminCard(c, p)
	if err != nil {
		return err
	}
	v.Notice = tr(c, notice)
	return h.render(c, http.StatusOK, components.AdminPerformance(v))
}

// refuseSales answers a refused sales action with the performance's card,
// its errors beside the fields and the form as it was sent: in place of
// the card for htmx, else on the whole overview. Nothing was changed.
func (h *Handler) refuseSales(c echo.Context, perf db.Performance, errs, form map[string]string) error {
	if isHTMX(c) {
		v, err := h.adminCard(c, perf)
		if err != nil {
			return err
		}
		v.Errors, v.Form = errs, form
		// The page swaps error answers only when festa says where
		// (festa.js): here, the card itself.
		c.Response().Header().Set("HX-Retarget", "#perf-"+perf.Slug)
		c.Response().Header().Set("HX-Reswap", "outerHTML")
		return h.render(c, http.StatusUnprocessableEntity, components.AdminPerformance(v))
	}
	ov, err := h.adminOverview(c)
	if err != nil {
		return err
	}
	for i := range ov.Performances {
		if ov.Performances[i].Slug == perf.Slug {
			ov.Performances[i].Errors, ov.Performances[i].Form = errs, form
		}
	}
	return h.render(c, http.StatusUnprocessableEntity, components.AdminOverviewPage(h.page(c, tr(c, "admin.nav.title")), ov))
}

// adminCard reads one performance's card as the overview shows it.
func (h *Handler) adminCard(c echo.Context, p db.Performance) (components.AdminPerformanceView, error) {
	stats, err := h.store.AdminOverview(c.Request().Context(), p.EventID)
	if err != nil {
		return components.AdminPerformanceView{}, err
	}
	for _, st := range stats {
		if st.ID == p.ID {
			return h.adminPerformanceView(c, st, h.liveViewers()), nil
		}
	}
	return components.AdminPerformanceView{}, echo.ErrNotFound
}

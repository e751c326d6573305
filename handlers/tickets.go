package handlers

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/sales"
	"festa/tickets"
)

// ticket fetches the signed-in student's ticket named in the path. Someone
// else's ticket and a malformed id both answer 404, so ids cannot be probed.
func (h *Handler) ticket(c echo.Context) (db.Ticket, error) {
	id := c.Param("id")
	if _, err := tickets.ParseID(id); err != nil {
		return db.Ticket{}, echo.ErrNotFound
	}
	st, _ := h.student(c)
	t, err := h.store.TicketForStudent(c.Request().Context(), id, st.ID)
	if errors.Is(err, db.ErrNotFound) {
		return t, echo.ErrNotFound
	}
	return t, err
}

func (h *Handler) showTicket(c echo.Context) error {
	t, err := h.ticket(c)
	if err != nil {
		return err
	}
	v := ticketView(t)
	if t.Status == "active" {
		png, err := tickets.QRPNG(t.Token)
		if err != nil {
			return err
		}
		v.QRDataURI = templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		perf, err := h.store.PerformanceBySlug(c.Request().Context(), t.PerformanceSlug)
		if err != nil {
			return err
		}
		v.CanCancel = t.CheckedInAt == nil && sales.Status(perf, h.now()) == sales.Open
		// The confirm redirect adds ?new=1. A later visit (the list, a
		// bookmark, a reload: festa.js drops the query) has no banner, and
		// an old link with ?new=1 does not bring it back after a while.
		v.JustBooked = c.QueryParam("new") == "1" && h.now().Sub(t.IssuedAt) < 10*time.Minute
	}
	// A ticket is personal: keep it out of shared caches.
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return h.render(c, http.StatusOK, components.TicketPage(h.page(c, t.PerformanceTitle+" "+t.SeatLabel), v))
}

func ticketView(t db.Ticket) components.TicketView {
	return components.TicketView{
		ID: t.ID, PerformanceSlug: t.PerformanceSlug, PerformanceTitle: t.PerformanceTitle, HallName: t.HallName,
		StartsAt: t.StartsAt, SeatLabel: t.SeatLabel, RowLabel: t.RowLabel, SeatNumber: t.SeatNumber,
		StudentName: t.StudentName, StudentNo: t.StudentNo, Status: t.Status, Token: t.Token,
		IssuedAt: t.IssuedAt, CheckedInAt: t.CheckedInAt,
	}
}

func (h *Handler) ticketQR(c echo.Context) error {
	t, err := h.ticket(c)
	if err != nil {
		return err
	}
	if t.Status != "active" {
		return echo.ErrNotFound
	}
	png, err := tickets.QRPNG(t.Token)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	c.Response().Header().Set("Content-Disposition", `attachment; filename="festa-`+t.PerformanceSlug+`-`+t.SeatLabel+`.png"`)
	return c.Blob(http.StatusOK, "image/png", png)
}

func (h *Handler) listTickets(c echo.Context) error {
	st, _ := h.student(c)
	ts, err := h.store.StudentTickets(c.Request().Context(), st.ID)
	if err != nil {
		return err
	}
	list := make([]components.TicketView, 0, len(ts))
	for _, t := range ts {
		list = append(list, ticketView(t))
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return h.render(c, http.StatusOK, components.TicketsPage(h.page(c, tr(c, "tickets.mine")), list))
}

func (h *Handler) cancelTicket(c echo.Context) error {
	t, err := h.ticket(c)
	if err != nil {
		return err
	}
	st, _ := h.student(c)
	perf, err := h.store.PerformanceBySlug(c.Request().Context(), t.PerformanceSlug)
	if err != nil {
		return err
	}
	if _, err := h.store.CancelTicket(c.Request().Context(), t.ID, st.ID, actor(c, st.ID)); err != nil {
		return bookingError(err, perf, t.SeatLabel)
	}
	h.notifier.Poke(t.PerformanceID)
	return redirect(c, "/tickets/"+t.ID)
}

package handlers

import (
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"festa/db"
	"festa/realtime"
)

// watchPerformance opens the live seat map socket of a performance. An
// unknown performance is a 404 before any upgrade; after the upgrade the
// socket belongs to the realtime package, in the request's language.
func (h *Handler) watchPerformance(c echo.Context) error {
	if h.live == nil || len(c.Param("performance")) > 64 {
		return echo.ErrNotFound
	}
	perf, err := h.store.PerformanceBySlug(c.Request().Context(), c.Param("performance"))
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.live.ServePerformance(c.Response(), c.Request(), perf.ID, localizer(c).Lang(), livePosition(c))
	return nil
}

// livePosition reads where the page's seat map stands from the socket
// URL (?v=horizon&t=unix-seconds, see components.LiveURL). Anything
// missing or malformed is nil, and the socket starts with the whole hall.
// Nothing is trusted here: the position only decides what this viewer's
// own page is sent first, and every later change reaches it regardless.
func livePosition(c echo.Context) *realtime.Position {
	v, err := strconv.ParseInt(c.QueryParam("v"), 10, 64)
	if err != nil || v < 0 {
		return nil
	}
	t, err := strconv.ParseInt(c.QueryParam("t"), 10, 64)
	if err != nil || t <= 0 {
		return nil
	}
	// s is the sales banner the page shows (components.SalesBannerView.Key,
	// a few characters); anything longer is not one.
	sales := c.QueryParam("s")
	if len(sales) > 32 {
		sales = ""
	}
	return &realtime.Position{Horizon: v, At: time.Unix(t, 0), Sales: sales}
}

// watchHome opens the event home's socket: live "seats left" per
// performance.
func (h *Handler) watchHome(c echo.Context) error {
	if h.live == nil {
		return echo.ErrNotFound
	}
	h.live.ServeHome(c.Response(), c.Request(), localizer(c).Lang())
	return nil
}

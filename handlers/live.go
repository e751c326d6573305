package handlers

import (
	"errors"

	"github.com/labstack/echo/v4"

	"festa/db"
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
	h.live.ServePerformance(c.Response(), c.Request(), perf.ID, localizer(c).Lang())
	return nil
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

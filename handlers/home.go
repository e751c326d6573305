package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/i18n"
	"festa/sales"
)

func (h *Handler) showHome(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := h.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return h.render(c, http.StatusOK, components.Home(h.page(c, ""), components.HomeView{EventName: "festa"}))
	}
	if err != nil {
		return err
	}
	perfs, err := h.store.EventPerformances(ctx, ev.ID)
	if err != nil {
		return err
	}
	now := h.now()
	view := components.HomeView{EventName: ev.Name}
	for _, p := range perfs {
		view.Performances = append(view.Performances, performanceCard(p, now))
	}
	return h.render(c, http.StatusOK, components.Home(h.page(c, ev.Name), view))
}

func performanceCard(p db.PerformanceWithOccupancy, now time.Time) components.PerformanceCard {
	return components.PerformanceCard{
		Slug: p.Slug, Title: p.Title, HallName: p.HallName,
		StartsAt: p.StartsAt, SalesOpenAt: p.SalesOpenAt,
		Status:       sales.Status(p.Performance, now),
		PauseMessage: p.PauseMessage,
		Occupancy:    components.Occupancy(p.Occupancy),
	}
}

// switchLanguage remembers the chosen language in a cookie and goes back to
// where the visitor was. Only local paths are followed, so the link cannot
// be used to send people elsewhere.
func (h *Handler) switchLanguage(c echo.Context) error {
	lang := c.Param("lang")
	if !i18n.Supported(lang) {
		return echo.ErrNotFound
	}
	c.SetCookie(&http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: h.cfg.SecureCookies})
	return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
}

func (h *Handler) checkHealth(c echo.Context) error {
	if err := h.store.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

func (h *Handler) serveStatic() echo.HandlerFunc {
	return echo.WrapHandler(h.static)
}

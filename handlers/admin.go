package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/sales"
)

// The council console's overview (admin.go), sales control
// (admin_sales.go), audit log (admin_audit.go) and exports
// (admin_exports.go). Every route is behind requireStaff("council") in
// routes.go.

// showAdmin is the overview: every performance with its live counts and
// its sales controls.
func (h *Handler) showAdmin(c echo.Context) error {
	v, err := h.adminOverview(c)
	if err != nil {
		return err
	}
	// The first steps' checklist (admin_start.templ) is read with the
	// page, not on every refresh of the counts.
	steps, err := h.store.FirstSteps(c.Request().Context())
	if err != nil {
		return err
	}
	v.FirstSteps = components.FirstStepsView(steps)
	return h.render(c, http.StatusOK, components.AdminOverviewPage(h.page(c, tr(c, "admin.nav.title")), v))
}

// showAdminStats answers the overview's periodic refresh: every
// performance's counts, out of band.
func (h *Handler) showAdminStats(c echo.Context) error {
	v, err := h.adminOverview(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, components.AdminStatsUpdate(v))
}

// adminOverview reads every performance of the event with its counts,
// and the live viewers this instance serves.
func (h *Handler) adminOverview(c echo.Context) (components.AdminOverviewView, error) {
	ctx := c.Request().Context()
	viewers := h.liveViewers()
	// Before the festival is named, the page is the console's.
	v := components.AdminOverviewView{EventName: tr(c, "admin.nav.title"), HomeViewers: viewers[0]}
	ev, err := h.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return components.AdminOverviewView{}, err
	}
	stats, err := h.store.AdminOverview(ctx, ev.ID)
	if err != nil {
		return components.AdminOverviewView{}, err
	}
	v.EventName = ev.Name
	for _, st := range stats {
		v.Performances = append(v.Performances, h.adminPerformanceView(c, st, viewers))
	}
	return v, nil
}

// liveViewers counts this instance's live viewers by performance id (the
// home page's under 0). Each instance counts its own: behind a load
// balancer the overview shows the share of the instance that answered.
func (h *Handler) liveViewers() map[int64]int {
	if h.live == nil {
		return map[int64]int{}
	}
	return h.live.Viewers()
}

func (h *Handler) adminPerformanceView(c echo.Context, st db.PerformanceStats, viewers map[int64]int) components.AdminPerformanceView {
	p := st.Performance
	v := components.AdminPerformanceView{
		Slug: p.Slug, Title: p.Title, HallName: p.HallName, StartsAt: p.StartsAt,
		SalesOpenAt: p.SalesOpenAt, SalesCloseAt: p.SalesCloseAt,
		Status: sales.Status(p, h.now()), Paused: p.Paused, PauseMessage: p.PauseMessage,
		Occupancy: components.Occupancy(st.Occupancy), Viewers: viewers[p.ID],
		CSRF: csrfToken(c), Lang: localizer(c).Lang(),
	}
	for _, g := range st.Gates {
		v.Gates = append(v.Gates, components.AdminGate{Gate: g.Gate, Count: g.Count})
	}
	return v
}

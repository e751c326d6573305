package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
)

// The traffic view, festa's own instead of a third-party analytics
// script: who is watching now (the live sockets this instance serves),
// page views per minute (pageviews.go counts them, anonymously) and the
// booking funnel, for the last hour or the whole sale, for every
// performance or one. Behind requireStaff("council") in routes.go.

// trafficMinutes is how many minutes the chart shows, the current one
// last; the "last hour" funnel covers the same minutes.
const trafficMinutes = 60

// trafficRefresh is how often the page asks for its numbers again. Page
// views reach the database every traffic.FlushEvery, so refreshing more
// often would show nothing new.
const trafficRefresh = "every 10s"

// trafficQuery is what the page was asked to show.
type trafficQuery struct {
	perf   db.Performance // zero for every performance
	window string         // components.TrafficHour or components.TrafficAll
}

func (h *Handler) readTrafficQuery(c echo.Context) (trafficQuery, error) {
	q := trafficQuery{window: components.TrafficHour}
	if c.QueryParam("window") == components.TrafficAll {
		q.window = components.TrafficAll
	}
	slug := c.QueryParam("performance")
	if slug == "" {
		return q, nil
	}
	if len(slug) > 64 {
		return q, echo.ErrNotFound
	}
	p, err := h.store.PerformanceBySlug(c.Request().Context(), slug)
	if errors.Is(err, db.ErrNotFound) {
		return q, echo.ErrNotFound
	}
	q.perf = p
	return q, err
}

// showTraffic is the page; the page's own refresh (an htmx request) gets
// its numbers only.
func (h *Handler) showTraffic(c echo.Context) error {
	q, err := h.readTrafficQuery(c)
	if err != nil {
		return err
	}
	v, err := h.trafficView(c, q)
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return h.render(c, http.StatusOK, components.TrafficNumbers(v))
	}
	return h.render(c, http.StatusOK, components.TrafficPage(h.page(c, tr(c, "traffic.title")), v))
}

// trafficView reads every number the page shows. The funnel is one query
// for the chosen scope and one per performance for the comparison table;
// a festival has a handful of performances.
func (h *Handler) trafficView(c echo.Context, q trafficQuery) (components.TrafficView, error) {
	ctx := c.Request().Context()
	now := h.now()
	first := now.Truncate(time.Minute).Add(-(trafficMinutes - 1) * time.Minute)
	since := first
	if q.window == components.TrafficAll {
		since = time.Time{}
	}
	v := components.TrafficView{
		Performance: q.perf.Slug, PerformanceTitle: q.perf.Title, Window: q.window,
		Lang: localizer(c).Lang(), UpdatedAt: now,
	}
	v.RefreshURL = "/admin/traffic?" + url.Values{"performance": {q.perf.Slug}, "window": {q.window}}.Encode()
	v.Refresh = trafficRefresh
	perfs, err := h.trafficPerformances(c)
	if err != nil {
		return v, err
	}
	// The broker also counts gate scanners, projection screens and
	// question pages under keys of their own; watching is the home page
	// and the performances' seat maps only.
	viewers := h.liveViewers()
	v.Live = components.TrafficLive{Home: viewers[0], Total: viewers[0]}
	for _, p := range perfs {
		v.Live.Total += viewers[p.ID]
	}
	minutes, err := h.store.PageViewsPerMinute(ctx, q.perf.ID, first, now)
	if err != nil {
		return v, err
	}
	for _, m := range minutes {
		v.Minutes = append(v.Minutes, components.TrafficMinute{At: m.Minute, Views: m.Views})
	}
	f, err := h.store.Funnel(ctx, q.perf.ID, since)
	if err != nil {
		return v, err
	}
	v.Funnel = components.TrafficFunnel(f)
	for _, p := range perfs {
		f, err := h.store.Funnel(ctx, p.ID, since)
		if err != nil {
			return v, err
		}
		v.Performances = append(v.Performances, components.TrafficPerformance{
			Slug: p.Slug, Title: p.Title, Viewers: viewers[p.ID], Funnel: components.TrafficFunnel(f),
		})
	}
	return v, nil
}

// trafficPerformances lists the festival's performances, none before a
// festival exists.
func (h *Handler) trafficPerformances(c echo.Context) ([]db.PerformanceWithOccupancy, error) {
	ctx := c.Request().Context()
	ev, err := h.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return h.store.EventPerformances(ctx, ev.ID)
}

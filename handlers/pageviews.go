package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"festa/traffic"
)

// Page views for the traffic view (admin_traffic.go). Only the pages a
// student opens are counted, by route, with nothing about who opened
// them: no address, cookie or session goes into traffic.Counter. The
// console, the gate, the screen, static files, sockets, /metrics and
// /healthz are not students looking at festa and are not counted.

// countedPages maps the route of each counted page to its kind.
var countedPages = map[string]string{
	"/":               traffic.Home,
	"/p/:performance": traffic.Performance,
	"/login":          traffic.Login,
	"/tickets":        traffic.Tickets,
	"/tickets/:id":    traffic.Tickets,
}

// countPageViews counts a successful GET of a counted page that a person's
// browser loaded as a page: not an htmx fragment (a boosted link is a
// page), not a prefetch, not a crawler or link preview. It counts after
// the handler, so refused and failed requests are not views.
func (h *Handler) countPageViews(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err != nil || h.pageViews == nil {
			return err
		}
		kind, ok := countedPages[c.Path()]
		if !ok || !isPageView(c) {
			return nil
		}
		slug := ""
		if kind == traffic.Performance {
			slug = c.Param("performance")
		}
		h.pageViews.Add(kind, slug)
		return nil
	}
}

// isPageView reports whether the answered request was a person's page
// load.
func isPageView(c echo.Context) bool {
	r := c.Request()
	if r.Method != http.MethodGet || c.Response().Status != http.StatusOK {
		return false
	}
	if !strings.HasPrefix(c.Response().Header().Get(echo.HeaderContentType), echo.MIMETextHTML) {
		return false
	}
	if isHTMX(c) && r.Header.Get("HX-Boosted") != "true" {
		return false
	}
	if strings.Contains(r.Header.Get("Sec-Purpose"), "prefetch") || strings.Contains(r.Header.Get("Purpose"), "prefetch") {
		return false
	}
	return !traffic.IsBot(r.UserAgent())
}

// signedInFrom is the performance whose page a sign-in started from (the
// slug in a next of /p/{slug}), or "" for any other page.
func signedInFrom(next string) string {
	rest, ok := strings.CutPrefix(next, "/p/")
	if !ok {
		return ""
	}
	slug, _, _ := strings.Cut(rest, "/")
	slug, _, _ = strings.Cut(slug, "?")
	return slug
}

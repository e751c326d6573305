package handlers

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type httpMetrics struct {
	duration *prometheus.HistogramVec
	// bestConflicts counts the tries of "best available" that found their
	// seat gone since the hall picture they chose from: each costs the
	// student another try, and five make "busy".
	bestConflicts prometheus.Counter
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "festa_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "status"}),
		bestConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "festa_best_available_conflicts_total",
			Help: "Tries of best available whose seat was taken or blocked since the hall picture they chose from.",
		}),
	}
	reg.MustRegister(m.duration, m.bestConflicts)
	return m
}

// middleware records each request under its route pattern (not its path),
// so the number of series stays bounded whatever clients send.
func (m *httpMetrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			if he, ok := err.(*echo.HTTPError); ok {
				status = he.Code
			} else if ue, ok := err.(*userError); ok {
				status = ue.status
			} else {
				status = 500
			}
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.duration.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}

func (h *Handler) serveMetrics() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{Registry: h.registry}))
}

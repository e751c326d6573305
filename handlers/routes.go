package handlers

import "github.com/labstack/echo/v4"

// routes lists every method and path festa answers.
func (h *Handler) routes(e *echo.Echo) {
	e.GET("/", h.showHome)
	e.GET("/lang/:lang", h.switchLanguage)
	e.GET("/healthz", h.checkHealth)
	e.GET("/metrics", h.serveMetrics())
	e.GET("/static/*", h.serveStatic())
}

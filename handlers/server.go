package handlers

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// maxBody caps every request body: forms here are a few fields, so anything
// larger is a mistake or an attack and is refused before it is read.
const maxBody = "64K"

// contentSecurityPolicy allows only festa's own assets. Inline style
// attributes are allowed because templates size bars and grids with them;
// no inline script is.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// Echo builds the HTTP server: middleware in the order a request meets it,
// then the routes.
func (h *Handler) Echo() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	// Behind nginx the client address arrives in X-Forwarded-For; it is
	// believed only from loopback and private addresses (the proxy), so a
	// client cannot pick its own address to dodge per-address limits.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(middleware.RequestID())
	e.Use(h.logRequests())
	e.Use(middleware.Recover())
	e.Use(h.metrics.middleware)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: contentSecurityPolicy,
	}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		Level: 5,
		// WebSockets and the metrics scrape compress themselves, or not at all.
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return strings.HasPrefix(p, "/ws/") || p == "/metrics" || strings.HasPrefix(p, "/static/")
		},
	}))
	e.Use(middleware.BodyLimit(maxBody))
	e.Use(h.localize)
	e.Use(h.loadSession)
	e.Use(h.csrf)
	h.routes(e)
	return e
}

func (h *Handler) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogError: true, HandleError: true,
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return p == "/healthz" || p == "/metrics" || strings.HasPrefix(p, "/static/")
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			attrs := []slog.Attr{
				slog.String("method", v.Method), slog.String("uri", v.URI), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID),
				slog.String("remote_ip", v.RemoteIP),
			}
			if v.Error != nil {
				var he *echo.HTTPError
				if !errors.As(v.Error, &he) || he.Code >= 500 {
					level = slog.LevelError
					attrs = append(attrs, slog.String("error", v.Error.Error()))
				}
			}
			h.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

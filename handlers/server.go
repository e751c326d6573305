package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
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
	e.IPExtractor = h.clientIP()
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(middleware.RequestID())
	e.Use(h.logRequests())
	// A panic becomes an error with its stack, logged once by logRequests
	// (not by Recover as well) and answered by handleError.
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableErrorHandler: true,
		LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
			return fmt.Errorf("panic: %w\n%s", err, stack)
		},
	}))
	e.Use(h.metrics.middleware)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: contentSecurityPolicy,
	}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		// Level 1: HTML this repetitive compresses almost as well as at
		// level 5 for a third of the CPU, and in the opening minute CPU is
		// what bookings wait for (deflate was a fifth of a tap's cost in
		// BenchmarkHoldRelease's profile). Answers too small to gain from
		// it (most htmx fragments) go uncompressed.
		Level:     1,
		MinLength: 1024,
		// WebSockets and the metrics scrape compress themselves, or not at
		// all. Answers to POSTs (a tap's few seats and hold panel) are not
		// compressed either: each compressing answer holds a deflate
		// writer of a few hundred KB while it is written, and a thousand
		// taps at the opening held a thousand of them.
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return c.Request().Method != http.MethodGet ||
				strings.HasPrefix(p, "/ws/") || p == "/metrics" || strings.HasPrefix(p, "/static/")
		},
	}))
	e.Use(h.localize)
	e.Use(h.loadSession)
	// The body limits come after the session (which reads no body), so the
	// page refusing a body still shows who is signed in.
	// A roster upload (admin_students.go) is the one body allowed past
	// maxBody, up to maxUpload; a larger one gets the roster page's own
	// refusal (roster_limit.go).
	isUpload := func(c echo.Context) bool { return c.Request().URL.Path == rosterUploadPath }
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxBody, Skipper: isUpload}))
	e.Use(h.refuseLargeRoster)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: fmt.Sprint(maxUpload),
		Skipper: func(c echo.Context) bool { return !isUpload(c) }}))
	e.Use(h.noStoreSignedIn)
	e.Use(h.csrf)
	e.Use(h.countPageViews)
	h.routes(e)
	return e
}

// clientIP is the request's client address: the TCP peer's, unless the
// peer is one of the configured proxies (Config.TrustedProxies), whose
// X-Forwarded-For is then believed up to the first address that is not a
// proxy. Loopback, link-local and private addresses are not trusted by
// themselves: a student on the school network could otherwise send any
// X-Forwarded-For and pick their own address in the audit log and the
// sign-in counts.
func (h *Handler) clientIP() echo.IPExtractor {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range h.cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies reads FESTA_TRUSTED_PROXIES: comma-separated
// addresses and CIDR ranges ("10.0.0.2, 192.168.1.0/24, ::1"). Empty means
// none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("FESTA_TRUSTED_PROXIES: %q is not an address or CIDR range", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("FESTA_TRUSTED_PROXIES: %q is not an address or CIDR range", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// noStoreSignedIn marks every response to a signed-in student or staff
// member private, no-store: their pages carry names, tickets and holds that
// no shared cache and no browser history cache may keep. (The ticket
// service worker stores its own copies with the Cache API, which these
// headers do not govern.) Static files and live sockets never carry a
// session.
func (h *Handler) noStoreSignedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := h.student(c); ok {
			c.Response().Header().Set(echo.HeaderCacheControl, "private, no-store")
		} else if _, ok := h.staff(c); ok {
			c.Response().Header().Set(echo.HeaderCacheControl, "private, no-store")
		}
		return next(c)
	}
}

// logRequests writes one line per request. Refusals of what a user sent
// (4xx) are INFO, or WARN for 401, 403 and 429 (sign-in and CSRF trouble
// worth noticing); a server error is ERROR, with its error, and logged here
// only (handleError does not log), so each appears once. Health checks,
// metrics and static files are not logged unless they fail.
func (h *Handler) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			switch {
			case serverError(v.Error):
				level = slog.LevelError
			case v.Status >= 500, v.Status == http.StatusUnauthorized, v.Status == http.StatusForbidden, v.Status == http.StatusTooManyRequests:
				// A 5xx without an error is a deliberate answer (the
				// sign-in gate's 503 "busy"), not a failure.
				level = slog.LevelWarn
			}
			p := c.Request().URL.Path
			if level < slog.LevelWarn && (p == "/healthz" || p == "/metrics" || strings.HasPrefix(p, "/static/")) {
				return nil
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method), slog.String("uri", redactURI(v.URI)), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID),
				slog.String("remote_ip", v.RemoteIP),
			}
			var ue *userError
			switch {
			case level == slog.LevelError:
				attrs = append(attrs, slog.String("error", v.Error.Error()))
			case errors.As(v.Error, &ue):
				attrs = append(attrs, slog.String("reason", ue.id))
			}
			h.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// serverError reports whether err is the server's fault: anything but a
// refusal of the request (a userError or an echo.HTTPError under 500).
func serverError(err error) bool {
	if err == nil {
		return false
	}
	var ue *userError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ue):
		return ue.status >= 500
	case errors.As(err, &he):
		return he.Code >= 500
	}
	return true
}

// redactURI hides secrets that travel in a query string before the URI is
// logged: a projection screen's display key (?key=) opens the screen for
// anyone who reads the log.
func redactURI(uri string) string {
	if !strings.Contains(uri, "key=") {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "[unparsable uri]"
	}
	q := u.Query()
	if !q.Has("key") {
		return uri
	}
	q.Set("key", "REDACTED")
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

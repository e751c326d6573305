package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/i18n"
)

// render writes a templ component with status. It renders into a buffer
// first, so a template error becomes a clean 500 instead of half a page.
func (h *Handler) render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page collects what every full page needs.
func (h *Handler) page(c echo.Context, title string) components.Page {
	return components.Page{
		Title:     title,
		Lang:      localizer(c).Lang(),
		CSRF:      csrfToken(c),
		Path:      url.QueryEscape(c.Request().URL.RequestURI()),
		Assets:    h.assets,
		ServerNow: h.now(),
		Student:   h.viewer(c),
		Staff:     h.staffViewer(c),

		QuestionsLive:    h.questionsLive(c),
		QuestionsWaiting: h.questionsWaiting(c),
	}
}

func localizer(c echo.Context) *i18n.Localizer {
	return i18n.FromContext(c.Request().Context())
}

// tr translates id for the request's language.
func tr(c echo.Context, id string, args ...any) string {
	return localizer(c).T(id, args...)
}

// userError is an error whose message the user should read: a catalogue id
// with arguments, and the HTTP status to answer with. truth, when set, is
// rendered after the message for an htmx request: out-of-band regions
// (seats, the hold panel) that put the page back in step with the
// database, so a refused tap never leaves a seat looking free.
type userError struct {
	status int
	id     string
	args   []any
	truth  templ.Component
}

func (e *userError) Error() string { return e.id }

// fail returns a userError; handlers `return fail(...)` on bad input.
func fail(status int, id string, args ...any) error {
	return &userError{status: status, id: id, args: args}
}

// isHTMX reports whether the request came from htmx and wants a fragment.
func isHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true"
}

// handleError is the one place errors become responses: user errors are
// shown in the user's language, everything else is shown as a generic
// failure (and logged once by logRequests).
func (h *Handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	// Errors raised before the localize middleware ran (an oversized body,
	// say) still deserve the user's language.
	if _, ok := i18n.Lookup(c.Request().Context()); !ok {
		r := c.Request()
		c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), h.messages.Localizer(i18n.Negotiate(r)))))
	}
	status, message := http.StatusInternalServerError, ""
	var ue *userError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ue):
		status, message = ue.status, tr(c, ue.id, ue.args...)
	case errors.As(err, &he):
		status = he.Code
		message = tr(c, httpErrorID(he.Code))
	default:
		// Logged once, with the request, by logRequests.
		message = tr(c, "error.internal")
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if isHTMX(c) {
		// The page's htmx-config (components.Layout) swaps 4xx and 5xx
		// answers; these headers send the message into the page's message
		// area, whatever the request's own target was. festa.js refuses to
		// swap an error without them (a proxy's error page), and shows a
		// message of its own instead.
		c.Response().Header().Set("HX-Retarget", "#messages")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		var truth templ.Component
		if ue != nil {
			truth = ue.truth
		}
		if err := h.render(c, status, components.Refusal(message, truth)); err != nil {
			h.log.ErrorContext(c.Request().Context(), "render refusal", "error", err)
			h.render(c, status, components.Flash("error", message))
		}
		return
	}
	if err := h.render(c, status, components.ErrorPage(h.page(c, message), status, message)); err != nil {
		c.String(status, message)
	}
}

func httpErrorID(code int) string {
	switch code {
	case http.StatusNotFound:
		return "error.not_found"
	case http.StatusMethodNotAllowed:
		return "error.method"
	case http.StatusRequestEntityTooLarge:
		return "error.too_large"
	case http.StatusForbidden:
		return "error.csrf"
	case http.StatusBadRequest:
		return "error.bad_request"
	default:
		if code >= 500 {
			return "error.internal"
		}
		return "error.bad_request"
	}
}

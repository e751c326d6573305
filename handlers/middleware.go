package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"festa/i18n"
)

// localize picks the request's language and puts its Localizer in the
// request context, where templates find it.
func (h *Handler) localize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		l := h.messages.Localizer(i18n.Negotiate(c.Request()))
		r := c.Request()
		c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), l)))
		c.Response().Header().Add(echo.HeaderVary, "Accept-Language")
		return next(c)
	}
}

const (
	csrfCookie = "festa_csrf"
	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
	csrfKey    = "csrf"
)

// csrf guards every state-changing request with a double-submit token: a
// random value in an HttpOnly cookie that the page repeats in
// <meta name="csrf-token"> and every form, and the request must send back
// as the _csrf field or the X-CSRF-Token header.
//
// festa writes its own instead of Echo's CSRF middleware because that one
// waves through any same-origin request by its Sec-Fetch-Site header
// without a token, and festa's contract is that a request without the token
// changes nothing. A cross-origin Origin header is refused as well.
func (h *Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		token := ""
		if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
			token = ck.Value
		} else {
			b := make([]byte, 32)
			rand.Read(b)
			token = base64.RawURLEncoding.EncodeToString(b)
			c.SetCookie(&http.Cookie{
				Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
				Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 7 * 24 * 3600,
			})
		}
		c.Set(csrfKey, token)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if origin := r.Header.Get(echo.HeaderOrigin); origin != "" && origin != "null" {
			if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
				return fail(http.StatusForbidden, "error.csrf")
			}
		}
		sent := r.Header.Get(csrfHeader)
		if sent == "" {
			sent = c.FormValue(csrfField)
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return fail(http.StatusForbidden, "error.csrf")
		}
		return next(c)
	}
}

func csrfToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}

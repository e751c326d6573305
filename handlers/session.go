package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
)

// Session keys.
const (
	sessStudentID = "student_id"
	sessStudentNo = "student_no"
	sessName      = "name"
	sessStaffID   = "staff_id"
	sessStaffUser = "staff_user"
	sessStaffRole = "staff_role"
	// sessStaffSince is when staff signed in (Unix seconds): a staff
	// session ends after staffSessionMax, however long the session lives.
	sessStaffSince = "staff_since"
)

// Session lifetimes. Codes are handed out in homerooms days before the
// opening, so a student's session must last through the sale: it lives
// sessionLifetime and is pushed forward at most once a day while it is
// used (sessionRenewAfter), so a student who signs in on Monday and
// books on Friday is still signed in, and a phone left alone for two
// weeks is not. Staff work the festival day on shared devices; their
// sign-in ends after staffSessionMax.
const (
	sessionLifetime   = 14 * 24 * time.Hour
	sessionRenewAfter = 24 * time.Hour
	staffSessionMax   = 12 * time.Hour
)

// newSessions keeps sessions in PostgreSQL (the sessions table), so any app
// instance serves any signed-in user. Cookies are HttpOnly, SameSite=Lax
// and persistent (they outlive a closed browser, as the session does).
//
// There is no idle timeout: scs writes a session back to the database on
// every request when one is set, a write per tap in the opening minute.
// renewSession slides the deadline instead, one write a day.
func newSessions(store *db.Store, secure bool) *scs.SessionManager {
	sm := scs.New()
	// Expired rows are swept every 10 minutes by each instance; the sweep is
	// one DELETE and harmless to run twice.
	sm.Store = pgxstore.NewWithCleanupInterval(store.Pool, 10*time.Minute)
	sm.Codec = SessionCodec{}
	sm.Lifetime = sessionLifetime
	sm.Cookie.Name = "festa_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Path = "/"
	return sm
}

// loadSession wraps scs around every request except static files, metrics,
// health checks and live sockets (which never need one).
func (h *Handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	wrapped := echo.WrapMiddleware(h.sessions.LoadAndSave)(h.renewSession(next))
	return func(c echo.Context) error {
		switch p := c.Request().URL.Path; {
		// Live sockets need no session (the page knows its holder tag), and
		// skipping it saves a query per viewer in a reconnect storm.
		case p == "/healthz" || p == "/metrics" || strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/ws/"):
			return next(c)
		}
		c.Set(sessionLoaded, true)
		return wrapped(c)
	}
}

// renewSession pushes a signed-in session's deadline to a full
// sessionLifetime from now once it is sessionRenewAfter old, so a session
// in use never runs out in the middle of a sale. loadSession runs it
// once the session is loaded; sessions of visitors who are not signed in
// are left alone.
func (h *Handler) renewSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if loaded, _ := c.Get(sessionLoaded).(bool); loaded {
			ctx := c.Request().Context()
			if h.sessions.Exists(ctx, sessStudentID) || h.sessions.Exists(ctx, sessStaffID) {
				// The store's clock, not h.now: expiry is checked by
				// PostgreSQL against real time.
				now := time.Now()
				if deadline := h.sessions.Deadline(ctx); deadline.Sub(now) < sessionLifetime-sessionRenewAfter {
					h.sessions.SetDeadline(ctx, now.Add(sessionLifetime))
				}
			}
		}
		return next(c)
	}
}

// sessionLoaded marks requests that carry a session. Error pages can be
// rendered for requests that never got one (a live socket's 404, a static
// file's); those are shown signed out. Body limits run after the session
// (server.go), so a refused body is not among them.
const sessionLoaded = "festa_session_loaded"

// signedInStudent is the student of this session.
type signedInStudent struct {
	ID   int64
	No   string
	Name string
}

// student returns the signed-in student, if any.
func (h *Handler) student(c echo.Context) (signedInStudent, bool) {
	if loaded, _ := c.Get(sessionLoaded).(bool); !loaded {
		return signedInStudent{}, false
	}
	ctx := c.Request().Context()
	id := h.sessions.GetInt64(ctx, sessStudentID)
	if id == 0 {
		return signedInStudent{}, false
	}
	return signedInStudent{ID: id, No: h.sessions.GetString(ctx, sessStudentNo), Name: h.sessions.GetString(ctx, sessName)}, true
}

// requireStudent sends visitors who are not signed in to /login and back
// afterwards; htmx requests get an HX-Redirect so the whole page moves.
func (h *Handler) requireStudent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := h.student(c); ok {
			return next(c)
		}
		back := c.Request().URL.RequestURI()
		if c.Request().Method != http.MethodGet {
			back = c.Request().Referer()
			if u, err := url.Parse(back); err == nil {
				back = u.RequestURI()
			} else {
				back = "/"
			}
		}
		to := "/login?next=" + url.QueryEscape(back)
		if isHTMX(c) {
			c.Response().Header().Set("HX-Redirect", to)
			return c.NoContent(http.StatusUnauthorized)
		}
		if c.Request().Method != http.MethodGet {
			return fail(http.StatusUnauthorized, "auth.required")
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
}

// viewer is the header's view of who is signed in.
func (h *Handler) viewer(c echo.Context) *components.Viewer {
	if s, ok := h.student(c); ok {
		return &components.Viewer{Name: s.Name, ID: s.No}
	}
	return nil
}

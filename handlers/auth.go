package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/passhash"
)

// Sign-in limits, kept in PostgreSQL (db.BeginLogin) so they hold across
// app instances. An account (student number or staff username) gets 5
// failures per 5 minutes; a client address 100, because a whole school may
// reach festa through one NAT address. Once a budget is spent, attempts are
// refused without checking the code until its window ends.
const (
	loginWindow        = 5 * time.Minute
	accountMaxFailures = 5
	clientMaxFailures  = 100
)

// dummyHash is verified when no account has the number or username given,
// so a sign-in for a number that does not exist costs as much as one that
// does and timing does not tell which numbers are on the roster. Its cost
// is passhash.Default's, like every real code's; nothing verifies against
// it (verifyAttempt refuses any match).
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$G5l31386uFZYpFDODKKV+w$lq4V27lQSDW0Qf05W3Zf9Bmzq5bEUWmrTVchi8bKEV0"

var (
	studentNoRE  = regexp.MustCompile(`^[0-9]{5}$`)
	accessCodeRE = regexp.MustCompile(`^[A-Za-z0-9]{4,32}$`)
	usernameRE   = regexp.MustCompile(`^[a-z0-9_.-]{2,32}$`)
)

// maxPasswordLen bounds what is hashed: argon2 of a megabyte is a cheap
// way to make the server work.
const maxPasswordLen = 256

func (h *Handler) showLogin(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if _, ok := h.student(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return h.renderLogin(c, http.StatusOK, components.LoginView{Next: next})
}

// login signs a student in with student number and access code.
func (h *Handler) login(c echo.Context) error {
	ctx := c.Request().Context()
	v := components.LoginView{Next: safeNext(c.FormValue("next")), StudentNo: strings.TrimSpace(c.FormValue("student_no"))}
	code := strings.ToUpper(strings.TrimSpace(c.FormValue("code")))
	if !studentNoRE.MatchString(v.StudentNo) {
		v.NoError = tr(c, "auth.err_student_no")
	}
	if !accessCodeRE.MatchString(code) {
		v.CodeError = tr(c, "auth.err_code")
	}
	if v.NoError != "" || v.CodeError != "" {
		return h.renderLogin(c, http.StatusUnprocessableEntity, v)
	}
	a := h.loginAttempt(c, "student", v.StudentNo)
	if wait, err := h.store.BeginLogin(ctx, a); errors.Is(err, db.ErrThrottled) {
		v.Message = throttled(c, wait)
		return h.renderLogin(c, http.StatusTooManyRequests, v)
	} else if err != nil {
		return err
	}
	st, err := h.store.StudentCredentials(ctx, v.StudentNo)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	ok, err := h.verifyAttempt(ctx, a, st.CodeHash, code)
	if err != nil {
		return err
	}
	if !ok {
		v.Message = tr(c, "auth.err_wrong")
		return h.renderLogin(c, http.StatusUnauthorized, v)
	}
	if !st.Enabled {
		v.Message = tr(c, "auth.err_disabled")
		return h.renderLogin(c, http.StatusForbidden, v)
	}
	if err := h.signIn(ctx, map[string]any{sessStudentID: st.ID, sessStudentNo: st.No, sessName: st.Name}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, v.Next)
}

// logout ends the whole session (student and staff alike) and goes home.
func (h *Handler) logout(c echo.Context) error {
	if err := h.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (h *Handler) renderLogin(c echo.Context, status int, v components.LoginView) error {
	return h.render(c, status, components.LoginPage(h.page(c, tr(c, "auth.title")), v))
}

// signedInStaff is the staff member of this session.
type signedInStaff struct {
	ID       int64
	Username string
	Role     string // council or gate
}

// staff returns the signed-in staff member, if any.
func (h *Handler) staff(c echo.Context) (signedInStaff, bool) {
	if loaded, _ := c.Get(sessionLoaded).(bool); !loaded {
		return signedInStaff{}, false
	}
	ctx := c.Request().Context()
	id := h.sessions.GetInt64(ctx, sessStaffID)
	if id == 0 {
		return signedInStaff{}, false
	}
	return signedInStaff{ID: id, Username: h.sessions.GetString(ctx, sessStaffUser), Role: h.sessions.GetString(ctx, sessStaffRole)}, true
}

// requireStaff lets staff with one of roles through (any staff when roles
// is empty). Visitors who are not signed in as staff are sent to
// /staff/login and back afterwards; staff with another role get a 403.
func (h *Handler) requireStaff(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			s, ok := h.staff(c)
			if !ok && c.Request().Method != http.MethodGet && !isHTMX(c) {
				return fail(http.StatusUnauthorized, "auth.staff_required")
			}
			if !ok {
				return redirectToSignIn(c, "/staff/login")
			}
			if len(roles) > 0 && !slices.Contains(roles, s.Role) {
				return fail(http.StatusForbidden, "auth.wrong_role")
			}
			return next(c)
		}
	}
}

// redirectToSignIn sends a visitor to the sign-in page at login, with the
// page they wanted (the referring page, for a POST) as next. An htmx
// request gets an HX-Redirect and a 401, so the whole page moves.
func redirectToSignIn(c echo.Context, login string) error {
	r := c.Request()
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = "/"
		if u, err := url.Parse(r.Referer()); err == nil && r.Referer() != "" {
			back = u.RequestURI()
		}
	}
	to := login + "?next=" + url.QueryEscape(safeNext(back))
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (h *Handler) showStaffLogin(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if _, ok := h.staff(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return h.renderStaffLogin(c, http.StatusOK, components.StaffLoginView{Next: next})
}

// staffLogin signs council and gate staff in with username and password.
// Passwords are taken as typed (no trimming); usernames are lower-cased.
func (h *Handler) staffLogin(c echo.Context) error {
	ctx := c.Request().Context()
	v := components.StaffLoginView{Next: safeNext(c.FormValue("next")), Username: strings.ToLower(strings.TrimSpace(c.FormValue("username")))}
	password := c.FormValue("password")
	if !usernameRE.MatchString(v.Username) {
		v.UsernameError = tr(c, "auth.err_username")
	}
	if password == "" || len(password) > maxPasswordLen {
		v.PasswordError = tr(c, "auth.err_password")
	}
	if v.UsernameError != "" || v.PasswordError != "" {
		return h.renderStaffLogin(c, http.StatusUnprocessableEntity, v)
	}
	a := h.loginAttempt(c, "staff", v.Username)
	if wait, err := h.store.BeginLogin(ctx, a); errors.Is(err, db.ErrThrottled) {
		v.Message = throttled(c, wait)
		return h.renderStaffLogin(c, http.StatusTooManyRequests, v)
	} else if err != nil {
		return err
	}
	st, err := h.store.StaffCredentials(ctx, v.Username)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	ok, err := h.verifyAttempt(ctx, a, st.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		v.Message = tr(c, "auth.err_staff_wrong")
		return h.renderStaffLogin(c, http.StatusUnauthorized, v)
	}
	if !st.Enabled {
		v.Message = tr(c, "auth.err_staff_disabled")
		return h.renderStaffLogin(c, http.StatusForbidden, v)
	}
	if err := h.signIn(ctx, map[string]any{sessStaffID: st.ID, sessStaffUser: st.Username, sessStaffRole: st.Role}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, v.Next)
}

// staffLogout ends the whole session and returns to the staff sign-in,
// ready for the next person at the gate.
func (h *Handler) staffLogout(c echo.Context) error {
	if err := h.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/login")
}

func (h *Handler) renderStaffLogin(c echo.Context, status int, v components.StaffLoginView) error {
	return h.render(c, status, components.StaffLoginPage(h.page(c, tr(c, "auth.staff_title")), v))
}

// loginAttempt names the budgets a sign-in to account of realm ("student"
// or "staff") draws on, timed by the app's clock.
func (h *Handler) loginAttempt(c echo.Context, realm, account string) db.LoginAttempt {
	return db.LoginAttempt{
		Account: db.LoginLimit{Key: realm + ":" + account, Max: accountMaxFailures, Window: loginWindow},
		Client:  db.LoginLimit{Key: realm + "-ip:" + clientKey(c.RealIP()), Max: clientMaxFailures, Window: loginWindow},
		At:      h.now(),
	}
}

// clientKey is the address a client's failures count against: an IPv4
// address, or an IPv6 /64 (one household or phone can use a whole /64).
// Anything unparsable shares one bucket rather than making a new one.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// verifyAttempt checks secret against hash, or against dummyHash when hash
// is empty (no such account) so that takes as long, and settles the
// attempt admitted by BeginLogin: a match forgets the account's failures,
// a mismatch counts against the client's address too.
func (h *Handler) verifyAttempt(ctx context.Context, a db.LoginAttempt, hash, secret string) (bool, error) {
	known := hash != ""
	if !known {
		hash = dummyHash
	}
	ok, err := passhash.Verify(hash, secret)
	if err != nil {
		return false, fmt.Errorf("sign-in %s: %w", a.Account.Key, err)
	}
	if ok && known {
		return true, h.store.SucceedLogin(ctx, a)
	}
	return false, h.store.FailLogin(ctx, a)
}

// signIn puts values in the session under a fresh token: renewing it
// first means a token planted in the browser before sign-in (session
// fixation) is worth nothing after it.
func (h *Handler) signIn(ctx context.Context, values map[string]any) error {
	if err := h.sessions.RenewToken(ctx); err != nil {
		return err
	}
	for k, v := range values {
		h.sessions.Put(ctx, k, v)
	}
	return nil
}

// throttled says, in the user's language, how long to wait, rounded up to
// whole seconds; the Retry-After header says the same to machines.
func throttled(c echo.Context, wait time.Duration) string {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return tr(c, "auth.err_throttled", "count", secs)
}

// safeNext returns next when it is a path on this site and "/" otherwise,
// so no link can use festa's sign-in or language switch to send people
// elsewhere. Browsers read "\" as "/" and drop tabs and newlines, so
// "/\evil.example" and "/\t/evil.example" are refused along with
// "//evil.example" and "https://evil.example".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\t\r\n") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

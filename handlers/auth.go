package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"unicode"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/width"

	"festa/components"
	"festa/db"
	"festa/passhash"
)

// Sign-in limits, kept in PostgreSQL (db.BeginLogin) so they hold across
// app instances. Only budgets that belong to the device making an attempt
// (its browser's festa_csrf cookie, see deviceKey) can refuse it, so nobody
// can lock anyone else out and a correct code always gets in from a device
// that has not spent its own: one account from one device gets 5 failures
// per window, one device 30 across accounts. Failures per client address
// are counted (for the audit and the gate's slow lane) but never refuse: a
// whole school reaches festa through one NAT address.
//
// A guesser who throws devices away is not stopped by these budgets but by
// the code space and the bounded check rate (signInGate); README "Sign-in
// security" has the numbers.
const (
	loginWindow        = 15 * time.Minute
	accountMaxFailures = 5
	deviceMaxFailures  = 30
)

// signInWait is how long a sign-in may queue for a check slot before it is
// told to try again in a moment (with Retry-After: signInRetryAfter).
const (
	signInWait       = 10 * time.Second
	signInRetryAfter = 5 * time.Second
)

// The dummy hashes are verified when no account has the number or
// username given, so a sign-in for a number that does not exist costs as
// much as one that does and timing does not tell which numbers are on the
// roster. Each has the cost of the real hashes of its kind: access codes
// at passhash.Code, staff passwords at passhash.Default. Nothing verifies
// against them (checkSignIn refuses a match for an unknown account).
const (
	dummyCodeHash     = "$argon2id$v=19$m=2048,t=1,p=1$tl/Mj6E9YWGG7k/toU/KwQ$RCkaj9GJBPxrnFsCuAdA+THS6RK8UR5atIFo8J+g7j4"
	dummyPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$EFXc36BIacKYlWwqxuG7ew$nIYfCQMnc+2WUJjUK/4gCn1ynVbvOMNiiDZaxWjeeyY"
)

var (
	studentNoRE = regexp.MustCompile(`^[0-9]{5}$`)
	// accessCodeRE matches a code in canonical form (see accessCode).
	// Codes are 10 characters now; shorter ones issued earlier still work.
	accessCodeRE = regexp.MustCompile(`^[A-Z0-9]{4,32}$`)
	usernameRE   = regexp.MustCompile(`^[a-z0-9_.-]{2,32}$`)
)

// accessCode puts a typed access code in the form it was hashed in. Slips
// print codes as XXXXX-XXXXX; students may type them with or without the
// dash (any dash, as phones and Korean keyboards offer several), with
// spaces, in full-width letters and in any case.
func accessCode(typed string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) {
			return -1
		}
		return r
	}, width.Fold.String(typed)))
}

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
	code := accessCode(c.FormValue("code"))
	if !studentNoRE.MatchString(v.StudentNo) {
		v.NoError = tr(c, "auth.err_student_no")
	}
	if !accessCodeRE.MatchString(code) {
		v.CodeError = tr(c, "auth.err_code")
	}
	if v.NoError != "" || v.CodeError != "" {
		return h.renderLogin(c, http.StatusUnprocessableEntity, v)
	}
	var st db.StudentCredentials
	ok, refused, err := h.checkSignIn(c, h.loginAttempt(c, "student", v.StudentNo), code, dummyCodeHash, func(ctx context.Context) (string, error) {
		var err error
		st, err = h.store.StudentCredentials(ctx, v.StudentNo)
		return st.CodeHash, err
	})
	switch {
	case err != nil:
		return err
	case refused != nil:
		v.Message = refused.message
		return h.renderLogin(c, refused.status, v)
	case !ok:
		v.Message = tr(c, "auth.err_wrong")
		return h.renderLogin(c, http.StatusUnauthorized, v)
	case !st.Enabled:
		v.Message = tr(c, "auth.err_disabled")
		return h.renderLogin(c, http.StatusForbidden, v)
	}
	waiting, err := h.store.StudentWaitingQuestions(ctx, st.ID)
	if err != nil {
		return err
	}
	if err := h.signIn(ctx, map[string]any{sessStudentID: st.ID, sessStudentNo: st.No, sessName: st.Name,
		sessQuestionsLive: waiting > 0}); err != nil {
		return err
	}
	// The sign-in is the funnel's second step (admin_traffic.go).
	if err := h.store.RecordSignIn(ctx, st.ID, signedInFrom(v.Next)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, v.Next)
}

// logout ends the whole session (student and staff alike) and goes home.
func (h *Handler) logout(c echo.Context) error {
	if err := h.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	clearSiteData(c)
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
	// A staff sign-in lasts one working day (staffSessionMax), by the real
	// clock as the session store's; sessions from before staff_since was
	// kept count as expired too.
	if since := h.sessions.GetInt64(ctx, sessStaffSince); time.Since(time.Unix(since, 0)) > staffSessionMax {
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
			// A POST from someone who is not staff changes nothing. A plain
			// form gets 403 (CONTRACT: 403 or a redirect); the scanner's JSON
			// requests get 401, on which gate.js opens the staff sign-in; an
			// htmx request is sent there with HX-Redirect below.
			if !ok && c.Request().Method != http.MethodGet && wantsJSON(c) {
				return fail(http.StatusUnauthorized, "auth.staff_required")
			}
			if !ok && c.Request().Method != http.MethodGet && !isHTMX(c) {
				return fail(http.StatusForbidden, "auth.staff_required")
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
	var st db.StaffCredentials
	ok, refused, err := h.checkSignIn(c, h.loginAttempt(c, "staff", v.Username), password, dummyPasswordHash, func(ctx context.Context) (string, error) {
		var err error
		st, err = h.store.StaffCredentials(ctx, v.Username)
		return st.PasswordHash, err
	})
	switch {
	case err != nil:
		return err
	case refused != nil:
		v.Message = refused.message
		return h.renderStaffLogin(c, refused.status, v)
	case !ok:
		v.Message = tr(c, "auth.err_staff_wrong")
		return h.renderStaffLogin(c, http.StatusUnauthorized, v)
	case !st.Enabled:
		v.Message = tr(c, "auth.err_staff_disabled")
		return h.renderStaffLogin(c, http.StatusForbidden, v)
	}
	if err := h.signIn(ctx, map[string]any{sessStaffID: st.ID, sessStaffUser: st.Username, sessStaffRole: st.Role, sessStaffSince: time.Now().Unix()}); err != nil {
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
	clearHTTPCache(c)
	return c.Redirect(http.StatusSeeOther, "/staff/login")
}

func (h *Handler) renderStaffLogin(c echo.Context, status int, v components.StaffLoginView) error {
	return h.render(c, status, components.StaffLoginPage(h.page(c, tr(c, "auth.staff_title")), v))
}

// loginAttempt names the budgets a sign-in to account of realm ("student"
// or "staff") is counted against, timed by the app's clock.
func (h *Handler) loginAttempt(c echo.Context, realm, account string) db.LoginAttempt {
	device := deviceKey(c)
	return db.LoginAttempt{
		Account: db.LoginLimit{Key: realm + ":" + account + "|dev:" + device, Max: accountMaxFailures, Window: loginWindow},
		Device:  db.LoginLimit{Key: realm + "-dev:" + device, Max: deviceMaxFailures, Window: loginWindow},
		Client:  db.LoginLimit{Key: realm + "-ip:" + clientKey(c.RealIP()), Window: loginWindow},
		At:      h.now(),
	}
}

// deviceKey names the browser making a request: a hash of its festa_csrf
// cookie (32 random bytes, HttpOnly, which every POST must carry and match,
// see csrf), so the cookie itself is never stored. A client that drops its
// cookies becomes a new device with fresh budgets; that is why the budgets
// only stop a person, and the code space and the check rate stop a script.
func deviceKey(c echo.Context) string {
	sum := sha256.Sum256([]byte(csrfToken(c)))
	return hex.EncodeToString(sum[:16])
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

// refusal is a sign-in refused before its secret was checked: the status
// and the message in the user's language (Retry-After is already set).
type refusal struct {
	status  int
	message string
}

// checkSignIn runs one sign-in attempt: one at a time per device, through
// the gate's check slots (see signInGate), against the device's budgets.
// lookup fetches the stored hash once the attempt is admitted ("" or
// db.ErrNotFound for no such account). ok is true only when secret matches
// an account's hash; refused is set when the secret was not checked.
func (h *Handler) checkSignIn(c echo.Context, a db.LoginAttempt, secret, dummy string, lookup func(context.Context) (string, error)) (ok bool, refused *refusal, err error) {
	ctx := c.Request().Context()
	leave, first := h.gate.enterDevice(a.Device.Key)
	if !first {
		return false, refuse(c, http.StatusTooManyRequests, time.Second, "auth.err_in_flight"), nil
	}
	defer leave()
	release, err := h.gate.acquire(ctx, a.Client.Key, a.At)
	if err != nil {
		return false, refuse(c, http.StatusServiceUnavailable, signInRetryAfter, "auth.err_busy"), nil
	}
	known, match, wait, err := h.checkInSlot(ctx, a, secret, dummy, lookup)
	release()
	switch {
	case errors.Is(err, db.ErrThrottled):
		return false, &refusal{status: http.StatusTooManyRequests, message: throttled(c, wait)}, nil
	case err != nil:
		return false, nil, fmt.Errorf("sign-in %s: %w", a.Account.Key, err)
	case known && match:
		return true, nil, h.store.SucceedLogin(ctx, a)
	}
	failures, err := h.store.FailLogin(ctx, a)
	h.gate.observe(a.Client.Key, failures, a.At, a.At.Add(a.Client.Window))
	return false, nil, err
}

// checkInSlot is the part of a sign-in that holds a check slot: counting
// the attempt against the device's budgets before anything is hashed, the
// account's hash, and the argon2id check itself, against a dummy hash when
// there is no such account, so that takes as long. known says whether the
// account exists.
func (h *Handler) checkInSlot(ctx context.Context, a db.LoginAttempt, secret, dummy string, lookup func(context.Context) (string, error)) (known, match bool, wait time.Duration, err error) {
	wait, failures, err := h.store.BeginLogin(ctx, a)
	h.gate.observe(a.Client.Key, failures, a.At, a.At.Add(a.Client.Window))
	if err != nil {
		return false, false, wait, err
	}
	hash, err := lookup(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return false, false, 0, err
	}
	known = hash != ""
	if !known {
		hash = dummy
	}
	match, err = passhash.Verify(hash, secret)
	return known, match, 0, err
}

// signIn puts values in the session under a fresh token: renewing it
// first means a token planted in the browser before sign-in (session
// fixation) is worth nothing after it.
func (h *Handler) signIn(ctx context.Context, values map[string]any) error {
	if err := h.sessions.RenewToken(ctx); err != nil {
		return err
	}
	// A session is a student's or a staff member's, never both: signing in
	// as one ends the other, so a gate phone handed to a student (or the
	// reverse) never carries two identities.
	for _, k := range []string{sessStudentID, sessStudentNo, sessName, sessStaffID, sessStaffUser, sessStaffRole, sessStaffSince, sessQuestionsLive} {
		h.sessions.Remove(ctx, k)
	}
	for k, v := range values {
		h.sessions.Put(ctx, k, v)
	}
	return nil
}

// refuse answers a sign-in that was not checked with status and the
// message id, and tells machines to retry after wait.
func refuse(c echo.Context, status int, wait time.Duration, id string) *refusal {
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1)))
	return &refusal{status: status, message: tr(c, id)}
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

package handlers

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/passhash"
)

// The console's staff accounts (routes.go puts them behind the council
// role): /admin/staff lists every account and adds, disables, enables,
// re-roles and resets the password of one. A password is typed by the
// council member and never shown again; the database keeps its argon2id
// hash (passhash.Default, as `festa staff add`). The last enabled council
// account cannot be disabled or demoted: the database refuses it
// (db.ErrLastCouncil) and the page says why.

// minStaffPassword is the shortest staff password, in characters, the
// same as `festa staff add`'s; maxStaffPassword is the sign-in form's
// limit, in bytes.
const minStaffPassword, maxStaffPassword = 10, 256

var staffNameRE = regexp.MustCompile(`^[a-z0-9_.-]{2,32}$`)

func (h *Handler) showStaff(c echo.Context) error {
	return h.renderStaff(c, http.StatusOK, "", "")
}

// addStaff creates an account from the form's username, role and password.
func (h *Handler) addStaff(c echo.Context) error {
	username := strings.ToLower(strings.TrimSpace(c.FormValue("username")))
	role := c.FormValue("role")
	if !staffNameRE.MatchString(username) {
		return h.renderStaff(c, http.StatusUnprocessableEntity, "", tr(c, "staff.err_username"))
	}
	if !validStaffRole(role) {
		return h.renderStaff(c, http.StatusUnprocessableEntity, "", tr(c, "staff.err_role"))
	}
	hash, msg := h.hashStaffPassword(c)
	if msg != "" {
		return h.renderStaff(c, http.StatusUnprocessableEntity, "", msg)
	}
	_, err := h.store.CreateStaff(c.Request().Context(), username, role, hash, h.consoleActor(c))
	if errors.Is(err, db.ErrStaffExists) {
		return h.renderStaff(c, http.StatusConflict, "", tr(c, "staff.err_exists", "name", username))
	}
	if err != nil {
		return err
	}
	return h.renderStaff(c, http.StatusOK, tr(c, "staff.added", "name", username), "")
}

// disableStaff and enableStaff switch whether an account may sign in.
func (h *Handler) disableStaff(c echo.Context) error { return h.setStaffEnabled(c, false) }
func (h *Handler) enableStaff(c echo.Context) error  { return h.setStaffEnabled(c, true) }

func (h *Handler) setStaffEnabled(c echo.Context, enabled bool) error {
	id, err := staffID(c)
	if err != nil {
		return err
	}
	acc, err := h.store.SetStaffEnabled(c.Request().Context(), id, enabled, h.consoleActor(c))
	if err != nil {
		return h.staffChangeFailed(c, err)
	}
	if err := h.endStaffSessions(c, id); err != nil {
		return err
	}
	notice := "staff.disabled"
	if enabled {
		notice = "staff.enabled"
	}
	return h.renderStaff(c, http.StatusOK, tr(c, notice, "name", acc.Username), "")
}

// setStaffRole makes an account council or gate.
func (h *Handler) setStaffRole(c echo.Context) error {
	id, err := staffID(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if !validStaffRole(role) {
		return h.renderStaff(c, http.StatusUnprocessableEntity, "", tr(c, "staff.err_role"))
	}
	acc, err := h.store.SetStaffRole(c.Request().Context(), id, role, h.consoleActor(c))
	if err != nil {
		return h.staffChangeFailed(c, err)
	}
	if err := h.endStaffSessions(c, id); err != nil {
		return err
	}
	return h.renderStaff(c, http.StatusOK, tr(c, "staff.role_changed", "name", acc.Username, "role", tr(c, components.StaffRoleKey(acc.Role))), "")
}

// resetStaffPassword sets the password the council member typed.
func (h *Handler) resetStaffPassword(c echo.Context) error {
	id, err := staffID(c)
	if err != nil {
		return err
	}
	hash, msg := h.hashStaffPassword(c)
	if msg != "" {
		return h.renderStaff(c, http.StatusUnprocessableEntity, "", msg)
	}
	acc, err := h.store.ResetStaffPassword(c.Request().Context(), id, hash, h.consoleActor(c))
	if err != nil {
		return h.staffChangeFailed(c, err)
	}
	if err := h.endStaffSessions(c, id); err != nil {
		return err
	}
	return h.renderStaff(c, http.StatusOK, tr(c, "staff.password_reset", "name", acc.Username), "")
}

// endStaffSessions signs account id out everywhere after a change to it
// (disabled, re-roled, new password): a session keeps the role it signed
// in with, so it must not outlive the change. The council member's own
// session is left alone (scs would write it back at the end of this
// request anyway); their own change takes effect at their next sign-in.
func (h *Handler) endStaffSessions(c echo.Context, id int64) error {
	if me, _ := h.staff(c); me.ID == id {
		return nil
	}
	ctx := c.Request().Context()
	sessions, err := h.store.LiveSessions(ctx)
	if err != nil {
		return err
	}
	var tokens []string
	for _, s := range sessions {
		_, values, err := h.sessions.Codec.Decode(s.Data)
		if err != nil {
			continue // not ours to judge; it expires by itself
		}
		if v, ok := values[sessStaffID].(int64); ok && v == id {
			tokens = append(tokens, s.Token)
		}
	}
	return h.store.DeleteSessions(ctx, tokens)
}

// staffChangeFailed answers a refused change in words; other errors go to
// the error handler.
func (h *Handler) staffChangeFailed(c echo.Context, err error) error {
	switch {
	case errors.Is(err, db.ErrLastCouncil):
		return h.renderStaff(c, http.StatusConflict, "", tr(c, "staff.err_last_council"))
	case errors.Is(err, db.ErrNotFound):
		return h.renderStaff(c, http.StatusNotFound, "", tr(c, "staff.err_gone"))
	}
	return err
}

// hashStaffPassword checks the form's password and hashes it, or says in
// the user's language what is wrong with it.
func (h *Handler) hashStaffPassword(c echo.Context) (string, string) {
	pw := c.FormValue("password")
	if !utf8.ValidString(pw) || len(pw) > maxStaffPassword || utf8.RuneCountInString(pw) < minStaffPassword {
		return "", tr(c, "staff.err_password", "min", minStaffPassword)
	}
	hash, err := passhash.Hash(pw, passhash.Default)
	if err != nil {
		return "", tr(c, "staff.err_password", "min", minStaffPassword)
	}
	return hash, ""
}

func validStaffRole(role string) bool { return role == "council" || role == "gate" }

func staffID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// renderStaff draws the accounts page with a notice or an error. It is
// never cached.
func (h *Handler) renderStaff(c echo.Context, status int, notice, problem string) error {
	accounts, err := h.store.StaffAccounts(c.Request().Context())
	if err != nil {
		return err
	}
	me, _ := h.staff(c)
	v := components.StaffView{CSRF: csrfToken(c), Lang: localizer(c).Lang(), Notice: notice, Error: problem,
		MinPassword: minStaffPassword, Me: me.ID}
	for _, a := range accounts {
		v.Accounts = append(v.Accounts, components.StaffRow{ID: a.ID, Username: a.Username, Role: a.Role,
			Enabled: a.Enabled, CreatedAt: a.CreatedAt})
	}
	if problem != "" {
		v.Username = strings.ToLower(strings.TrimSpace(c.FormValue("username")))
		v.Role = c.FormValue("role")
	}
	noStore(c)
	return h.render(c, status, components.StaffPage(h.page(c, tr(c, "staff.title")), v))
}

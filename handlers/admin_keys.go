package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
)

// The console's display keys (routes.go puts them behind the council
// role): /admin/p/{performance}/screen-keys lists a performance's keys and
// makes, rotates and revokes them. A key is shown whole once, in the
// answer to the request that made it, and then only by its last four
// characters: the database keeps its SHA-256 (db.display_keys).

// maxKeyLabel is the longest key name, in characters (the table's CHECK).
const maxKeyLabel = 60

// newDisplayKey makes a key: 32 random bytes, base64url (43 characters).
func newDisplayKey() (string, db.NewDisplayKey) {
	b := make([]byte, 32)
	rand.Read(b)
	key := base64.RawURLEncoding.EncodeToString(b)
	return key, db.NewDisplayKey{Hash: hashDisplayKey(key), Hint: key[len(key)-4:]}
}

// consoleActor is the signed-in council member, for the audit log.
func (h *Handler) consoleActor(c echo.Context) db.Actor {
	s, _ := h.staff(c)
	return db.Actor{Kind: "staff", ID: s.ID, IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// showScreens is the console's "live screen" entry: the first
// performance's keys.
func (h *Handler) showScreens(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := h.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	perfs, err := h.store.EventPerformances(ctx, ev.ID)
	if err != nil {
		return err
	}
	if len(perfs) == 0 {
		return echo.ErrNotFound
	}
	return c.Redirect(http.StatusSeeOther, "/admin/p/"+perfs[0].Slug+"/screen-keys")
}

func (h *Handler) showScreenKeys(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	return h.renderScreenKeys(c, perf, nil, "")
}

// createScreenKey makes a key named by the form's label (a default name
// when blank) and shows it once.
func (h *Handler) createScreenKey(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	label := strings.TrimSpace(c.FormValue("label"))
	if label == "" {
		label = tr(c, "screen.default_label")
	}
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > maxKeyLabel {
		return fail(http.StatusUnprocessableEntity, "screen.err_label")
	}
	key, k := newDisplayKey()
	k.Label = label
	if _, err := h.store.CreateDisplayKey(c.Request().Context(), perf.ID, k, h.consoleActor(c)); err != nil {
		return err
	}
	return h.renderScreenKeys(c, perf, &components.ScreenNewKey{Label: label, URL: h.screenURL(perf.Slug, key)},
		tr(c, "screen.created_note"))
}

// rotateScreenKey replaces a live key with a new one of the same name and
// shows the new one once; the old address stops opening the screen.
func (h *Handler) rotateScreenKey(c echo.Context) error {
	perf, id, err := h.screenKeyParams(c)
	if err != nil {
		return err
	}
	key, k := newDisplayKey()
	_, err = h.store.RotateDisplayKey(c.Request().Context(), perf.ID, id, k, h.consoleActor(c))
	if errors.Is(err, db.ErrNotFound) {
		return fail(http.StatusConflict, "screen.err_key_gone")
	}
	if err != nil {
		return err
	}
	h.dropScreens(perf.ID)
	label := h.keyLabel(c, perf.ID, id)
	return h.renderScreenKeys(c, perf, &components.ScreenNewKey{Label: label, URL: h.screenURL(perf.Slug, key)},
		tr(c, "screen.rotated_note", "label", label))
}

// revokeScreenKey stops a live key from opening the screen.
func (h *Handler) revokeScreenKey(c echo.Context) error {
	perf, id, err := h.screenKeyParams(c)
	if err != nil {
		return err
	}
	err = h.store.RevokeDisplayKey(c.Request().Context(), perf.ID, id, h.consoleActor(c))
	if errors.Is(err, db.ErrNotFound) {
		return fail(http.StatusConflict, "screen.err_key_gone")
	}
	if err != nil {
		return err
	}
	h.dropScreens(perf.ID)
	return h.renderScreenKeys(c, perf, nil, tr(c, "screen.revoked_note", "label", h.keyLabel(c, perf.ID, id)))
}

// dropScreens has the performance's open screens reconnect, so each key
// is checked again: a revoked one stops at once on this instance.
func (h *Handler) dropScreens(performanceID int64) {
	if h.live != nil {
		h.live.DropScreens(performanceID)
	}
}

// screenKeyParams reads the performance and the key id of a key's path.
func (h *Handler) screenKeyParams(c echo.Context) (db.Performance, int64, error) {
	perf, err := h.performance(c)
	if err != nil {
		return perf, 0, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return perf, 0, echo.ErrNotFound
	}
	return perf, id, nil
}

// keyLabel is the name of one of the performance's keys, for a notice.
func (h *Handler) keyLabel(c echo.Context, performanceID, id int64) string {
	keys, err := h.store.DisplayKeys(c.Request().Context(), performanceID)
	if err == nil {
		for _, k := range keys {
			if k.ID == id {
				return k.Label
			}
		}
	}
	return ""
}

// screenURL is the address that opens the performance's screen with key.
func (h *Handler) screenURL(slug, key string) string {
	return strings.TrimRight(h.cfg.BaseURL, "/") + "/screen/" + slug + "?" + url.Values{"key": {key}}.Encode()
}

// renderScreenKeys draws the keys page, with a key just made shown once.
// It is never cached: it may hold a whole key.
func (h *Handler) renderScreenKeys(c echo.Context, perf db.Performance, fresh *components.ScreenNewKey, notice string) error {
	ctx := c.Request().Context()
	keys, err := h.store.DisplayKeys(ctx, perf.ID)
	if err != nil {
		return err
	}
	perfs, err := h.store.EventPerformances(ctx, perf.EventID)
	if err != nil {
		return err
	}
	v := components.ScreenKeysView{Slug: perf.Slug, Title: perf.Title, NewKey: fresh, Notice: notice,
		CSRF: csrfToken(c), Lang: localizer(c).Lang()}
	for _, p := range perfs {
		v.Performances = append(v.Performances, components.ScreenKeysTab{Slug: p.Slug, Title: p.Title})
	}
	for _, k := range keys {
		v.Keys = append(v.Keys, components.ScreenKeyRow{ID: k.ID, Label: k.Label, Hint: k.Hint, CreatedBy: k.CreatedBy,
			CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt})
	}
	noStore(c)
	return h.render(c, http.StatusOK, components.ScreenKeysPage(h.page(c, tr(c, "screen.keys_title")), v))
}

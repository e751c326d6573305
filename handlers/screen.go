package handlers

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/realtime"
)

// The projection screen: GET /screen/{performance} and its socket
// /ws/screen/{performance}. Both open for a council session or for a
// display key of the performance (?key=), checked by requireScreenViewer;
// the keys are made in the console (admin_keys.go).

// screenPerformanceKey is where requireScreenViewer leaves the performance
// it found for the handler.
const screenPerformanceKey = "festa_screen_performance"

// maxDisplayKey bounds the ?key= worth hashing; real keys are 43
// characters.
const maxDisplayKey = 128

// hashDisplayKey is what the database keeps of a display key.
func hashDisplayKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// requireScreenViewer lets through a display key of the performance or a
// council session; it answers 404 for an unknown performance. A wrong or
// revoked key, and a signed-in account that is not the council's, get a
// 403 page that says what to do; a page asked for by someone signed out
// goes to the staff sign-in.
//
// The socket path carries no session (loadSession skips /ws/), so for it
// the council's session is read from its cookie here, read-only.
func (h *Handler) requireScreenViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		perf, err := h.performance(c)
		if err != nil {
			return err
		}
		c.Set(screenPerformanceKey, perf)
		if key := c.QueryParam("key"); key != "" {
			ok := false
			if len(key) <= maxDisplayKey {
				if ok, err = h.store.DisplayKeyOpens(c.Request().Context(), perf.ID, hashDisplayKey(key)); err != nil {
					return err
				}
			}
			if !ok {
				return h.refuseScreen(c, "screen.refused_key")
			}
			return next(c)
		}
		role, signedIn := h.screenStaffRole(c)
		switch {
		case role == "council":
			return next(c)
		case !signedIn && c.Get(sessionLoaded) == true:
			return redirectToSignIn(c, "/staff/login")
		}
		return h.refuseScreen(c, "screen.refused_role")
	}
}

// screenStaffRole is the staff role of the request's session ("" for
// none) and whether anyone (staff or student) is signed in.
func (h *Handler) screenStaffRole(c echo.Context) (string, bool) {
	if loaded, _ := c.Get(sessionLoaded).(bool); loaded {
		if s, ok := h.staff(c); ok {
			return s.Role, true
		}
		_, student := h.student(c)
		return "", student
	}
	ck, err := c.Cookie(h.sessions.Cookie.Name)
	if err != nil {
		return "", false
	}
	ctx, err := h.sessions.Load(c.Request().Context(), ck.Value)
	if err != nil {
		return "", false
	}
	role := h.sessions.GetString(ctx, sessStaffRole)
	return role, role != "" || h.sessions.GetInt64(ctx, sessStudentID) != 0
}

// refuseScreen answers 403 with the screen's refusal page.
func (h *Handler) refuseScreen(c echo.Context, id string) error {
	noStore(c)
	return h.render(c, http.StatusForbidden, components.ScreenRefusedPage(h.page(c, tr(c, "screen.title")),
		tr(c, "screen.refused_title"), tr(c, id)))
}

// showScreen draws the projection screen; its socket keeps it current.
func (h *Handler) showScreen(c echo.Context) error {
	ctx := c.Request().Context()
	perf := c.Get(screenPerformanceKey).(db.Performance)
	seats, _, err := h.store.PerformanceSeats(ctx, perf.ID)
	if err != nil {
		return err
	}
	stats, err := h.store.ScreenStats(ctx, perf.ID)
	if err != nil {
		return err
	}
	v := components.ScreenView{
		Slug: perf.Slug, Title: perf.Title, HallName: perf.HallName, StartsAt: perf.StartsAt,
		Socket: "/ws/screen/" + perf.Slug, Now: h.now(),
	}
	if key := c.QueryParam("key"); key != "" {
		v.Socket += "?" + url.Values{"key": {key}}.Encode()
	}
	v.Hall, v.Occupancy = screenHall(seats)
	v.Stats, v.Occupancy.CheckedIn = realtime.ScreenStatsView(stats)
	noStore(c)
	return h.render(c, http.StatusOK, components.ScreenPage(h.page(c, perf.Title), v))
}

// screenHall lays the seats out for the screen and counts them, as the
// performance page does but with no holder tags: the screen says which
// seats are taken, never by whom.
func screenHall(seats []db.SeatState) (components.Hall, components.Occupancy) {
	var occ components.Occupancy
	placed := make([]components.PlacedSeat, len(seats))
	for i, s := range seats {
		placed[i] = components.PlacedSeat{X: s.X, Seat: components.SeatView{
			Label: s.Label, RowLabel: s.RowLabel, Number: s.Number, State: s.State, Accessible: s.Kind == "accessible",
		}}
		switch s.State {
		case "sold":
			occ.Sold++
		case "held":
			occ.Held++
		case "available":
			occ.Available++
		}
	}
	occ.Capacity = occ.Sold + occ.Held + occ.Available
	return components.LayOutHall(placed), occ
}

// watchScreen opens the screen's socket.
func (h *Handler) watchScreen(c echo.Context) error {
	if h.live == nil {
		return echo.ErrNotFound
	}
	perf, ok := c.Get(screenPerformanceKey).(db.Performance)
	if !ok {
		return errors.New("screen: no performance")
	}
	h.live.ServeScreen(c.Response(), c.Request(), perf.ID, localizer(c).Lang())
	return nil
}

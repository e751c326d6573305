package handlers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/realtime"
)

// The gate: staff at a door scan tickets (routes.go lets gate and council
// accounts in). A scan is verified here with the app's key ring and
// decided by the database in one statement (db.Store.RecordScan), so two
// doors never admit one ticket twice.

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	nonceRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
)

// maxGateName is the longest door name, in characters.
const maxGateName = 32

// gateCSP is the site's policy with 'wasm-unsafe-eval' added, for the
// scanner page only: the barcode polyfill compiles its ZXing WebAssembly,
// which a policy without it refuses. No other page needs to compile code.
const gateCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'self'; form-action 'self'"

// door is where a scanner stands: the performance it admits to (a slug)
// and the door's name.
type door struct {
	Performance string
	Gate        string
}

// URL is the scanner's address for d.
func (d door) URL() string {
	return "/gate?" + url.Values{"performance": {d.Performance}, "gate": {d.Gate}}.Encode()
}

// readDoor takes the door from the request's query or form. ok is false
// when either part is missing or malformed.
func readDoor(c echo.Context) (door, bool) {
	d := door{Performance: c.FormValue("performance"), Gate: strings.TrimSpace(c.FormValue("gate"))}
	return d, slugRE.MatchString(d.Performance) && validGateName(d.Gate)
}

// validGateName accepts 1–32 characters of printable text.
func validGateName(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxGateName {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// noStore marks a staff page as personal: it names students and must not
// sit in any cache.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "private, no-store")
}

// showGate is the scanner for the door in the query, or the set-up that
// picks one.
func (h *Handler) showGate(c echo.Context) error {
	d, ok := readDoor(c)
	if c.QueryParam("change") != "" {
		return h.renderGateSetup(c, http.StatusOK, d, "")
	}
	if !ok {
		msg := ""
		if c.QueryParam("performance") != "" {
			msg = tr(c, "gate.err_gate")
		}
		return h.renderGateSetup(c, http.StatusOK, d, msg)
	}
	return h.renderGate(c, d, components.GateView{})
}

// renderGate draws the scanner page for door d, with v's verdict or
// lookup over it.
func (h *Handler) renderGate(c echo.Context, d door, v components.GateView) error {
	ctx := c.Request().Context()
	noStore(c)
	perf, err := h.store.PerformanceBySlug(ctx, d.Performance)
	if errors.Is(err, db.ErrNotFound) {
		return h.renderGateSetup(c, http.StatusNotFound, d, tr(c, "gate.err_performance"))
	}
	if err != nil {
		return err
	}
	tally, err := h.store.GateTally(ctx, perf.ID)
	if err != nil {
		return err
	}
	v.Performance, v.PerformanceTitle, v.Gate = d.Performance, perf.Title, d.Gate
	v.Count, v.Tally, v.Socket = tally.Count(d.Gate), realtime.GateTallyView(tally), "/ws/gate/"+d.Performance
	c.Response().Header().Set("Content-Security-Policy", gateCSP)
	return h.render(c, http.StatusOK, components.GatePage(h.page(c, tr(c, "gate.title")), v))
}

func (h *Handler) renderGateSetup(c echo.Context, status int, d door, msg string) error {
	ctx := c.Request().Context()
	noStore(c)
	ev, err := h.store.FirstEvent(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	perfs, err := h.store.EventPerformances(ctx, ev.ID)
	if err != nil {
		return err
	}
	v := components.GateSetupView{Performance: d.Performance, Gate: d.Gate, Error: msg}
	for _, p := range perfs {
		v.Performances = append(v.Performances, components.GateOption{Slug: p.Slug, Title: p.Title, StartsAt: p.StartsAt})
	}
	return h.render(c, status, components.GateSetupPage(h.page(c, tr(c, "gate.title")), v))
}

// scanTicket is POST /gate/scan: verify the token, let the database decide,
// answer with the verdict (JSON for the scanner script, a fragment for
// htmx, else the scanner page with the verdict over it).
func (h *Handler) scanTicket(c echo.Context) error {
	d, ok := readDoor(c)
	if !ok {
		return fail(http.StatusUnprocessableEntity, "gate.err_gate")
	}
	token := strings.TrimSpace(c.FormValue("token"))
	if token == "" {
		return fail(http.StatusUnprocessableEntity, "gate.err_token")
	}
	nonce := c.FormValue("nonce")
	if nonce != "" && !nonceRE.MatchString(nonce) {
		return fail(http.StatusBadRequest, "gate.err_nonce")
	}
	scannedAt, local, err := readOfflineScan(c, nonce)
	if err != nil {
		return err
	}
	staff, _ := h.staff(c)
	sc := db.Scan{Performance: d.Performance, Gate: d.Gate, StaffID: staff.ID, Token: token, Nonce: nonce,
		ScannedAt: scannedAt, Local: local}
	if claims, err := h.tickets.Verify(token); err != nil {
		sc.Reason = db.ReasonBadToken
	} else {
		sc.TicketID = claims.TicketID.String()
	}
	v, err := h.store.RecordScan(c.Request().Context(), sc)
	if errors.Is(err, db.ErrNotFound) {
		return fail(http.StatusNotFound, "gate.err_performance")
	}
	if err != nil {
		return err
	}
	if v.NewAdmission() {
		h.announceCheckIn(v.DoorPerformanceID)
	}
	return h.renderVerdict(c, d, v)
}

// announceCheckIn tells the doors' and the screen's live counts that a
// ticket of the performance got in. It never blocks.
func (h *Handler) announceCheckIn(performanceID int64) {
	h.notifier.PokeCheckIns(performanceID)
}

// requireStaffSocket lets a live socket open for a staff member of one of
// roles and answers 403 to anyone else, before any upgrade. Socket paths
// carry no session (loadSession skips /ws/), so the session is read from
// its cookie, read-only, as the projection screen's socket reads it.
func (h *Handler) requireStaffSocket(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if role, _ := h.screenStaffRole(c); !slices.Contains(roles, role) {
				return fail(http.StatusForbidden, "auth.wrong_role")
			}
			return next(c)
		}
	}
}

// watchGate opens a scanner's live socket: the performance's admissions
// per door and in total, pushed after every check-in at any door on any
// instance.
func (h *Handler) watchGate(c echo.Context) error {
	if h.live == nil {
		return echo.ErrNotFound
	}
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	h.live.ServeGate(c.Response(), c.Request(), perf.ID, localizer(c).Lang())
	return nil
}

// readOfflineScan reads what a door that was offline adds to a scan it
// syncs: when it scanned (scanned_at, RFC 3339) and the verdict it gave on
// its own (local). Both need a nonce, so a sync sent twice counts once.
func readOfflineScan(c echo.Context, nonce string) (time.Time, string, error) {
	at, local := c.FormValue("scanned_at"), c.FormValue("local")
	if at == "" && local == "" {
		return time.Time{}, "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || nonce == "" || !slices.Contains(verdicts, local) {
		return time.Time{}, "", fail(http.StatusBadRequest, "gate.err_offline")
	}
	return t, local, nil
}

// verdicts are the CONTRACT's data-result values.
var verdicts = []string{db.Admitted, db.AlreadyUsed, db.Invalid, db.Cancelled, db.WrongPerformance}

// verdictJSON is the scanner script's view of a verdict; html is the
// verdict as the page would draw it, so the script need not.
type verdictJSON struct {
	Result           string `json:"result"`
	Reason           string `json:"reason"`
	Seat             string `json:"seat,omitempty"`
	StudentNo        string `json:"student_no,omitempty"`
	StudentName      string `json:"student_name,omitempty"` // a guest's name for a guest's ticket
	Guest            bool   `json:"guest,omitempty"`
	Performance      string `json:"performance,omitempty"`
	PerformanceTitle string `json:"performance_title,omitempty"`
	FirstAt          string `json:"first_at,omitempty"`
	FirstGate        string `json:"first_gate,omitempty"`
	GateCount        int    `json:"gate_count"`
	Replayed         bool   `json:"replayed"`
	Duplicate        bool   `json:"duplicate"`
	HTML             string `json:"html"`
}

func (h *Handler) renderVerdict(c echo.Context, d door, v db.Verdict) error {
	noStore(c)
	view := components.GateVerdictView{
		Result: v.Result, Lang: localizer(c).Lang(), SeatLabel: v.SeatLabel, StudentNo: v.StudentNo,
		StudentName: v.StudentName, Guest: v.Guest, PerformanceTitle: v.PerformanceTitle, FirstAt: v.FirstAt,
		FirstGate: v.FirstGate, Now: h.now(),
	}
	if wantsJSON(c) {
		var buf bytes.Buffer
		if err := components.GateVerdict(view).Render(c.Request().Context(), &buf); err != nil {
			return err
		}
		out := verdictJSON{
			Result: v.Result, Reason: v.Reason, Seat: v.SeatLabel, StudentNo: v.StudentNo, StudentName: v.StudentName,
			Guest: v.Guest, Performance: v.PerformanceSlug, PerformanceTitle: v.PerformanceTitle, FirstGate: v.FirstGate,
			GateCount: v.GateCount, Replayed: v.Replayed, Duplicate: v.Duplicate, HTML: buf.String(),
		}
		if !v.FirstAt.IsZero() {
			out.FirstAt = v.FirstAt.UTC().Format(time.RFC3339Nano)
		}
		return c.JSON(http.StatusOK, out)
	}
	view.Back = d.URL()
	if isHTMX(c) {
		return h.render(c, http.StatusOK, components.GateVerdict(view))
	}
	return h.renderGate(c, d, components.GateView{Verdict: &view})
}

// lookupTickets is the manual lookup, by seat label or student number, for
// a student whose phone has died. It answers a fragment to the scanner
// script and the scanner page otherwise.
func (h *Handler) lookupTickets(c echo.Context) error {
	ctx := c.Request().Context()
	d, ok := readDoor(c)
	if !ok {
		return fail(http.StatusUnprocessableEntity, "gate.err_gate")
	}
	q := strings.ToUpper(strings.TrimSpace(c.QueryParam("q")))
	v := components.GateLookupView{Query: q, Performance: d.Performance, Gate: d.Gate, CSRF: csrfToken(c), Lang: localizer(c).Lang()}
	if !seatLabelRE.MatchString(q) && !studentNoRE.MatchString(q) {
		v.Message = tr(c, "gate.lookup_bad")
	} else {
		found, err := h.store.LookupGateTickets(ctx, d.Performance, q)
		if err != nil {
			return err
		}
		for _, t := range found {
			v.Tickets = append(v.Tickets, components.GateLookupTicket{
				SeatLabel: t.SeatLabel, StudentNo: t.StudentNo, StudentName: t.StudentName, Guest: t.Guest,
				Cancelled: t.Status == "cancelled", Token: t.Token, CheckedInAt: t.CheckedInAt, CheckedGate: t.CheckedGate,
			})
		}
		if len(found) == 0 {
			v.Message = tr(c, "gate.lookup_none", "q", q)
		}
	}
	if isHTMX(c) {
		return h.render(c, http.StatusOK, components.GateLookup(v))
	}
	return h.renderGate(c, d, components.GateView{Lookup: &v})
}

// offlineJSON is what a door keeps to go on working offline: the public
// keys to verify tokens with, the performance's tickets and their state,
// the titles that name the right performance for another one's ticket,
// and the duplicates found so far.
type offlineJSON struct {
	Performance string                   `json:"performance"`
	Titles      map[string]string        `json:"titles"`
	Keys        map[string]string        `json:"keys"` // key id → base64url of the raw Ed25519 public key
	Tickets     map[string]offlineTicket `json:"tickets"`
	Duplicates  []offlineDuplicate       `json:"duplicates"`
	GateCount   int                      `json:"gate_count"`
	At          string                   `json:"at"`
}

// offlineTicket holds what the admit verdict shows, no more. A guest's
// ticket has the guest's name, no number, and guest set, so the door
// shows the guest label where a student's class would be.
type offlineTicket struct {
	Seat      string `json:"seat"`
	Name      string `json:"name"`
	No        string `json:"no"`
	Guest     bool   `json:"guest,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
	In        string `json:"in,omitempty"` // when it got in, RFC 3339
	Gate      string `json:"gate,omitempty"`
}

type offlineDuplicate struct {
	Seat      string `json:"seat"`
	Name      string `json:"name"`
	FirstAt   string `json:"first_at"`
	FirstGate string `json:"first_gate"`
	At        string `json:"at"`
	Gate      string `json:"gate"`
}

// offlineData is GET /gate/offline: everything a door needs to admit,
// refuse and show verdicts while the network is down. The scanner script
// fetches it when the page opens and every half minute after.
func (h *Handler) offlineData(c echo.Context) error {
	ctx := c.Request().Context()
	noStore(c)
	d, ok := readDoor(c)
	if !ok {
		return fail(http.StatusUnprocessableEntity, "gate.err_gate")
	}
	ev, err := h.store.FirstEvent(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	perfs, err := h.store.EventPerformances(ctx, ev.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(perfs, func(p db.PerformanceWithOccupancy) bool { return p.Slug == d.Performance }) {
		return fail(http.StatusNotFound, "gate.err_performance")
	}
	list, err := h.store.OfflineTickets(ctx, d.Performance)
	if err != nil {
		return err
	}
	dups, err := h.store.Duplicates(ctx, d.Performance)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.offlineView(d, perfs, list, dups))
}

// offlineView lays out what offlineData fetched, times in UTC RFC 3339.
func (h *Handler) offlineView(d door, perfs []db.PerformanceWithOccupancy, list []db.OfflineTicket, dups []db.Duplicate) offlineJSON {
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	out := offlineJSON{Performance: d.Performance, Titles: map[string]string{}, Keys: map[string]string{},
		Tickets: map[string]offlineTicket{}, Duplicates: []offlineDuplicate{}, At: stamp(h.now())}
	for _, p := range perfs {
		out.Titles[p.Slug] = p.Title
	}
	for id, pub := range h.tickets.PublicKeys() {
		out.Keys[id] = base64.RawURLEncoding.EncodeToString(pub)
	}
	for _, t := range list {
		o := offlineTicket{Seat: t.SeatLabel, Name: t.StudentName, No: t.StudentNo, Guest: t.Guest, Cancelled: t.Cancelled,
			Gate: t.CheckedGate}
		if t.CheckedInAt != nil {
			o.In = stamp(*t.CheckedInAt)
			if t.CheckedGate == d.Gate {
				out.GateCount++
			}
		}
		out.Tickets[t.ID] = o
	}
	for _, dp := range dups {
		out.Duplicates = append(out.Duplicates, offlineDuplicate{Seat: dp.SeatLabel, Name: dp.StudentName,
			FirstAt: stamp(dp.FirstAt), FirstGate: dp.FirstGate, At: stamp(dp.At), Gate: dp.Gate})
	}
	return out
}

// wantsJSON reports whether the client asked for JSON (the scanner script).
func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON)
}

// staffViewer is the header's view of the signed-in staff member.
func (h *Handler) staffViewer(c echo.Context) *components.Viewer {
	if s, ok := h.staff(c); ok {
		return &components.Viewer{Name: s.Username, ID: s.Role}
	}
	return nil
}

package handlers

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/layout"
)

// Festival setup (routes.go puts it behind the council role): the festival
// itself, halls drawn as text (package layout) and performances. Every form
// is checked whole before anything is written; a refused form comes back
// with each field's problem in the user's language and status 422.

// maxGrid bounds a pasted grid: 60 lines of 80 columns and line ends.
const maxGrid = 8 << 10

// setupTimeLayout is what a datetime-local input sends.
const setupTimeLayout = "2006-01-02T15:04"

// eventZone is the festival's time zone, in which the setup forms read and
// show times; Korea time when the festival names none that Go knows.
func eventZone(e db.EventSetup) *time.Location {
	if loc, err := time.LoadLocation(e.TimeZone); err == nil && e.TimeZone != "" {
		return loc
	}
	return components.Zone()
}

// setupEvent returns the festival, or an empty one (ID 0) before the
// council has made it.
func (h *Handler) setupEvent(c echo.Context) (db.EventSetup, error) {
	ctx := c.Request().Context()
	ev, err := h.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return db.EventSetup{TimeZone: "Asia/Seoul"}, nil
	}
	if err != nil {
		return db.EventSetup{}, err
	}
	return h.store.EventSetupByID(ctx, ev.ID)
}

func (h *Handler) showSetup(c echo.Context) error {
	return h.renderSetup(c, http.StatusOK, components.SetupForms{})
}

// renderSetup draws the setup page with forms as the user left them.
func (h *Handler) renderSetup(c echo.Context, status int, f components.SetupForms) error {
	ctx := c.Request().Context()
	ev, err := h.setupEvent(c)
	if err != nil {
		return err
	}
	halls, err := h.store.Halls(ctx)
	if err != nil {
		return err
	}
	zone := eventZone(ev)
	v := components.SetupView{CSRF: csrfToken(c), Forms: f, Zone: zone.String()}
	if f.Event == nil {
		f := components.EventForm{Name: ev.Name, TimeZone: ev.TimeZone}
		if !ev.StartsOn.IsZero() {
			f.StartsOn, f.EndsOn = ev.StartsOn.Format(time.DateOnly), ev.EndsOn.Format(time.DateOnly)
		}
		v.Forms.Event = &f
	}
	for _, hl := range halls {
		v.Halls = append(v.Halls, components.SetupHall{ID: hl.ID, Name: hl.Name, Slug: hl.Slug, Seats: hl.Seats, Reserved: hl.Reserved})
	}
	if ev.ID != 0 {
		perfs, err := h.store.EventPerformances(ctx, ev.ID)
		if err != nil {
			return err
		}
		for _, p := range perfs {
			v.Performances = append(v.Performances, components.SetupPerformance{ID: p.ID, Slug: p.Slug, Title: p.Title,
				Hall: p.HallName, Starts: p.StartsAt.In(zone).Format("2006-01-02 15:04")})
		}
	}
	if v.Forms.Hall == nil {
		v.Forms.Hall = &components.HallForm{StartRow: "A", StartNumber: "1"}
	}
	if v.Forms.Perf == nil {
		v.Forms.Perf = &components.PerfForm{TicketLimit: "1", HoldSeconds: "180"}
	}
	v.HasEvent = ev.ID != 0
	noStore(c)
	return h.render(c, status, components.SetupPage(h.page(c, tr(c, "setup.title")), v))
}

// saveSetupEvent creates or edits the festival.
func (h *Handler) saveSetupEvent(c echo.Context) error {
	ev, err := h.setupEvent(c)
	if err != nil {
		return err
	}
	f := components.EventForm{Name: strings.TrimSpace(c.FormValue("name")), TimeZone: strings.TrimSpace(c.FormValue("time_zone")),
		StartsOn: c.FormValue("starts_on"), EndsOn: c.FormValue("ends_on"), Errors: map[string]string{}}
	if n := utf8.RuneCountInString(f.Name); n < 1 || n > 200 {
		f.Errors["name"] = "setup.error.name"
	}
	if _, err := time.LoadLocation(f.TimeZone); err != nil || f.TimeZone == "" || f.TimeZone == "Local" {
		f.Errors["time_zone"] = "setup.error.time_zone"
	}
	var from, to time.Time
	if f.StartsOn != "" || f.EndsOn != "" {
		var e1, e2 error
		from, e1 = time.Parse(time.DateOnly, f.StartsOn)
		to, e2 = time.Parse(time.DateOnly, f.EndsOn)
		switch {
		case e1 != nil:
			f.Errors["starts_on"] = "setup.error.date"
		case e2 != nil:
			f.Errors["ends_on"] = "setup.error.date"
		case to.Before(from):
			f.Errors["ends_on"] = "setup.error.ends_before_starts"
		}
	}
	if len(f.Errors) > 0 {
		return h.renderSetup(c, http.StatusUnprocessableEntity, components.SetupForms{Event: &f})
	}
	ev.Name, ev.TimeZone, ev.StartsOn, ev.EndsOn = f.Name, f.TimeZone, from, to
	if ev.ID == 0 {
		ev.Slug = "festival"
	}
	if _, err := h.store.SaveEvent(c.Request().Context(), ev); err != nil {
		return err
	}
	// The zone was checked above; every page shows times in it from now on.
	if loc, err := time.LoadLocation(ev.TimeZone); err == nil {
		components.SetZone(loc)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/setup#event")
}

// hallForm reads the hall form and parses its grid.
func hallForm(c echo.Context) (components.HallForm, layout.Hall) {
	f := components.HallForm{Name: strings.TrimSpace(c.FormValue("name")), Slug: strings.TrimSpace(c.FormValue("slug")),
		Grid: c.FormValue("grid"), StartRow: strings.ToUpper(strings.TrimSpace(c.FormValue("start_row"))),
		StartNumber: strings.TrimSpace(c.FormValue("start_number")), SkipIO: c.FormValue("skip_io") != "",
		Errors: map[string]string{}}
	if fh, err := c.FormFile("grid_file"); err == nil && fh.Size > 0 {
		// A plan drawn in a spreadsheet's cells replaces the typed text.
		f.FromFile = true
		grid, err := csvGrid(fh)
		var le *layout.Error
		switch {
		case errors.As(err, &le):
			f.Errors["grid"] = "setup.grid.error." + le.Kind
			f.ErrLine, f.ErrColumn, f.ErrChar = le.Line, le.Column, string(le.Char)
			return f, layout.Hall{}
		case err != nil:
			f.Errors["grid"] = "setup.grid.error.file"
			return f, layout.Hall{}
		}
		f.Grid = grid
	}
	if len(f.Grid) > maxGrid || !utf8.ValidString(f.Grid) {
		f.Errors["grid"] = "setup.grid.error.too_wide"
		return f, layout.Hall{}
	}
	o := layout.Options{SkipIO: f.SkipIO}
	if len(f.StartRow) == 1 {
		o.StartRow = f.StartRow[0]
	}
	o.StartNumber, _ = strconv.Atoi(f.StartNumber)
	hall, err := layout.Parse(f.Grid, o)
	var le *layout.Error
	if errors.As(err, &le) {
		if le.Kind == layout.ErrOptions {
			f.Errors["start_row"] = "setup.grid.error.options"
		} else {
			f.Errors["grid"] = "setup.grid.error." + le.Kind
			f.ErrLine, f.ErrColumn, f.ErrChar = le.Line, le.Column, string(le.Char)
		}
	}
	return f, hall
}

// maxGridFile bounds an uploaded plan: 60 rows of 80 cells with commas
// and quotes fit many times over.
const maxGridFile = 64 << 10

// csvGrid reads an uploaded CSV plan as grid text.
func csvGrid(fh *multipart.FileHeader) (string, error) {
	if fh.Size > maxGridFile {
		return "", errors.New("plan file too large")
	}
	file, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer file.Close()
	return layout.GridFromCSV(io.LimitReader(file, maxGridFile))
}

// previewHall draws a grid as students will see it, or says what is wrong
// with it; it writes nothing.
func (h *Handler) previewHall(c echo.Context) error {
	f, hall := hallForm(c)
	if strings.TrimSpace(strings.ReplaceAll(f.Grid, ".", "")) == "" {
		// Nothing typed yet is not a mistake: the preview invites a paste.
		f.Errors = nil
	}
	noStore(c)
	return h.render(c, http.StatusOK, components.HallPreview(f, previewSeats(hall)))
}

// previewSeats lays a parsed hall out with the student page's own
// component: reserved seats and the sound desk show as not for sale.
func previewSeats(hall layout.Hall) components.Hall {
	placed := make([]components.PlacedSeat, len(hall.Seats))
	for i, s := range hall.Seats {
		state := "available"
		if s.Kind == layout.Blocked || s.Reserved {
			state = "blocked"
		}
		placed[i] = components.PlacedSeat{X: s.X, Seat: components.SeatView{Label: s.Label, RowLabel: s.RowLabel,
			Number: s.Number, State: state, Accessible: s.Kind == layout.Accessible}}
	}
	return components.LayOutHall(placed)
}

// createHall makes a hall from the form's grid.
func (h *Handler) createHall(c echo.Context) error {
	f, hall := hallForm(c)
	if n := utf8.RuneCountInString(f.Name); n < 1 || n > 200 {
		f.Errors["name"] = "setup.error.name"
	}
	if !validSlug(f.Slug) {
		f.Errors["slug"] = "setup.error.slug"
	}
	if len(f.Errors) == 0 {
		_, err := h.store.CreateHall(c.Request().Context(), f.Slug, f.Name, hall.Seats)
		if errors.Is(err, db.ErrSlugTaken) {
			f.Errors["slug"] = "setup.error.slug_taken"
		} else if err != nil {
			return err
		}
	}
	if len(f.Errors) > 0 {
		return h.renderSetup(c, http.StatusUnprocessableEntity, components.SetupForms{Hall: &f})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/setup#halls")
}

// validSlug is the CHECK on slug columns.
func validSlug(s string) bool {
	return db.PerformanceProblems(db.NewPerformance{Slug: s})["slug"] == ""
}

// perfForm reads the performance form in the festival's zone.
func perfForm(c echo.Context, zone *time.Location) (components.PerfForm, db.NewPerformance) {
	f := components.PerfForm{Hall: c.FormValue("hall"), Title: strings.TrimSpace(c.FormValue("title")),
		Slug: strings.TrimSpace(c.FormValue("slug")), StartsAt: c.FormValue("starts_at"),
		SalesOpenAt: c.FormValue("sales_open_at"), SalesCloseAt: c.FormValue("sales_close_at"),
		TicketLimit: c.FormValue("ticket_limit"), HoldSeconds: c.FormValue("hold_seconds")}
	var p db.NewPerformance
	p.HallID, _ = strconv.ParseInt(f.Hall, 10, 64)
	p.Title, p.Slug = f.Title, f.Slug
	at := func(s string) time.Time {
		t, err := time.ParseInLocation(setupTimeLayout, s, zone)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	p.StartsAt, p.SalesOpenAt, p.SalesCloseAt = at(f.StartsAt), at(f.SalesOpenAt), at(f.SalesCloseAt)
	p.TicketLimit, _ = strconv.Atoi(f.TicketLimit)
	p.HoldSeconds, _ = strconv.Atoi(f.HoldSeconds)
	f.Errors = db.PerformanceProblems(p)
	return f, p
}

// perfFormOf fills the form from a stored performance.
func perfFormOf(p db.Performance, zone *time.Location) components.PerfForm {
	at := func(t time.Time) string { return t.In(zone).Format(setupTimeLayout) }
	return components.PerfForm{ID: p.ID, Hall: strconv.FormatInt(p.HallID, 10), Title: p.Title, Slug: p.Slug,
		StartsAt: at(p.StartsAt), SalesOpenAt: at(p.SalesOpenAt), SalesCloseAt: at(p.SalesCloseAt),
		TicketLimit: strconv.Itoa(p.TicketLimit), HoldSeconds: strconv.Itoa(p.HoldSeconds)}
}

func (h *Handler) createPerformance(c echo.Context) error {
	ev, err := h.setupEvent(c)
	if err != nil {
		return err
	}
	f, p := perfForm(c, eventZone(ev))
	if ev.ID == 0 {
		f.Errors["title"] = "setup.error.no_event"
	}
	if len(f.Errors) == 0 {
		p.EventID = ev.ID
		_, err := h.store.CreatePerformance(c.Request().Context(), p)
		if errors.Is(err, db.ErrSlugTaken) {
			f.Errors["slug"] = "setup.error.slug_taken"
		} else if err != nil {
			return err
		}
	}
	if len(f.Errors) > 0 {
		return h.renderSetup(c, http.StatusUnprocessableEntity, components.SetupForms{Perf: &f})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/setup#performances")
}

// setupPerformance reads the :id of an edit path.
func (h *Handler) setupPerformance(c echo.Context) (db.Performance, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Performance{}, echo.ErrNotFound
	}
	p, err := h.store.PerformanceByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return p, echo.ErrNotFound
	}
	return p, err
}

func (h *Handler) editPerformance(c echo.Context) error {
	p, err := h.setupPerformance(c)
	if err != nil {
		return err
	}
	ev, err := h.setupEvent(c)
	if err != nil {
		return err
	}
	f := perfFormOf(p, eventZone(ev))
	return h.renderSetup(c, http.StatusOK, components.SetupForms{Perf: &f})
}

// updatePerformance saves an edited performance; a change that would break
// tickets sold is refused with its reason.
func (h *Handler) updatePerformance(c echo.Context) error {
	old, err := h.setupPerformance(c)
	if err != nil {
		return err
	}
	ev, err := h.setupEvent(c)
	if err != nil {
		return err
	}
	f, p := perfForm(c, eventZone(ev))
	f.ID = old.ID
	if len(f.Errors) == 0 {
		p.EventID = old.EventID
		err := h.store.UpdatePerformance(c.Request().Context(), old.ID, p)
		switch {
		case errors.Is(err, db.ErrHallHasTickets):
			f.Errors["hall"] = "setup.error.hall_has_tickets"
		case errors.Is(err, db.ErrSlugHasTickets):
			f.Errors["slug"] = "setup.error.slug_has_tickets"
		case errors.Is(err, db.ErrLimitBelowSold):
			f.Errors["ticket_limit"] = "setup.error.limit_below_sold"
		case errors.Is(err, db.ErrSlugTaken):
			f.Errors["slug"] = "setup.error.slug_taken"
		case errors.Is(err, db.ErrNotFound):
			return echo.ErrNotFound
		case err != nil:
			return err
		}
	}
	if len(f.Errors) > 0 {
		return h.renderSetup(c, http.StatusUnprocessableEntity, components.SetupForms{Perf: &f})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/setup#performances")
}

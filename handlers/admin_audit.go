package handlers

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
)

// The audit log viewer: every recorded change (seats, tickets, sales,
// council actions), filtered by actor, student, seat, action, performance
// and time, newest first, 50 to a page; and the same filter as CSV.

// auditPage is how many rows the viewer shows at once.
const auditPage = 50

// auditExportMax bounds one export: a whole festival's log is a few
// hundred thousand rows at most.
const auditExportMax = 500_000

var auditActionRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// auditQuery is a parsed filter: what the database is asked, what the
// form shows again, and what was wrong with it, by field.
type auditQuery struct {
	filter db.AuditFilter
	view   components.AuditFilterView
	errs   map[string]string
}

// readAuditFilter parses the viewer's query. A field that cannot be read
// is reported by name, in the user's language, and the page shows no
// rows rather than rows of some other filter.
func (h *Handler) readAuditFilter(c echo.Context) (auditQuery, error) {
	q := auditQuery{errs: map[string]string{}}
	v := &q.view
	f := &q.filter
	v.Actor = strings.TrimSpace(c.QueryParam("actor"))
	v.Student = strings.TrimSpace(c.QueryParam("student"))
	v.Seat = strings.ToUpper(strings.TrimSpace(c.QueryParam("seat")))
	v.Action = strings.TrimSpace(c.QueryParam("action"))
	v.Performance = strings.TrimSpace(c.QueryParam("performance"))
	v.From = strings.TrimSpace(c.QueryParam("from"))
	v.To = strings.TrimSpace(c.QueryParam("to"))

	switch a := strings.ToLower(v.Actor); {
	case a == "":
	// "system", or the word the viewer sees for it in their language.
	case a == "system" || a == strings.ToLower(tr(c, "admin.audit.kind_system")):
		f.ActorKind = "system"
	case studentNoRE.MatchString(a):
		f.ActorKind, f.ActorName = "student", a
	case usernameRE.MatchString(a):
		f.ActorKind, f.ActorName = "staff", a
	default:
		q.errs["actor"] = tr(c, "admin.audit.err_actor")
	}
	if v.Student != "" && !studentNoRE.MatchString(v.Student) {
		q.errs["student"] = tr(c, "admin.audit.err_student")
	}
	f.StudentNo = v.Student
	if v.Seat != "" && !seatLabelRE.MatchString(v.Seat) {
		q.errs["seat"] = tr(c, "admin.audit.err_seat")
	}
	f.Seat = v.Seat
	if v.Action != "" && !auditActionRE.MatchString(v.Action) {
		return q, fail(http.StatusBadRequest, "error.bad_request")
	}
	f.Action = v.Action
	if v.Performance != "" {
		p, err := h.store.PerformanceBySlug(c.Request().Context(), v.Performance)
		if errors.Is(err, db.ErrNotFound) || len(v.Performance) > 64 {
			return q, echo.ErrNotFound
		}
		if err != nil {
			return q, err
		}
		f.PerformanceID = p.ID
	}
	var err error
	if f.From, err = readLocalTime(v.From); err != nil {
		q.errs["from"] = tr(c, "admin.audit.err_time")
	}
	// "To" names a minute and includes it.
	if f.To, err = readLocalTime(v.To); err != nil {
		q.errs["to"] = tr(c, "admin.audit.err_time")
	} else if !f.To.IsZero() {
		f.To = f.To.Add(time.Minute)
		if !f.From.IsZero() && !f.To.After(f.From) {
			q.errs["to"] = tr(c, "admin.audit.err_range")
		}
	}
	if b := c.QueryParam("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil || f.Before <= 0 {
			return q, fail(http.StatusBadRequest, "error.bad_request")
		}
	}
	return q, nil
}

// readLocalTime reads a datetime-local value in Korea time; "" is the
// zero time.
func readLocalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation(localTimeLayout, s, councilZone())
}

func (h *Handler) showAudit(c echo.Context) error {
	ctx := c.Request().Context()
	q, err := h.readAuditFilter(c)
	if err != nil {
		return err
	}
	v := components.AuditView{Filter: q.view, Errors: q.errs, Lang: localizer(c).Lang()}
	if v.Actions, err = h.store.AuditActions(ctx); err != nil {
		return err
	}
	if ev, err := h.store.FirstEvent(ctx); err == nil {
		perfs, err := h.store.EventPerformances(ctx, ev.ID)
		if err != nil {
			return err
		}
		for _, p := range perfs {
			v.Performances = append(v.Performances, components.AuditOption{Slug: p.Slug, Title: p.Title})
		}
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	status := http.StatusOK
	if len(q.errs) > 0 {
		status = http.StatusUnprocessableEntity
		return h.render(c, status, components.AuditPage(h.page(c, tr(c, "admin.audit.title")), v))
	}
	// One more row than shown says whether an older page exists.
	q.filter.Limit = auditPage + 1
	err = h.store.AuditLog(ctx, q.filter, func(e db.AuditEntry) error {
		v.Entries = append(v.Entries, auditRow(e))
		return nil
	})
	if err != nil {
		return err
	}
	query := components.AuditQuery(q.view)
	if len(v.Entries) > auditPage {
		v.Entries = v.Entries[:auditPage]
		next := components.AuditQuery(q.view)
		next.Set("before", strconv.FormatInt(v.Entries[auditPage-1].ID, 10))
		v.NextURL = "/admin/audit?" + next.Encode()
	}
	if q.filter.Before > 0 {
		v.NewestURL = "/admin/audit?" + query.Encode()
	}
	v.CSVURL = "/admin/audit.csv?" + query.Encode()
	return h.render(c, status, components.AuditPage(h.page(c, tr(c, "admin.audit.title")), v))
}

func auditRow(e db.AuditEntry) components.AuditRow {
	return components.AuditRow{
		ID: e.ID, At: e.At, ActorKind: e.ActorKind, ActorName: e.ActorName, Action: e.Action,
		Performance: e.Performance, Seat: e.Seat, StudentNo: e.StudentNo, StudentName: e.StudentName,
		IP: e.IP, UserAgent: e.UserAgent, Changes: auditChanges(e.Before, e.After),
	}
}

// auditChanges lists the fields an audit row's before and after differ
// in, by name, but the student's id. Times are shown in Korea time; a value that is not JSON
// (never written by festa) is shown as it is.
func auditChanges(before, after string) []components.AuditChange {
	var b, a map[string]any
	json.Unmarshal([]byte(before), &b)
	json.Unmarshal([]byte(after), &a)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	var out []components.AuditChange
	// The student column names the student; their internal id says
	// nothing more.
	delete(keys, "student_id")
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		bv, av := auditValue(b[k]), auditValue(a[k])
		if bv != av {
			out = append(out, components.AuditChange{Key: k, Before: bv, After: av})
		}
	}
	if len(out) == 0 && (before != "" || after != "") && b == nil && a == nil {
		out = append(out, components.AuditChange{Key: "?", Before: before, After: after})
	}
	return out
}

// auditValue is one JSON value as the viewer shows it.
func auditValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return at.In(councilZone()).Format("2006-01-02 15:04:05")
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

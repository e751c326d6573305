package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"festa/csvsafe"
	"festa/db"
)

// Exports for Excel: UTF-8 with a BOM (Korean names open right), a header
// line in the council's language, times in Korea time, and every cell
// that a spreadsheet could take for a formula neutralised (csvsafe).

// exportTime is a time as the exports write it: Korea time, to the
// second, a form Excel reads as a date and time.
func exportTime(at time.Time) string {
	return at.In(councilZone()).Format("2006-01-02 15:04:05")
}

// gradeClass reads grade and class out of a student number (20315 is
// grade 2, class 3, number 15); empty for anything else (a guest).
func gradeClass(no string) (grade, class string) {
	if !studentNoRE.MatchString(no) {
		return "", ""
	}
	n, _ := strconv.Atoi(no)
	return strconv.Itoa(n / 10000), strconv.Itoa(n / 100 % 100)
}

// startCSV sets the headers of a CSV download named
// {kind}-{performance}-{date}.csv (the date in Korea time) and returns
// its writer. The name is ASCII (slugs are), so no encoding is needed.
func (h *Handler) startCSV(c echo.Context, kind, slug string) *csvsafe.Writer {
	name := kind
	if slug != "" {
		name += "-" + slug
	}
	name += "-" + h.now().In(councilZone()).Format("2006-01-02") + ".csv"
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, name))
	c.Response().WriteHeader(http.StatusOK)
	return csvsafe.NewWriter(c.Response())
}

// exportAttendees is the attendee list: one line per live ticket, in seat
// order.
func (h *Handler) exportAttendees(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	list, err := h.store.Attendees(c.Request().Context(), perf.ID)
	if err != nil {
		return err
	}
	w := h.startCSV(c, "attendees", perf.Slug)
	w.Write(tr(c, "admin.csv.seat"), tr(c, "admin.csv.student_no"), tr(c, "admin.csv.name"), tr(c, "admin.csv.grade"),
		tr(c, "admin.csv.class"), tr(c, "admin.csv.ticket"), tr(c, "admin.csv.issued_at"), tr(c, "admin.csv.checked_in_at"),
		tr(c, "admin.csv.gate"))
	for _, a := range list {
		grade, class := gradeClass(a.StudentNo)
		in := ""
		if a.CheckedInAt != nil {
			in = exportTime(*a.CheckedInAt)
		}
		w.Write(a.Seat, a.StudentNo, a.Name, grade, class, a.TicketID, exportTime(a.IssuedAt), in, a.Gate)
	}
	return h.endCSV(c, w)
}

// exportCheckIns is every admission of the performance, in the order the
// doors made them.
func (h *Handler) exportCheckIns(c echo.Context) error {
	perf, err := h.performance(c)
	if err != nil {
		return err
	}
	list, err := h.store.CheckIns(c.Request().Context(), perf.ID)
	if err != nil {
		return err
	}
	w := h.startCSV(c, "checkins", perf.Slug)
	w.Write(tr(c, "admin.csv.checked_in_at"), tr(c, "admin.csv.gate"), tr(c, "admin.csv.seat"), tr(c, "admin.csv.student_no"),
		tr(c, "admin.csv.name"), tr(c, "admin.csv.grade"), tr(c, "admin.csv.class"), tr(c, "admin.csv.ticket"),
		tr(c, "admin.csv.staff"))
	for _, ci := range list {
		grade, class := gradeClass(ci.StudentNo)
		w.Write(exportTime(ci.At), ci.Gate, ci.Seat, ci.StudentNo, ci.Name, grade, class, ci.TicketID, ci.Staff)
	}
	return h.endCSV(c, w)
}

// exportAudit is the audit log under the viewer's filter, newest first,
// streamed as it is read.
func (h *Handler) exportAudit(c echo.Context) error {
	q, err := h.readAuditFilter(c)
	if err != nil {
		return err
	}
	if len(q.errs) > 0 {
		return fail(http.StatusBadRequest, "admin.audit.err_filter")
	}
	q.filter.Before, q.filter.Limit = 0, auditExportMax
	var w *csvsafe.Writer
	err = h.store.AuditLog(c.Request().Context(), q.filter, func(e db.AuditEntry) error {
		if w == nil {
			w = h.auditCSV(c)
		}
		return w.Write(strconv.FormatInt(e.ID, 10), exportTime(e.At), e.ActorKind, e.ActorName, e.Action, e.Performance,
			e.Seat, e.StudentNo, e.StudentName, e.IP, e.UserAgent, e.Before, e.After)
	})
	if w == nil && err == nil {
		w = h.auditCSV(c)
	}
	if err != nil {
		if w == nil {
			return err
		}
		// The download has begun; it ends short, and the log says why.
		h.log.ErrorContext(c.Request().Context(), "audit export cut short", "error", err)
		return nil
	}
	return h.endCSV(c, w)
}

func (h *Handler) auditCSV(c echo.Context) *csvsafe.Writer {
	w := h.startCSV(c, "audit", "")
	w.Write(tr(c, "admin.csv.id"), tr(c, "admin.csv.at"), tr(c, "admin.csv.actor_kind"), tr(c, "admin.csv.actor"),
		tr(c, "admin.csv.action"), tr(c, "admin.csv.performance"), tr(c, "admin.csv.seat"), tr(c, "admin.csv.student_no"),
		tr(c, "admin.csv.name"), tr(c, "admin.csv.ip"), tr(c, "admin.csv.user_agent"), tr(c, "admin.csv.before"),
		tr(c, "admin.csv.after"))
	return w
}

// endCSV flushes a download; an error then (the client went away) is
// logged, since the answer has begun.
func (h *Handler) endCSV(c echo.Context, w *csvsafe.Writer) error {
	if err := w.Flush(); err != nil {
		h.log.InfoContext(c.Request().Context(), "csv export not delivered", "error", err)
	}
	return nil
}

package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The council console's SQL: sales control, the overview's counts, the
// audit log viewer and the exports.

// ErrCloseBeforeOpen means a sales change would make sales close before
// (or when) they open; the performances CHECK refuses it and nothing is
// changed.
var ErrCloseBeforeOpen = errors.New("sales would close before they open")

// SalesChannelPrefix starts the payload of the NOTIFY festa_seats a sales
// change sends ("sales:12"): live viewers of performance 12 re-read its
// sales state (and show or drop the pause banner). A plain id is a seat
// change.
const SalesChannelPrefix = "sales:"

// SalesState is what a live viewer shows of a performance's sales: the
// window, whether the council paused it and why.
type SalesState struct {
	OpenAt       time.Time
	CloseAt      time.Time
	Paused       bool
	PauseMessage string
}

// salesSnapshot is a performance's sales state as the audit log records
// it, before and after a council action.
type salesSnapshot struct {
	SalesOpenAt  time.Time `json:"sales_open_at"`
	SalesCloseAt time.Time `json:"sales_close_at"`
	Paused       bool      `json:"paused"`
	PauseMessage string    `json:"pause_message"`
	Reason       string    `json:"reason,omitempty"`
}

// PerformanceSales reads a performance's sales state.
func (s *Store) PerformanceSales(ctx context.Context, performanceID int64) (SalesState, error) {
	var st SalesState
	err := s.Pool.QueryRow(ctx, `SELECT sales_open_at, sales_close_at, paused, pause_message FROM performances WHERE id = $1`,
		performanceID).Scan(&st.OpenAt, &st.CloseAt, &st.Paused, &st.PauseMessage)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("db: sales state: %w", err)
	}
	return st, nil
}

// OpenSales opens sales now (the database's now): the opening time
// becomes now unless sales opened earlier, and a pause ends. A closing
// time already past is ErrCloseBeforeOpen: it must be moved first.
func (s *Store) OpenSales(ctx context.Context, performanceID int64, a Actor, reason string) (Performance, error) {
	return s.changeSales(ctx, performanceID, "sales_open", a, reason,
		`sales_open_at = least(sales_open_at, now()), paused = false, pause_message = ''`, mustNotBeClosed)
}

// PauseSales pauses sales with message (may be empty: the pages then say
// so in their own words). While paused every hold and confirm is refused
// (festa_lock_performance); a pause set before sales open takes effect
// when they do.
func (s *Store) PauseSales(ctx context.Context, performanceID int64, message string, a Actor) (Performance, error) {
	return s.changeSales(ctx, performanceID, "sales_pause", a, "",
		`paused = true, pause_message = $2`, nil, message)
}

// ResumeSales ends a pause and forgets its message.
func (s *Store) ResumeSales(ctx context.Context, performanceID int64, a Actor, reason string) (Performance, error) {
	return s.changeSales(ctx, performanceID, "sales_resume", a, reason, `paused = false, pause_message = ''`, nil)
}

// CloseSales closes sales now. Sales that had not opened yet are closed
// as well: their opening time moves to just before now, so the window
// stays well formed (close after open) and is empty.
func (s *Store) CloseSales(ctx context.Context, performanceID int64, a Actor, reason string) (Performance, error) {
	return s.changeSales(ctx, performanceID, "sales_close", a, reason,
		`sales_close_at = now(), sales_open_at = least(sales_open_at, now() - interval '1 millisecond')`, nil)
}

// SetSalesClose moves the closing time to at, which must be after the
// opening time (else ErrCloseBeforeOpen); a time already past closes
// sales.
func (s *Store) SetSalesClose(ctx context.Context, performanceID int64, at time.Time, a Actor, reason string) (Performance, error) {
	return s.changeSales(ctx, performanceID, "sales_close_at", a, reason, `sales_close_at = $2`, nil, at)
}

// mustNotBeClosed refuses to open sales whose closing time has passed
// (closed is by the database's clock).
func mustNotBeClosed(_ salesSnapshot, closed bool) error {
	if closed {
		return ErrCloseBeforeOpen
	}
	return nil
}

// changeSales applies set (an UPDATE's SET list; $1 is the performance
// id, extra are $2…) when check (nil for none) allows it, given the
// state before and whether sales are closed now, in one transaction that
// holds the performance's row
// lock, the lock every booking takes first: a booking either commits
// before the change or sees it. The audit row (actor, before, after) and
// the NOTIFY that wakes every instance's live viewers commit with it, so
// no viewer hears of a change that did not happen, and none misses one
// that did (each instance also re-reads sales on its periodic catch-up).
func (s *Store) changeSales(ctx context.Context, performanceID int64, action string, a Actor, reason, set string,
	check func(before salesSnapshot, closed bool) error, extra ...any) (Performance, error) {
	var p Performance
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var before salesSnapshot
		var closed bool
		err := tx.QueryRow(ctx, `SELECT sales_open_at, sales_close_at, paused, pause_message, now() >= sales_close_at
			FROM performances WHERE id = $1 FOR NO KEY UPDATE`, performanceID).
			Scan(&before.SalesOpenAt, &before.SalesCloseAt, &before.Paused, &before.PauseMessage, &closed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(before, closed); err != nil {
				return err
			}
		}
		after := salesSnapshot{Reason: reason}
		args := append([]any{performanceID}, extra...)
		err = tx.QueryRow(ctx, `UPDATE performances SET `+set+` WHERE id = $1
			RETURNING sales_open_at, sales_close_at, paused, pause_message`, args...).
			Scan(&after.SalesOpenAt, &after.SalesCloseAt, &after.Paused, &after.PauseMessage)
		if pgCode(err) == "23514" { // check_violation: close after open
			return ErrCloseBeforeOpen
		}
		if err != nil {
			return err
		}
		b, _ := json.Marshal(before)
		af, _ := json.Marshal(after)
		if _, err := tx.Exec(ctx, `SELECT festa_audit($1, $2, $3, $4, NULL, $5, $6, $7, $8)`,
			auditArgs(a, action, performanceID, b, af)...); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify('festa_seats', $1)`,
			SalesChannelPrefix+strconv.FormatInt(performanceID, 10)); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+performanceColumns+`
			FROM performances p JOIN halls h ON h.id = p.hall_id WHERE p.id = $1`, performanceID)
		p, err = pgx.CollectExactlyOneRow(rows, scanPerformance)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCloseBeforeOpen) {
			return Performance{}, err
		}
		return Performance{}, fmt.Errorf("db: %s: %w", action, err)
	}
	return p, nil
}

// auditArgs are festa_audit's arguments after the seat label is NULL:
// kind, id, action, performance, ip, user agent, before, after.
func auditArgs(a Actor, action string, performanceID int64, before, after []byte) []any {
	act := actorArgs(a)
	return []any{act[0], act[1], action, performanceID, act[2], act[3], string(before), string(after)}
}

// GateCount is how many tickets of a performance a door has admitted.
type GateCount struct {
	Gate  string
	Count int
}

// PerformanceStats is a performance as the council's overview shows it:
// its counts (Occupancy.CheckedIn included) and the admissions per door.
type PerformanceStats struct {
	PerformanceWithOccupancy
	Gates []GateCount // busiest door first
}

// AdminOverview returns every performance of the event with its seat
// counts, check-ins and admissions per door, in start order: two
// statements.
func (s *Store) AdminOverview(ctx context.Context, eventID int64) ([]PerformanceStats, error) {
	perfs, err := s.EventPerformances(ctx, eventID)
	if err != nil {
		return nil, err
	}
	out := make([]PerformanceStats, len(perfs))
	at := make(map[int64]int, len(perfs))
	ids := make([]int64, len(perfs))
	for i, p := range perfs {
		out[i].PerformanceWithOccupancy = p
		at[p.ID] = i
		ids[i] = p.ID
	}
	rows, _ := s.Pool.Query(ctx, `SELECT t.performance_id, c.gate, count(*)
		FROM check_ins c JOIN tickets t ON t.id = c.ticket_id
		WHERE t.performance_id = ANY($1)
		GROUP BY 1, 2 ORDER BY 3 DESC, 2`, ids)
	var perf int64
	var g GateCount
	_, err = pgx.ForEachRow(rows, []any{&perf, &g.Gate, &g.Count}, func() error {
		st := &out[at[perf]]
		st.Gates = append(st.Gates, g)
		st.Occupancy.CheckedIn += g.Count
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: admin overview: %w", err)
	}
	return out, nil
}

// PerformanceByID finds a performance by its id.
func (s *Store) PerformanceByID(ctx context.Context, id int64) (Performance, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+performanceColumns+`
		FROM performances p JOIN halls h ON h.id = p.hall_id WHERE p.id = $1`, id)
	p, err := pgx.CollectExactlyOneRow(rows, scanPerformance)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("db: performance %d: %w", id, err)
	}
	return p, nil
}

// AuditFilter narrows the audit log. Zero fields match everything.
type AuditFilter struct {
	// ActorKind is student, staff or system; with it, ActorName names the
	// actor: a staff username or a student number ("" for any).
	ActorKind string
	ActorName string
	// StudentNo matches rows by the student or about the student's seats
	// (before or after names them).
	StudentNo     string
	Seat          string
	Action        string
	PerformanceID int64
	From, To      time.Time // From inclusive, To exclusive
	// Before pages backwards: only rows with an id below it (0: from the
	// newest).
	Before int64
	Limit  int // 0: no limit
}

// AuditEntry is one audit row with the names behind its ids.
type AuditEntry struct {
	ID        int64
	At        time.Time
	ActorKind string
	ActorID   int64
	// ActorName is the staff username or the student number ("" for the
	// system or a deleted account).
	ActorName   string
	Action      string
	Performance string // slug; "" for none
	Seat        string
	// StudentNo and StudentName name the student the row is about (its
	// before or after names a student_id), else the acting student.
	StudentNo   string
	StudentName string
	IP          string
	UserAgent   string
	Before      string // JSON text, "" for none
	After       string
}

// auditSubject is the student an audit row is about: the student_id its
// after (or else before) names. Rows are written by festa's own functions,
// but a non-number is ignored rather than failing the whole page.
const auditSubject = `coalesce(
	CASE WHEN jsonb_typeof(a.after->'student_id') = 'number' THEN (a.after->>'student_id')::bigint END,
	CASE WHEN jsonb_typeof(a.before->'student_id') = 'number' THEN (a.before->>'student_id')::bigint END,
	CASE WHEN a.actor_kind = 'student' THEN a.actor_id END)`

// where builds the filter's WHERE clause and its arguments.
func (f AuditFilter) where() (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ActorKind != "" {
		conds = append(conds, "a.actor_kind = "+arg(f.ActorKind))
		switch {
		case f.ActorName == "":
		case f.ActorKind == "staff":
			conds = append(conds, "a.actor_id = (SELECT id FROM staff WHERE username = "+arg(f.ActorName)+")")
		case f.ActorKind == "student":
			conds = append(conds, "a.actor_id = (SELECT id FROM students WHERE student_no = "+arg(f.ActorName)+")")
		}
	}
	if f.StudentNo != "" {
		id := "(SELECT id FROM students WHERE student_no = " + arg(f.StudentNo) + ")"
		conds = append(conds, "("+auditSubject+" = "+id+" OR (a.actor_kind = 'student' AND a.actor_id = "+id+"))")
	}
	if f.Seat != "" {
		conds = append(conds, "a.seat_label = "+arg(f.Seat))
	}
	if f.Action != "" {
		conds = append(conds, "a.action = "+arg(f.Action))
	}
	if f.PerformanceID != 0 {
		conds = append(conds, "a.performance_id = "+arg(f.PerformanceID))
	}
	if !f.From.IsZero() {
		conds = append(conds, "a.at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "a.at < "+arg(f.To))
	}
	if f.Before > 0 {
		conds = append(conds, "a.id < "+arg(f.Before))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// AuditLog returns the rows matching f, newest first, calling fn for each
// (so an export streams instead of holding the whole log). The order is
// by id, which is the order rows were written in.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter, fn func(AuditEntry) error) error {
	where, args := f.where()
	limit := ""
	if f.Limit > 0 {
		limit = " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, _ := s.Pool.Query(ctx, `SELECT a.id, a.at, a.actor_kind, coalesce(a.actor_id, 0),
			coalesce(CASE a.actor_kind WHEN 'staff' THEN sf.username WHEN 'student' THEN sa.student_no END, ''),
			a.action, coalesce(p.slug, ''), coalesce(a.seat_label, ''),
			coalesce(su.student_no, ''), coalesce(su.name, ''),
			a.ip, a.user_agent, coalesce(a.before::text, ''), coalesce(a.after::text, '')
		FROM audit_log a
		LEFT JOIN performances p ON p.id = a.performance_id
		LEFT JOIN staff sf ON a.actor_kind = 'staff' AND sf.id = a.actor_id
		LEFT JOIN students sa ON a.actor_kind = 'student' AND sa.id = a.actor_id
		LEFT JOIN students su ON su.id = `+auditSubject+where+`
		ORDER BY a.id DESC`+limit, args...)
	var e AuditEntry
	_, err := pgx.ForEachRow(rows, []any{&e.ID, &e.At, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action,
		&e.Performance, &e.Seat, &e.StudentNo, &e.StudentName, &e.IP, &e.UserAgent, &e.Before, &e.After}, func() error {
		return fn(e)
	})
	if err != nil {
		return fmt.Errorf("db: audit log: %w", err)
	}
	return nil
}

// AuditActions lists the actions the audit log holds, for the viewer's
// filter.
func (s *Store) AuditActions(ctx context.Context) ([]string, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT DISTINCT action FROM audit_log ORDER BY 1`)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("db: audit actions: %w", err)
	}
	return out, nil
}

// Attendee is one live ticket of a performance, as the attendee export
// lists it. A guest's ticket (issued at the desk) has no student number
// and the guest's name.
type Attendee struct {
	Seat        string
	StudentNo   string
	Name        string
	TicketID    string
	IssuedAt    time.Time
	CheckedInAt *time.Time
	Gate        string // "" until checked in
}

// Attendees lists the performance's active tickets in seat order (front
// row first), with their check-ins.
func (s *Store) Attendees(ctx context.Context, performanceID int64) ([]Attendee, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT s.label, coalesce(st.student_no, ''), coalesce(st.name, t.guest_name, ''), t.id::text,
			t.issued_at, c.checked_in_at, coalesce(c.gate, '')
		FROM tickets t
		JOIN seats s ON s.id = t.seat_id
		LEFT JOIN students st ON st.id = t.student_id
		LEFT JOIN check_ins c ON c.ticket_id = t.id
		WHERE t.performance_id = $1 AND t.status = 'active'
		ORDER BY s.y, s.x`, performanceID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Attendee, error) {
		var a Attendee
		err := row.Scan(&a.Seat, &a.StudentNo, &a.Name, &a.TicketID, &a.IssuedAt, &a.CheckedInAt, &a.Gate)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: attendees: %w", err)
	}
	return out, nil
}

// CheckIn is one admission at a door.
type CheckIn struct {
	At        time.Time
	Gate      string
	Seat      string
	StudentNo string
	Name      string
	TicketID  string
	Staff     string // the username of who scanned; "" when unknown
}

// CheckIns lists the performance's admissions in the order they happened.
func (s *Store) CheckIns(ctx context.Context, performanceID int64) ([]CheckIn, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT c.checked_in_at, c.gate, s.label, coalesce(st.student_no, ''), coalesce(st.name, t.guest_name, ''),
			t.id::text, coalesce(sf.username, '')
		FROM check_ins c
		JOIN tickets t ON t.id = c.ticket_id
		JOIN seats s ON s.id = t.seat_id
		LEFT JOIN students st ON st.id = t.student_id
		LEFT JOIN staff sf ON sf.id = c.staff_id
		WHERE t.performance_id = $1
		ORDER BY c.checked_in_at, c.id`, performanceID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CheckIn, error) {
		var ci CheckIn
		err := row.Scan(&ci.At, &ci.Gate, &ci.Seat, &ci.StudentNo, &ci.Name, &ci.TicketID, &ci.Staff)
		return ci, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: check-ins: %w", err)
	}
	return out, nil
}

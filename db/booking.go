package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Booking errors. Each one is a rule a request broke; nothing was changed.
var (
	ErrSeatNotFound    = errors.New("no such seat in this performance")
	ErrSeatBlocked     = errors.New("seat is blocked")
	ErrSeatTaken       = errors.New("seat is taken")
	ErrSalesNotOpen    = errors.New("sales have not opened")
	ErrSalesClosed     = errors.New("sales are closed")
	ErrSalesPaused     = errors.New("sales are paused")
	ErrLimit           = errors.New("ticket limit reached")
	ErrNoHold          = errors.New("no hold to act on")
	ErrHoldExpired     = errors.New("hold expired")
	ErrStudentDisabled = errors.New("student is disabled")
	ErrTicketCancelled = errors.New("ticket already cancelled")
	ErrCheckedIn       = errors.New("ticket already used at the gate")
)

// Actor is who asked for a change, and from where, for the audit log.
type Actor struct {
	Kind      string // student, staff or system
	ID        int64
	IP        string
	UserAgent string
}

// SeatState is a seat of a performance as viewers see it. An expired hold
// is reported as available, with no holder.
type SeatState struct {
	SeatID    int64
	Label     string
	RowLabel  string
	Number    int
	X, Y      int
	Kind      string
	State     string // available, held, sold or blocked
	StudentID int64  // holder or buyer; 0 for none
	HeldUntil time.Time
	Version   int64 // the seat's own change version; see migration 012
	// Changed is the id of the transaction that last changed the seat (as
	// a number): a page drawn at a horizon at or below it may lack the
	// change (see SeatBatchSince).
	Changed int64
}

// effectiveState is the SQL for a seat's state with expired holds freed.
const effectiveState = `CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN 'available' ELSE ps.state END`

// seatColumns are a SeatState's columns (scanSeatState), from
// performance_seats ps joined with seats s.
const seatColumns = `s.id, s.label, s.row_label, s.number, s.x, s.y, s.kind, ` + effectiveState + `,
	CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN 0 ELSE coalesce(ps.student_id, 0) END,
	CASE WHEN ps.state = 'held' AND ps.held_until > now() THEN ps.held_until ELSE 'epoch'::timestamptz END,
	ps.version, ps.changed_xid::text::bigint`

// horizon is the SQL for the change horizon of the statement's snapshot:
// the oldest transaction still running when it was taken. Every change of
// a transaction below it is visible to the snapshot; see migration 012.
const horizon = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`

// PerformanceSeats returns every seat of the performance in row and seat
// order, and the change horizon of the snapshot they were read in: a live
// socket that starts from that horizon (SeatBatchSince) misses nothing.
func (s *Store) PerformanceSeats(ctx context.Context, performanceID int64) ([]SeatState, int64, error) {
	var at int64
	// One statement, one snapshot: the horizon matches the seats exactly.
	rows, _ := s.Pool.Query(ctx, `SELECT `+seatColumns+`, `+horizon+`
		FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 ORDER BY s.y, s.x`, performanceID)
	seats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SeatState, error) {
		return scanSeatStateAnd(row, &at)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("db: performance seats: %w", err)
	}
	if len(seats) == 0 {
		// A performance without seats, or none at all; horizon 0 misses
		// nothing either.
		var found bool
		if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM performances WHERE id = $1)`, performanceID).Scan(&found); err != nil {
			return nil, 0, fmt.Errorf("db: performance seats: %w", err)
		}
		if !found {
			return nil, 0, ErrNotFound
		}
	}
	return seats, at, nil
}

func scanSeatState(row pgx.CollectableRow) (SeatState, error) {
	return scanSeatStateAnd(row)
}

// scanSeatStateAnd scans seatColumns and then the extra columns into more.
func scanSeatStateAnd(row pgx.CollectableRow, more ...any) (SeatState, error) {
	var st SeatState
	dst := append([]any{&st.SeatID, &st.Label, &st.RowLabel, &st.Number, &st.X, &st.Y, &st.Kind, &st.State,
		&st.StudentID, &st.HeldUntil, &st.Version, &st.Changed}, more...)
	err := row.Scan(dst...)
	if st.HeldUntil.Unix() == 0 {
		st.HeldUntil = time.Time{}
	}
	return st, err
}

// Booking writes are PL/pgSQL functions (migrations/003_booking_functions.sql,
// with the locks of 012): each takes its locks (the student's, the
// performance row for share, then the seats) and does all its reads and
// writes in one statement, so no lock is held across a client-server round
// trip. A Go transaction made about seven round trips under its locks, each
// paid again by every student queued behind it in the opening minute.
//
// A function answers a refused request with a result code and writes
// nothing; refusals maps the codes to the sentinel errors.
var refusals = map[string]error{
	"not_found":        ErrNotFound,
	"sales_not_open":   ErrSalesNotOpen,
	"sales_closed":     ErrSalesClosed,
	"sales_paused":     ErrSalesPaused,
	"student_disabled": ErrStudentDisabled,
	"seat_not_found":   ErrSeatNotFound,
	"seat_blocked":     ErrSeatBlocked,
	"seat_taken":       ErrSeatTaken,
	"limit":            ErrLimit,
	"no_hold":          ErrNoHold,
	"hold_expired":     ErrHoldExpired,
	"ticket_cancelled": ErrTicketCancelled,
	"checked_in":       ErrCheckedIn,
	"holds_changed":    errHoldsChanged,
}

// errHoldsChanged is festa_confirm's answer when the student's live holds
// are not the ones the tokens were signed for; Confirm signs again.
var errHoldsChanged = errors.New("holds changed while the tickets were signed")

// refusal returns the error for a booking function's result code, nil for
// "ok".
func refusal(code string) error {
	if code == "ok" {
		return nil
	}
	if err, ok := refusals[code]; ok {
		return err
	}
	return fmt.Errorf("unknown booking result %q", code)
}

// mapRaised turns the database's own guards into sentinel errors: the seat
// trigger's limit exception, and the booking functions' checks that can
// only fail after they have written (so they raise, and the statement rolls
// back).
func mapRaised(err error) error {
	if pgCode(err) != "P0001" {
		return err
	}
	switch hint(err) {
	case "festa:limit":
		return ErrLimit
	case "festa:seat_taken":
		return ErrSeatTaken
	case "festa:hold_expired":
		return ErrHoldExpired
	case "festa:checked_in":
		// A ticket scanned at the gate while it was being cancelled: the
		// check-in trigger (migration 005) wins the race.
		return ErrCheckedIn
	}
	return err
}

// actorArgs are an actor as the booking functions take it: kind, id (NULL
// for none), and ip and user agent cut to what the audit log keeps.
func actorArgs(a Actor) []any {
	var id *int64
	if a.ID != 0 {
		id = &a.ID
	}
	return []any{a.Kind, id, truncate(a.IP, 64), truncate(a.UserAgent, 300)}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// HoldResult is the seat now held, and the seats the student gave up to
// stay within the limit.
type HoldResult struct {
	Seat     SeatState
	Released []string
}

// Hold holds the seat labelled label for the student until now plus the
// performance's hold time. A student at the ticket limit who still holds
// other seats moves the oldest hold to the new seat (picking another seat
// replaces the pick). Holding one's own held seat again changes nothing.
// Taking over an expired hold records its expiry first. The rules are
// applied by festa_hold, in one statement.
func (s *Store) Hold(ctx context.Context, performanceID int64, label string, studentID int64, a Actor) (HoldResult, error) {
	var out HoldResult
	var code string
	st := &out.Seat
	args := append([]any{performanceID, label, studentID}, actorArgs(a)...)
	// The seat columns are NULL when the hold is refused.
	err := s.Pool.QueryRow(ctx, `SELECT r_code, coalesce(r_seat_id, 0), coalesce(r_label, ''), coalesce(r_row_label, ''),
			coalesce(r_number, 0), coalesce(r_x, 0), coalesce(r_y, 0), coalesce(r_kind, ''), coalesce(r_state, ''),
			coalesce(r_student_id, 0), coalesce(r_held_until, 'epoch'), coalesce(r_version, 0), r_released
		FROM festa_hold($1, $2, $3, $4, $5, $6, $7)`, args...).
		Scan(&code, &st.SeatID, &st.Label, &st.RowLabel, &st.Number, &st.X, &st.Y, &st.Kind, &st.State,
			&st.StudentID, &st.HeldUntil, &st.Version, &out.Released)
	if err == nil {
		err = refusal(code)
	}
	if err != nil {
		return HoldResult{}, fmt.Errorf("db: hold %s: %w", label, mapRaised(err))
	}
	return out, nil
}

// Release gives up the student's hold on a seat. It is allowed whatever the
// sales state: handing a seat back never hurts anyone.
func (s *Store) Release(ctx context.Context, performanceID int64, label string, studentID int64, a Actor) error {
	var code string
	args := append([]any{performanceID, label, studentID}, actorArgs(a)...)
	err := s.Pool.QueryRow(ctx, `SELECT festa_release($1, $2, $3, $4, $5, $6, $7)`, args...).Scan(&code)
	if err == nil {
		err = refusal(code)
	}
	if err != nil {
		return fmt.Errorf("db: release %s: %w", label, err)
	}
	return nil
}

package db

import (
	"context"
	"encoding/json"
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
	Version   int64
}

// effectiveState is the SQL for a seat's state with expired holds freed.
const effectiveState = `CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN 'available' ELSE ps.state END`

// PerformanceSeats returns every seat of the performance in row and seat
// order, and the performance's change version they reflect.
func (s *Store) PerformanceSeats(ctx context.Context, performanceID int64) ([]SeatState, int64, error) {
	var version int64
	var seats []SeatState
	// One repeatable-read snapshot, so the version matches the seats exactly.
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT version FROM performances WHERE id = $1`, performanceID).Scan(&version); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT s.id, s.label, s.row_label, s.number, s.x, s.y, s.kind, `+effectiveState+`,
			CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN 0 ELSE coalesce(ps.student_id, 0) END,
			CASE WHEN ps.state = 'held' AND ps.held_until > now() THEN ps.held_until ELSE 'epoch'::timestamptz END,
			ps.version
			FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			WHERE ps.performance_id = $1 ORDER BY s.y, s.x`, performanceID)
		var err error
		seats, err = pgx.CollectRows(rows, scanSeatState)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("db: performance seats: %w", err)
	}
	return seats, version, nil
}

func scanSeatState(row pgx.CollectableRow) (SeatState, error) {
	var st SeatState
	err := row.Scan(&st.SeatID, &st.Label, &st.RowLabel, &st.Number, &st.X, &st.Y, &st.Kind, &st.State, &st.StudentID, &st.HeldUntil, &st.Version)
	if st.HeldUntil.Unix() == 0 {
		st.HeldUntil = time.Time{}
	}
	return st, err
}

// locked is what a booking transaction learns when it takes the
// performance lock, in the same round trip.
type locked struct {
	limit   int
	slug    string
	now     time.Time // the database clock (the transaction's start)
	enabled bool      // the acting student may book (false for none)
}

// lockPerformance takes the performance's row lock (the one lock every seat
// change takes first, see the seat_change trigger), checks that sales are
// open by the database clock when needOpen, and reads whether studentID
// (0 for none) is enabled, all in one statement: the lock is held until
// commit, so every round trip under it costs every other booking.
func lockPerformance(ctx context.Context, tx pgx.Tx, performanceID int64, needOpen bool, studentID int64) (locked, error) {
	var l locked
	var open, close time.Time
	var paused bool
	err := tx.QueryRow(ctx, `SELECT sales_open_at, sales_close_at, paused, ticket_limit, slug, now(),
			coalesce((SELECT enabled FROM students WHERE id = $2), false)
		FROM performances WHERE id = $1 FOR NO KEY UPDATE`, performanceID, studentID).
		Scan(&open, &close, &paused, &l.limit, &l.slug, &l.now, &l.enabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, ErrNotFound
	}
	if err != nil {
		return l, err
	}
	if !needOpen {
		return l, nil
	}
	switch {
	case l.now.Before(open):
		return l, ErrSalesNotOpen
	case !l.now.Before(close):
		return l, ErrSalesClosed
	case paused:
		return l, ErrSalesPaused
	}
	return l, nil
}

// salesOpenSQL repeats the sales rule inside each seat UPDATE, so the
// statement itself refuses a sale outside the window.
const salesOpenSQL = `EXISTS (SELECT 1 FROM performances p WHERE p.id = ps.performance_id
	AND NOT p.paused AND now() >= p.sales_open_at AND now() < p.sales_close_at)`

type seatSnapshot struct {
	State     string     `json:"state"`
	StudentID *int64     `json:"student_id,omitempty"`
	HeldUntil *time.Time `json:"held_until,omitempty"`
}

func audit(ctx context.Context, tx pgx.Tx, a Actor, action string, performanceID int64, seat string, before, after any) error {
	b, _ := json.Marshal(before)
	af, _ := json.Marshal(after)
	var actorID *int64
	if a.ID != 0 {
		actorID = &a.ID
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (actor_kind, actor_id, action, performance_id, seat_label, ip, user_agent, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.Kind, actorID, action, performanceID, seat, truncate(a.IP, 64), truncate(a.UserAgent, 300), b, af)
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func ptr[T any](v T) *T { return &v }

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
func (s *Store) Hold(ctx context.Context, performanceID int64, label string, studentID int64, a Actor) (HoldResult, error) {
	var out HoldResult
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		lk, err := lockPerformance(ctx, tx, performanceID, true, studentID)
		if err != nil {
			return err
		}
		if !lk.enabled {
			return ErrStudentDisabled
		}
		var cur SeatState
		row := tx.QueryRow(ctx, `SELECT s.id, s.label, s.row_label, s.number, s.x, s.y, s.kind, ps.state,
			coalesce(ps.student_id, 0), coalesce(ps.held_until, 'epoch'), ps.version
			FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			WHERE ps.performance_id = $1 AND s.label = $2 FOR UPDATE OF ps`, performanceID, label)
		if err := row.Scan(&cur.SeatID, &cur.Label, &cur.RowLabel, &cur.Number, &cur.X, &cur.Y, &cur.Kind, &cur.State, &cur.StudentID, &cur.HeldUntil, &cur.Version); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrSeatNotFound
			}
			return err
		}
		expired := cur.State == "held" && !cur.HeldUntil.After(lk.now)
		switch {
		case cur.State == "blocked":
			return ErrSeatBlocked
		case cur.State == "held" && cur.StudentID == studentID && !expired:
			out.Seat = cur
			return nil
		case cur.State == "sold" || (cur.State == "held" && !expired):
			return ErrSeatTaken
		}
		// Make room under the limit by giving up the student's oldest hold.
		rows, _ := tx.Query(ctx, `SELECT s.label, ps.state, ps.held_until FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			WHERE ps.performance_id = $1 AND ps.student_id = $2 AND ps.seat_id <> $3
			AND (ps.state = 'sold' OR (ps.state = 'held' AND ps.held_until > now()))
			ORDER BY ps.state = 'held' DESC, ps.held_until`, performanceID, studentID, cur.SeatID)
		type owned struct {
			label, state string
			until        *time.Time
		}
		mine, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (owned, error) {
			var o owned
			return o, r.Scan(&o.label, &o.state, &o.until)
		})
		if err != nil {
			return err
		}
		for len(mine) >= lk.limit {
			if mine[0].state != "held" {
				return ErrLimit
			}
			if err := release(ctx, tx, performanceID, mine[0].label, studentID, a, "release"); err != nil {
				return err
			}
			out.Released = append(out.Released, mine[0].label)
			mine = mine[1:]
		}
		if expired {
			if err := audit(ctx, tx, Actor{Kind: "system"}, "expire", performanceID, label,
				seatSnapshot{State: "held", StudentID: &cur.StudentID, HeldUntil: &cur.HeldUntil}, seatSnapshot{State: "available"}); err != nil {
				return err
			}
		}
		err = tx.QueryRow(ctx, `UPDATE performance_seats ps
			SET state = 'held', student_id = $3, held_until = now() + make_interval(secs => p.hold_seconds)
			FROM performances p
			WHERE p.id = ps.performance_id AND ps.performance_id = $1 AND ps.seat_id = $2
			  AND (ps.state = 'available' OR (ps.state = 'held' AND ps.held_until <= now()))
			  AND `+salesOpenSQL+`
			RETURNING ps.held_until, ps.version`, performanceID, cur.SeatID, studentID).Scan(&cur.HeldUntil, &cur.Version)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrSeatTaken
		}
		if err != nil {
			return err
		}
		before := seatSnapshot{State: "available"}
		cur.State, cur.StudentID = "held", studentID
		out.Seat = cur
		return audit(ctx, tx, a, "hold", performanceID, label, before,
			seatSnapshot{State: "held", StudentID: &studentID, HeldUntil: &cur.HeldUntil})
	})
	if err != nil {
		return out, fmt.Errorf("db: hold %s: %w", label, mapLimit(err))
	}
	return out, nil
}

// mapLimit turns the seat trigger's limit exception into ErrLimit: the
// database's own guard against a student over the limit.
func mapLimit(err error) error {
	if pgCode(err) == "P0001" && hint(err) == "festa:limit" {
		return ErrLimit
	}
	return err
}

func release(ctx context.Context, tx pgx.Tx, performanceID int64, label string, studentID int64, a Actor, action string) error {
	var until time.Time
	err := tx.QueryRow(ctx, `WITH old AS (
			SELECT ps.seat_id, ps.held_until FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			WHERE ps.performance_id = $1 AND s.label = $2 AND ps.state = 'held' AND ps.student_id = $3
			FOR UPDATE OF ps)
		UPDATE performance_seats ps SET state = 'available', student_id = NULL, held_until = NULL
		FROM old WHERE ps.performance_id = $1 AND ps.seat_id = old.seat_id
		RETURNING old.held_until`, performanceID, label, studentID).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoHold
	}
	if err != nil {
		return err
	}
	return audit(ctx, tx, a, action, performanceID, label,
		seatSnapshot{State: "held", StudentID: &studentID, HeldUntil: &until}, seatSnapshot{State: "available"})
}

// Release gives up the student's hold on a seat. It is allowed whatever the
// sales state: handing a seat back never hurts anyone.
func (s *Store) Release(ctx context.Context, performanceID int64, label string, studentID int64, a Actor) error {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := lockPerformance(ctx, tx, performanceID, false, 0); err != nil {
			return err
		}
		return release(ctx, tx, performanceID, label, studentID, a, "release")
	})
	if err != nil {
		return fmt.Errorf("db: release %s: %w", label, err)
	}
	return nil
}

// StudentHolds returns the student's live holds in a performance.
func (s *Store) StudentHolds(ctx context.Context, performanceID, studentID int64) ([]SeatState, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT s.id, s.label, s.row_label, s.number, s.x, s.y, s.kind, ps.state,
		ps.student_id, ps.held_until, ps.version
		FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND ps.student_id = $2 AND ps.state = 'held' AND ps.held_until > now()
		ORDER BY s.y, s.x`, performanceID, studentID)
	out, err := pgx.CollectRows(rows, scanSeatState)
	if err != nil {
		return nil, fmt.Errorf("db: student holds: %w", err)
	}
	return out, nil
}

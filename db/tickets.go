package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Ticket is a confirmed seat, with what its page shows.
type Ticket struct {
	ID               string // uuid text
	PerformanceID    int64
	PerformanceSlug  string
	PerformanceTitle string
	HallName         string
	StartsAt         time.Time
	SeatID           int64
	SeatLabel        string
	RowLabel         string
	SeatNumber       int
	StudentID        int64
	StudentNo        string
	StudentName      string
	Status           string // active or cancelled
	Token            string
	IssuedAt         time.Time
	CancelledAt      *time.Time
	CheckedInAt      *time.Time
}

// Signer makes a ticket's token. Confirm calls it inside the transaction
// with the ticket's final details; the store never sees a signing key.
type Signer func(ticketID, performanceSlug, seatLabel string, issuedAt time.Time) (keyID, token string, err error)

// NewTicketID returns a fresh random ticket id; the caller supplies the
// generator so the id and the token agree.
type NewTicketID func() (string, error)

// Confirm turns every live hold of the student in the performance into a
// ticket. It is idempotent: with no hold but an active ticket already (a
// double click, a resubmitted form), it returns that ticket.
func (s *Store) Confirm(ctx context.Context, performanceID, studentID int64, newID NewTicketID, sign Signer, a Actor) ([]Ticket, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		lk, err := lockPerformance(ctx, tx, performanceID, true, studentID)
		if err != nil {
			return err
		}
		if !lk.enabled {
			return ErrStudentDisabled
		}
		slug, now := lk.slug, lk.now.Truncate(time.Second) // tokens carry whole seconds
		rows, _ := tx.Query(ctx, `SELECT ps.seat_id, s.label, ps.held_until FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			WHERE ps.performance_id = $1 AND ps.student_id = $2 AND ps.state = 'held'
			ORDER BY s.y, s.x FOR UPDATE OF ps`, performanceID, studentID)
		type hold struct {
			seatID int64
			label  string
			until  time.Time
		}
		holds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (hold, error) {
			var h hold
			return h, r.Scan(&h.seatID, &h.label, &h.until)
		})
		if err != nil {
			return err
		}
		live := holds[:0]
		for _, h := range holds {
			if h.until.After(now) {
				live = append(live, h)
			}
		}
		if len(live) == 0 {
			err := tx.QueryRow(ctx, `SELECT id::text FROM tickets WHERE performance_id = $1 AND student_id = $2
				AND status = 'active' AND issued_at > now() - interval '10 minutes' ORDER BY issued_at DESC LIMIT 1`,
				performanceID, studentID).Scan(new(string))
			if err == nil {
				rows, _ := tx.Query(ctx, `SELECT id::text FROM tickets WHERE performance_id = $1 AND student_id = $2 AND status = 'active' ORDER BY issued_at`, performanceID, studentID)
				ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			}
			if len(holds) > 0 {
				return ErrHoldExpired
			}
			return ErrNoHold
		}
		for _, h := range live {
			id, err := newID()
			if err != nil {
				return err
			}
			keyID, token, err := sign(id, slug, h.label, now)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tickets (id, performance_id, seat_id, student_id, key_id, token, issued_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, performanceID, h.seatID, studentID, keyID, token, now); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE performance_seats ps SET state = 'sold', held_until = NULL
				WHERE ps.performance_id = $1 AND ps.seat_id = $2 AND ps.state = 'held' AND ps.student_id = $3
				  AND ps.held_until > now() AND `+salesOpenSQL, performanceID, h.seatID, studentID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return ErrHoldExpired
			}
			if err := audit(ctx, tx, a, "confirm", performanceID, h.label,
				seatSnapshot{State: "held", StudentID: &studentID, HeldUntil: &h.until},
				map[string]any{"state": "sold", "student_id": studentID, "ticket_id": id}); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: confirm: %w", mapLimit(err))
	}
	out := make([]Ticket, 0, len(ids))
	for _, id := range ids {
		t, err := s.TicketForStudent(ctx, id, studentID)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

const ticketColumns = `t.id::text, t.performance_id, p.slug, p.title, h.name, p.starts_at, t.seat_id, s.label, s.row_label, s.number,
	t.student_id, st.student_no, st.name, t.status, t.token, t.issued_at, t.cancelled_at, c.checked_in_at`

const ticketJoins = `FROM tickets t
	JOIN performances p ON p.id = t.performance_id
	JOIN halls h ON h.id = p.hall_id
	JOIN seats s ON s.id = t.seat_id
	JOIN students st ON st.id = t.student_id
	LEFT JOIN check_ins c ON c.ticket_id = t.id`

func scanTicket(row pgx.CollectableRow) (Ticket, error) {
	var t Ticket
	err := row.Scan(&t.ID, &t.PerformanceID, &t.PerformanceSlug, &t.PerformanceTitle, &t.HallName, &t.StartsAt, &t.SeatID,
		&t.SeatLabel, &t.RowLabel, &t.SeatNumber, &t.StudentID, &t.StudentNo, &t.StudentName, &t.Status, &t.Token,
		&t.IssuedAt, &t.CancelledAt, &t.CheckedInAt)
	return t, err
}

// TicketForStudent returns the ticket if it belongs to the student, else
// ErrNotFound (the same answer as for a ticket that does not exist, so ids
// cannot be probed).
func (s *Store) TicketForStudent(ctx context.Context, id string, studentID int64) (Ticket, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+ticketColumns+` `+ticketJoins+` WHERE t.id::text = $1 AND t.student_id = $2`, id, studentID)
	t, err := pgx.CollectExactlyOneRow(rows, scanTicket)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("db: ticket: %w", err)
	}
	return t, nil
}

// StudentTickets lists a student's tickets, newest performance first.
func (s *Store) StudentTickets(ctx context.Context, studentID int64) ([]Ticket, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+ticketColumns+` `+ticketJoins+` WHERE t.student_id = $1
		ORDER BY t.status = 'active' DESC, p.starts_at, t.issued_at DESC`, studentID)
	out, err := pgx.CollectRows(rows, scanTicket)
	if err != nil {
		return nil, fmt.Errorf("db: student tickets: %w", err)
	}
	return out, nil
}

// CancelTicket cancels the student's active ticket and frees its seat for
// everyone, while sales are open. A ticket used at the gate stays.
func (s *Store) CancelTicket(ctx context.Context, id string, studentID int64, a Actor) (Ticket, error) {
	t, err := s.TicketForStudent(ctx, id, studentID)
	if err != nil {
		return t, err
	}
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := lockPerformance(ctx, tx, t.PerformanceID, true, 0); err != nil {
			return err
		}
		var status string
		var checkedIn bool
		if err := tx.QueryRow(ctx, `SELECT t.status, EXISTS (SELECT 1 FROM check_ins c WHERE c.ticket_id = t.id)
			FROM tickets t WHERE t.id = $1 FOR UPDATE`, id).Scan(&status, &checkedIn); err != nil {
			return err
		}
		switch {
		case status == "cancelled":
			return ErrTicketCancelled
		case checkedIn:
			return ErrCheckedIn
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'cancelled', cancelled_at = now() WHERE id = $1 AND status = 'active'`, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
			WHERE performance_id = $1 AND seat_id = $2 AND state = 'sold' AND student_id = $3`, t.PerformanceID, t.SeatID, studentID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("seat %s was not sold to the ticket holder", t.SeatLabel)
		}
		return audit(ctx, tx, a, "cancel", t.PerformanceID, t.SeatLabel,
			map[string]any{"state": "sold", "student_id": studentID, "ticket_id": id}, seatSnapshot{State: "available"})
	})
	if err != nil {
		return t, fmt.Errorf("db: cancel ticket: %w", err)
	}
	return s.TicketForStudent(ctx, id, studentID)
}

// ExpireHolds frees every hold whose time has run out, records each in the
// audit log, and returns the performances it changed. Viewers already see
// an expired hold as free; this makes the tables agree and wakes them up.
func (s *Store) ExpireHolds(ctx context.Context) ([]int64, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT DISTINCT performance_id FROM performance_seats WHERE state = 'held' AND held_until <= now()`)
	perfs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("db: expire holds: %w", err)
	}
	var changed []int64
	for _, pid := range perfs {
		n := 0
		err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			if _, err := lockPerformance(ctx, tx, pid, false, 0); err != nil {
				return err
			}
			rows, _ := tx.Query(ctx, `WITH old AS (
					SELECT ps.seat_id, ps.student_id, ps.held_until FROM performance_seats ps
					WHERE ps.performance_id = $1 AND ps.state = 'held' AND ps.held_until <= now() FOR UPDATE)
				UPDATE performance_seats ps SET state = 'available', student_id = NULL, held_until = NULL
				FROM old, seats s WHERE ps.performance_id = $1 AND ps.seat_id = old.seat_id AND s.id = old.seat_id
				RETURNING s.label, old.student_id, old.held_until`, pid)
			type expired struct {
				label   string
				student int64
				until   time.Time
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (expired, error) {
				var e expired
				return e, r.Scan(&e.label, &e.student, &e.until)
			})
			if err != nil {
				return err
			}
			for _, e := range list {
				if err := audit(ctx, tx, Actor{Kind: "system"}, "expire", pid, e.label,
					seatSnapshot{State: "held", StudentID: ptr(e.student), HeldUntil: ptr(e.until)}, seatSnapshot{State: "available"}); err != nil {
					return err
				}
			}
			n = len(list)
			return nil
		})
		if err != nil {
			return changed, fmt.Errorf("db: expire holds: %w", err)
		}
		if n > 0 {
			changed = append(changed, pid)
		}
	}
	return changed, nil
}

// NotifySeats wakes every app instance's listener for the performances.
// It runs outside any booking transaction: a NOTIFY inside one would take
// PostgreSQL's cluster-wide notify lock at every commit.
func (s *Store) NotifySeats(ctx context.Context, performanceIDs []int64) error {
	if len(performanceIDs) == 0 {
		return nil
	}
	_, err := s.Pool.Exec(ctx, `SELECT pg_notify('festa_seats', id::text) FROM unnest($1::bigint[]) AS id`, performanceIDs)
	if err != nil {
		return fmt.Errorf("db: notify: %w", err)
	}
	return nil
}

// SeatChange is one entry of the change feed.
type SeatChange struct {
	PerformanceID int64
	Version       int64
	SeatID        int64
}

// SeatChangesSince returns the performance's changes after version, oldest
// first, at most limit of them.
func (s *Store) SeatChangesSince(ctx context.Context, performanceID, version int64, limit int) ([]SeatChange, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT performance_id, version, seat_id FROM seat_changes
		WHERE performance_id = $1 AND version > $2 ORDER BY version LIMIT $3`, performanceID, version, limit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SeatChange])
	if err != nil {
		return nil, fmt.Errorf("db: seat changes: %w", err)
	}
	return out, nil
}

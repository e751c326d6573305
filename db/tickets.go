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

// Signer makes a ticket's token. Confirm calls it before it takes the
// student's lock, with the ticket's final details (the database checks
// under the lock that they still hold); the store never sees a signing key.
type Signer func(ticketID, performanceSlug, seatLabel string, issuedAt time.Time) (keyID, token string, err error)

// NewTicketID returns a fresh random ticket id; the caller supplies the
// generator so the id and the token agree.
type NewTicketID func() (string, error)

// Confirm turns every live hold of the student in the performance into a
// ticket. It is idempotent: with no hold but an active ticket already (a
// double click, a resubmitted form), it returns that ticket.
//
// Tokens are signed in Go, and signing under the student's lock would cost
// a round trip per step. So Confirm first looks at the student's live
// holds without the lock, signs a ticket for each, and hands them all to
// festa_confirm, which takes the lock and issues them only if the live holds
// are still exactly those seats, in one statement. If they changed in
// between (the student held a seat in another tab, a hold ran out on the
// boundary), Confirm does it all again in a transaction that takes the
// student's booking lock first (festa_lock_student, migration 012), where
// none of their holds can change between the look and the write: slower,
// and rare.
//
// A student whose hold has run out is told so (ErrHoldExpired) whether or
// not the sweeper has freed it yet: once it has, the hold is gone from the
// seats, and only the audit log remembers it.
func (s *Store) Confirm(ctx context.Context, performanceID, studentID int64, newID NewTicketID, sign Signer, a Actor) ([]Ticket, error) {
	ids, err := confirm(ctx, s.Pool, performanceID, studentID, newID, sign, a)
	if errors.Is(err, errHoldsChanged) {
		err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT festa_lock_student($1)`, studentID); err != nil {
				return err
			}
			ids, err = confirm(ctx, tx, performanceID, studentID, newID, sign, a)
			return err
		})
	}
	if errors.Is(err, ErrNoHold) {
		var last string
		// The student's last hold event here in the last ten minutes: a
		// hold that ran out and was swept leaves an 'expire' by the system.
		qerr := s.Pool.QueryRow(ctx, `SELECT action FROM audit_log
			WHERE performance_id = $1 AND at > now() - interval '10 minutes'
			  AND ((actor_kind = 'student' AND actor_id = $2 AND action IN ('hold', 'release'))
			    OR (action = 'expire' AND (before->>'student_id')::bigint = $2))
			ORDER BY id DESC LIMIT 1`, performanceID, studentID).Scan(&last)
		if qerr == nil && last == "expire" {
			err = ErrHoldExpired
		}
	}
	if err != nil {
		return nil, fmt.Errorf("db: confirm: %w", mapRaised(err))
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

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// confirm is one attempt at Confirm on q: look at the live holds, sign,
// and issue under the lock. It returns the ticket ids, or errHoldsChanged
// when the holds moved between the look and the lock (never when q already
// holds the lock: a transaction's clock stands still, so no hold can expire
// in between either).
func confirm(ctx context.Context, q querier, performanceID, studentID int64, newID NewTicketID, sign Signer, a Actor) ([]string, error) {
	var slug string
	var now time.Time
	var seatIDs []int64
	var labels []string
	err := q.QueryRow(ctx, `SELECT p.slug, now(),
			coalesce(array_agg(ps.seat_id ORDER BY s.y, s.x) FILTER (WHERE ps.seat_id IS NOT NULL), '{}'),
			coalesce(array_agg(s.label ORDER BY s.y, s.x) FILTER (WHERE ps.seat_id IS NOT NULL), '{}')
		FROM performances p
		LEFT JOIN performance_seats ps ON ps.performance_id = p.id AND ps.student_id = $2
			AND ps.state = 'held' AND ps.held_until > now()
		LEFT JOIN seats s ON s.id = ps.seat_id
		WHERE p.id = $1 GROUP BY p.id`, performanceID, studentID).Scan(&slug, &now, &seatIDs, &labels)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	now = now.Truncate(time.Second) // tokens carry whole seconds
	ids := make([]string, len(seatIDs))
	keyIDs := make([]string, len(seatIDs))
	tokens := make([]string, len(seatIDs))
	for i, label := range labels {
		if ids[i], err = newID(); err != nil {
			return nil, err
		}
		if keyIDs[i], tokens[i], err = sign(ids[i], slug, label, now); err != nil {
			return nil, err
		}
	}
	var code string
	args := append([]any{performanceID, studentID, slug, now, seatIDs, ids, keyIDs, tokens}, actorArgs(a)...)
	err = q.QueryRow(ctx, `SELECT r_code, r_ticket_ids FROM festa_confirm($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, args...).
		Scan(&code, &ids)
	if err == nil {
		err = refusal(code)
	}
	if err != nil {
		return nil, err
	}
	return ids, nil
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
// everyone, while sales are open. A ticket used at the gate stays. The
// ticket is looked up first, without the lock; festa_cancel_ticket then
// does the rest under it in one statement.
func (s *Store) CancelTicket(ctx context.Context, id string, studentID int64, a Actor) (Ticket, error) {
	t, err := s.TicketForStudent(ctx, id, studentID)
	if err != nil {
		return t, err
	}
	var code string
	args := append([]any{t.PerformanceID, id, studentID}, actorArgs(a)...)
	err = s.Pool.QueryRow(ctx, `SELECT festa_cancel_ticket($1, $2, $3, $4, $5, $6, $7)`, args...).Scan(&code)
	if err == nil {
		err = refusal(code)
	}
	if err != nil {
		return t, fmt.Errorf("db: cancel ticket: %w", mapRaised(err))
	}
	return s.TicketForStudent(ctx, id, studentID)
}

// ExpireHolds frees every hold whose time has run out, records each in the
// audit log, and returns the performances it changed. Viewers already see
// an expired hold as free; this makes the tables agree and wakes them up.
// Each performance is swept by one festa_expire_holds statement, so the
// sweep holds its seats' locks for no round trip.
func (s *Store) ExpireHolds(ctx context.Context) ([]int64, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT DISTINCT performance_id FROM performance_seats WHERE state = 'held' AND held_until <= now()`)
	perfs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("db: expire holds: %w", err)
	}
	var changed []int64
	for _, pid := range perfs {
		var code string
		var n int
		err := s.Pool.QueryRow(ctx, `SELECT r_code, coalesce(r_expired, 0) FROM festa_expire_holds($1)`, pid).Scan(&code, &n)
		if err == nil {
			err = refusal(code)
		}
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

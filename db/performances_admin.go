package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EventSetup is the festival as the council edits it.
type EventSetup struct {
	ID       int64
	Slug     string
	Name     string
	TimeZone string
	StartsOn time.Time // a date; zero when the festival has no days yet
	EndsOn   time.Time
}

// EventSetupByID returns the festival's editable fields.
func (s *Store) EventSetupByID(ctx context.Context, id int64) (EventSetup, error) {
	var e EventSetup
	var from, to *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT id, slug, name, time_zone, starts_on, ends_on FROM events WHERE id = $1`, id).
		Scan(&e.ID, &e.Slug, &e.Name, &e.TimeZone, &from, &to)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("db: event %d: %w", id, err)
	}
	if from != nil && to != nil {
		e.StartsOn, e.EndsOn = *from, *to
	}
	return e, nil
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.DateOnly)
}

// SaveEvent creates the festival (e.ID 0) or updates it, and returns its id.
func (s *Store) SaveEvent(ctx context.Context, e EventSetup) (int64, error) {
	var err error
	if e.ID == 0 {
		err = s.Pool.QueryRow(ctx, `INSERT INTO events (slug, name, time_zone, starts_on, ends_on)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.Slug, e.Name, e.TimeZone, dateOrNil(e.StartsOn), dateOrNil(e.EndsOn)).Scan(&e.ID)
	} else {
		var tag interface{ RowsAffected() int64 }
		tag, err = s.Pool.Exec(ctx, `UPDATE events SET name = $2, time_zone = $3, starts_on = $4, ends_on = $5 WHERE id = $1`,
			e.ID, e.Name, e.TimeZone, dateOrNil(e.StartsOn), dateOrNil(e.EndsOn))
		if err == nil && tag.RowsAffected() == 0 {
			return 0, ErrNotFound
		}
	}
	if pgCode(err) == "23505" {
		return 0, ErrSlugTaken
	}
	if err != nil {
		return 0, fmt.Errorf("db: save event: %w", err)
	}
	return e.ID, nil
}

// ErrHallHasTickets refuses moving a performance that has tickets to
// another hall: its tickets name seats of the old one.
var ErrHallHasTickets = errors.New("db: the performance has tickets in its hall")

// ErrSlugHasTickets refuses renaming the URL of a performance that has
// tickets: the links students keep would stop working.
var ErrSlugHasTickets = errors.New("db: the performance has tickets under its slug")

// ErrLimitBelowSold refuses a ticket limit below what a student already
// holds.
var ErrLimitBelowSold = errors.New("db: a student holds more tickets than the new limit")

// PerformanceProblems checks a performance before it is written and
// returns, per form field, the key of the setup catalogue's message.
// The database's CHECKs enforce the same ranges and order of the sales
// window; this names them in the user's language.
func PerformanceProblems(p NewPerformance) map[string]string {
	bad := map[string]string{}
	if !slugPattern(p.Slug) {
		bad["slug"] = "setup.error.slug"
	}
	if n := len([]rune(p.Title)); n < 1 || n > 200 {
		bad["title"] = "setup.error.title"
	}
	if p.HallID == 0 {
		bad["hall"] = "setup.error.hall"
	}
	if p.StartsAt.IsZero() {
		bad["starts_at"] = "setup.error.time"
	}
	if p.SalesOpenAt.IsZero() {
		bad["sales_open_at"] = "setup.error.time"
	}
	if p.SalesCloseAt.IsZero() {
		bad["sales_close_at"] = "setup.error.time"
	}
	if _, ok := bad["sales_close_at"]; !ok && !p.SalesOpenAt.IsZero() && !p.SalesCloseAt.After(p.SalesOpenAt) {
		bad["sales_close_at"] = "setup.error.close_before_open"
	}
	if _, ok := bad["sales_close_at"]; !ok && !p.StartsAt.IsZero() && p.SalesCloseAt.After(p.StartsAt) {
		bad["sales_close_at"] = "setup.error.close_after_start"
	}
	if p.TicketLimit < 1 || p.TicketLimit > 10 {
		bad["ticket_limit"] = "setup.error.ticket_limit"
	}
	if p.HoldSeconds < 30 || p.HoldSeconds > 1800 {
		bad["hold_seconds"] = "setup.error.hold_seconds"
	}
	return bad
}

// slugPattern is the CHECK on every slug column.
func slugPattern(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// CreatePerformance adds a performance with every seat of its hall: the
// sound desk blocked, seats the grid reserved held back for the council,
// the rest available.
func (s *Store) CreatePerformance(ctx context.Context, p NewPerformance) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO performances
			(event_id, hall_id, slug, title, starts_at, sales_open_at, sales_close_at, ticket_limit, hold_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			p.EventID, p.HallID, p.Slug, p.Title, p.StartsAt, p.SalesOpenAt, p.SalesCloseAt, p.TicketLimit, p.HoldSeconds).Scan(&id); err != nil {
			return err
		}
		return seatPerformance(ctx, tx, id, p.HallID)
	})
	if pgCode(err) == "23505" {
		return 0, ErrSlugTaken
	}
	if err != nil {
		return 0, fmt.Errorf("db: create performance %q: %w", p.Slug, err)
	}
	return id, nil
}

func seatPerformance(ctx context.Context, tx pgx.Tx, id, hallID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO performance_seats (performance_id, seat_id, state)
		SELECT $1, id, CASE WHEN kind = 'blocked' OR reserved THEN 'blocked' ELSE 'available' END
		FROM seats WHERE hall_id = $2`, id, hallID)
	return err
}

// UpdatePerformance changes a performance under its row lock (the lock
// booking takes), so no ticket is sold between the checks and the write.
// Changes that would break tickets sold are refused: another hall or slug
// once a ticket exists, a limit below what a student holds.
func (s *Store) UpdatePerformance(ctx context.Context, id int64, p NewPerformance) error {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var hallID int64
		var slug string
		err := tx.QueryRow(ctx, `SELECT hall_id, slug FROM performances WHERE id = $1 FOR UPDATE`, id).Scan(&hallID, &slug)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var tickets, most int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*)::int FROM tickets WHERE performance_id = $1),
				coalesce((SELECT max(n)::int FROM (SELECT count(*) AS n FROM tickets
					WHERE performance_id = $1 AND status = 'active' AND student_id IS NOT NULL GROUP BY student_id) t), 0)`,
			id).Scan(&tickets, &most); err != nil {
			return err
		}
		switch {
		case tickets > 0 && hallID != p.HallID:
			return ErrHallHasTickets
		case tickets > 0 && slug != p.Slug:
			return ErrSlugHasTickets
		case most > p.TicketLimit:
			return ErrLimitBelowSold
		}
		if _, err := tx.Exec(ctx, `UPDATE performances SET hall_id = $2, slug = $3, title = $4, starts_at = $5,
				sales_open_at = $6, sales_close_at = $7, ticket_limit = $8, hold_seconds = $9 WHERE id = $1`,
			id, p.HallID, p.Slug, p.Title, p.StartsAt, p.SalesOpenAt, p.SalesCloseAt, p.TicketLimit, p.HoldSeconds); err != nil {
			return err
		}
		if hallID == p.HallID {
			return nil
		}
		// No tickets: the seats of the old hall (at most held) go, the new
		// hall's come.
		if _, err := tx.Exec(ctx, `DELETE FROM performance_seats WHERE performance_id = $1`, id); err != nil {
			return err
		}
		return seatPerformance(ctx, tx, id, p.HallID)
	})
	if pgCode(err) == "23505" {
		return ErrSlugTaken
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrHallHasTickets) &&
		!errors.Is(err, ErrSlugHasTickets) && !errors.Is(err, ErrLimitBelowSold) {
		return fmt.Errorf("db: update performance %d: %w", id, err)
	}
	return err
}

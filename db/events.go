package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Event is a festival.
type Event struct {
	ID       int64
	Slug     string
	Name     string
	TimeZone string
}

// Performance is one show of an event in a hall.
type Performance struct {
	ID           int64
	EventID      int64
	HallID       int64
	Slug         string
	Title        string
	HallName     string
	StartsAt     time.Time
	SalesOpenAt  time.Time
	SalesCloseAt time.Time
	Paused       bool
	PauseMessage string
	TicketLimit  int
	HoldSeconds  int
}

// Occupancy counts a performance's seats as viewers see them: an expired
// hold is available.
type Occupancy struct {
	Capacity  int // every seat that is not blocked
	Sold      int
	Held      int
	Available int
	CheckedIn int
}

// PerformanceWithOccupancy is a performance and its current counts.
type PerformanceWithOccupancy struct {
	Performance
	Occupancy Occupancy
}

// FirstEvent returns the event festa shows on its home page: the one created
// first. festa serves one festival per deployment.
func (s *Store) FirstEvent(ctx context.Context) (Event, error) {
	var e Event
	err := s.Pool.QueryRow(ctx, `SELECT id, slug, name, time_zone FROM events ORDER BY id LIMIT 1`).
		Scan(&e.ID, &e.Slug, &e.Name, &e.TimeZone)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("db: first event: %w", err)
	}
	return e, nil
}

const performanceColumns = `p.id, p.event_id, p.hall_id, p.slug, p.title, h.name, p.starts_at, p.sales_open_at,
	p.sales_close_at, p.paused, p.pause_message, p.ticket_limit, p.hold_seconds`

func scanPerformance(row pgx.CollectableRow) (Performance, error) {
	var p Performance
	err := row.Scan(&p.ID, &p.EventID, &p.HallID, &p.Slug, &p.Title, &p.HallName, &p.StartsAt, &p.SalesOpenAt,
		&p.SalesCloseAt, &p.Paused, &p.PauseMessage, &p.TicketLimit, &p.HoldSeconds)
	return p, err
}

// PerformanceBySlug finds a performance by its URL name.
func (s *Store) PerformanceBySlug(ctx context.Context, slug string) (Performance, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+performanceColumns+`
		FROM performances p JOIN halls h ON h.id = p.hall_id WHERE p.slug = $1`, slug)
	p, err := pgx.CollectExactlyOneRow(rows, scanPerformance)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("db: performance %q: %w", slug, err)
	}
	return p, nil
}

// EventPerformances lists an event's performances in start order, each with
// its occupancy, in one query.
func (s *Store) EventPerformances(ctx context.Context, eventID int64) ([]PerformanceWithOccupancy, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+performanceColumns+`,
		count(ps.seat_id) FILTER (WHERE ps.state <> 'blocked'),
		count(ps.seat_id) FILTER (WHERE ps.state = 'sold'),
		count(ps.seat_id) FILTER (WHERE ps.state = 'held' AND ps.held_until > now())
		FROM performances p
		JOIN halls h ON h.id = p.hall_id
		LEFT JOIN performance_seats ps ON ps.performance_id = p.id
		WHERE p.event_id = $1
		GROUP BY p.id, h.name
		ORDER BY p.starts_at, p.id`, eventID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PerformanceWithOccupancy, error) {
		var r PerformanceWithOccupancy
		p := &r.Performance
		o := &r.Occupancy
		err := row.Scan(&p.ID, &p.EventID, &p.HallID, &p.Slug, &p.Title, &p.HallName, &p.StartsAt, &p.SalesOpenAt,
			&p.SalesCloseAt, &p.Paused, &p.PauseMessage, &p.TicketLimit, &p.HoldSeconds,
			&o.Capacity, &o.Sold, &o.Held)
		o.Available = o.Capacity - o.Sold - o.Held
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: event performances: %w", err)
	}
	return out, nil
}

// Setting reads a key from the settings table.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.Pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: setting %q: %w", key, err)
	}
	return v, nil
}

// SettingOrInit returns the stored value of key, storing init() first when
// there is none. Concurrent callers all get the one value that won.
func (s *Store) SettingOrInit(ctx context.Context, key string, init func() (string, error)) (string, error) {
	if v, err := s.Setting(ctx, key); !errors.Is(err, ErrNotFound) {
		return v, err
	}
	v, err := init()
	if err != nil {
		return "", err
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, v); err != nil {
		return "", fmt.Errorf("db: setting %q: %w", key, err)
	}
	return s.Setting(ctx, key)
}

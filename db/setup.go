package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The Ensure* functions create festival data once: each inserts what is
// missing and leaves what exists untouched, so loading the demo twice
// changes nothing.

// Seat is a seat of a hall, as set up by the council.
type Seat struct {
	ID       int64
	Label    string
	RowLabel string
	Number   int
	X, Y     int
	Kind     string // standard, accessible or blocked
}

// NewPerformance describes a performance to create.
type NewPerformance struct {
	EventID      int64
	HallID       int64
	Slug         string
	Title        string
	StartsAt     time.Time
	SalesOpenAt  time.Time
	SalesCloseAt time.Time
	TicketLimit  int
	HoldSeconds  int
}

// NewStudent is a roster entry with its access code already hashed.
type NewStudent struct {
	StudentNo string
	Name      string
	CodeHash  string
}

// EnsureEvent returns the id of the event with e.Slug, creating it from e
// when missing.
func (s *Store) EnsureEvent(ctx context.Context, e Event) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO events (slug, name, time_zone) VALUES ($1, $2, $3)
			ON CONFLICT (slug) DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL SELECT id FROM events WHERE slug = $1`, e.Slug, e.Name, e.TimeZone).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: ensure event %q: %w", e.Slug, err)
	}
	return id, nil
}

// EnsureHall returns the id of the hall with slug, creating it with seats
// when missing. An existing hall keeps its seats.
func (s *Store) EnsureHall(ctx context.Context, slug, name string, seats []Seat) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO halls (slug, name) VALUES ($1, $2)
			ON CONFLICT (slug) DO NOTHING RETURNING id`, slug, name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.QueryRow(ctx, `SELECT id FROM halls WHERE slug = $1`, slug).Scan(&id)
		}
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"seats"},
			[]string{"hall_id", "label", "row_label", "number", "x", "y", "kind"},
			pgx.CopyFromSlice(len(seats), func(i int) ([]any, error) {
				st := seats[i]
				return []any{id, st.Label, st.RowLabel, st.Number, st.X, st.Y, st.Kind}, nil
			}))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: ensure hall %q: %w", slug, err)
	}
	return id, nil
}

// EnsurePerformance returns the id of the performance with p.Slug, creating
// it (with every seat of its hall available, blocked seats blocked) when
// missing; created reports which.
func (s *Store) EnsurePerformance(ctx context.Context, p NewPerformance) (id int64, created bool, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO performances
			(event_id, hall_id, slug, title, starts_at, sales_open_at, sales_close_at, ticket_limit, hold_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (slug) DO NOTHING RETURNING id`,
			p.EventID, p.HallID, p.Slug, p.Title, p.StartsAt, p.SalesOpenAt, p.SalesCloseAt, p.TicketLimit, p.HoldSeconds).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.QueryRow(ctx, `SELECT id FROM performances WHERE slug = $1`, p.Slug).Scan(&id)
		}
		if err != nil {
			return err
		}
		created = true
		_, err = tx.Exec(ctx, `INSERT INTO performance_seats (performance_id, seat_id, state)
			SELECT $1, id, CASE WHEN kind = 'blocked' THEN 'blocked' ELSE 'available' END
			FROM seats WHERE hall_id = $2`, id, p.HallID)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("db: ensure performance %q: %w", p.Slug, err)
	}
	return id, created, nil
}

// StudentNumbers returns every student number on the roster.
func (s *Store) StudentNumbers(ctx context.Context) (map[string]bool, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT student_no FROM students`)
	nos, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("db: student numbers: %w", err)
	}
	m := make(map[string]bool, len(nos))
	for _, n := range nos {
		m[n] = true
	}
	return m, nil
}

// EnsureStudents adds the students whose numbers are not on the roster yet
// and returns how many it added.
func (s *Store) EnsureStudents(ctx context.Context, students []NewStudent) (int, error) {
	var added int
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE new_students (student_no text, name text, code_hash text) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"new_students"}, []string{"student_no", "name", "code_hash"},
			pgx.CopyFromSlice(len(students), func(i int) ([]any, error) {
				st := students[i]
				return []any{st.StudentNo, st.Name, st.CodeHash}, nil
			}))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO students (student_no, name, code_hash)
			SELECT student_no, name, code_hash FROM new_students ON CONFLICT (student_no) DO NOTHING`)
		added = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: ensure students: %w", err)
	}
	return added, nil
}

// EnsureStaff creates a staff account when the username is free and reports
// whether it did.
func (s *Store) EnsureStaff(ctx context.Context, username, passwordHash, role string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO staff (username, password_hash, role) VALUES ($1, $2, $3)
		ON CONFLICT (username) DO NOTHING`, username, passwordHash, role)
	if err != nil {
		return false, fmt.Errorf("db: ensure staff %q: %w", username, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetStaffPassword replaces a staff member's password hash.
func (s *Store) SetStaffPassword(ctx context.Context, username, passwordHash string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE staff SET password_hash = $2 WHERE username = $1`, username, passwordHash)
	if err != nil {
		return fmt.Errorf("db: set staff password %q: %w", username, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// StaffPasswordHash returns the stored hash of a staff account.
func (s *Store) StaffPasswordHash(ctx context.Context, username string) (string, error) {
	var h string
	err := s.Pool.QueryRow(ctx, `SELECT password_hash FROM staff WHERE username = $1`, username).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: staff %q: %w", username, err)
	}
	return h, nil
}

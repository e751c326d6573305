package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"festa/layout"
)

// ErrSlugTaken is returned when a hall or performance URL name is in use.
var ErrSlugTaken = errors.New("db: slug taken")

// HallSummary is a hall as the council's setup page lists it.
type HallSummary struct {
	ID       int64
	Slug     string
	Name     string
	Seats    int // places with a label, the sound desk included
	Reserved int
}

// Halls lists every hall, oldest first.
func (s *Store) Halls(ctx context.Context) ([]HallSummary, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT h.id, h.slug, h.name, count(st.id)::int, count(st.id) FILTER (WHERE st.reserved)::int
		FROM halls h LEFT JOIN seats st ON st.hall_id = h.id GROUP BY h.id ORDER BY h.id`)
	hs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HallSummary, error) {
		var h HallSummary
		return h, r.Scan(&h.ID, &h.Slug, &h.Name, &h.Seats, &h.Reserved)
	})
	if err != nil {
		return nil, fmt.Errorf("db: halls: %w", err)
	}
	return hs, nil
}

// CreateHall adds a hall with the seats of a parsed grid, or returns
// ErrSlugTaken and writes nothing.
func (s *Store) CreateHall(ctx context.Context, slug, name string, seats []layout.Seat) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO halls (slug, name) VALUES ($1, $2) RETURNING id`, slug, name).Scan(&id); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"seats"},
			[]string{"hall_id", "label", "row_label", "number", "x", "y", "kind", "reserved"},
			pgx.CopyFromSlice(len(seats), func(i int) ([]any, error) {
				st := seats[i]
				return []any{id, st.Label, st.RowLabel, st.Number, st.X, st.Y, string(st.Kind), st.Reserved}, nil
			}))
		return err
	})
	if pgCode(err) == "23505" {
		return 0, ErrSlugTaken
	}
	if err != nil {
		return 0, fmt.Errorf("db: create hall %q: %w", slug, err)
	}
	return id, nil
}

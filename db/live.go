package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SeatBatch is what a live viewer needs after a wake-up: the current state
// of every seat changed since a version, and the version that state is at.
type SeatBatch struct {
	// Version is the performance's change version the seats reflect. It is
	// the asked version when nothing changed.
	Version int64
	// Seats holds each seat changed after the asked version, once, in row
	// and seat order, with its effective state now (an expired hold is
	// available).
	Seats []SeatState
	// Oldest is the changed_at of the oldest change the batch covers (the
	// start of its transaction); zero when Seats is empty.
	Oldest time.Time
}

// SeatBatchSince returns the seats of the performance changed after
// version, read from the change log (seat_changes), so a wake-up that
// arrives late, twice or not at all never loses an update: the next call
// finds everything since the last version it was given.
//
// It is one statement, hence one snapshot (Version matches the seats
// exactly), and one round trip: live hubs call it on every wake-up, most of
// them echoes of a change already shown, which find no rows. Every version
// bump writes a change row in the same transaction, so no rows means no
// change.
func (s *Store) SeatBatchSince(ctx context.Context, performanceID, version int64) (SeatBatch, error) {
	b := SeatBatch{Version: version}
	rows, _ := s.Pool.Query(ctx, `SELECT s.id, s.label, s.row_label, s.number, s.x, s.y, s.kind, `+effectiveState+`,
			CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN 0 ELSE coalesce(ps.student_id, 0) END,
			CASE WHEN ps.state = 'held' AND ps.held_until > now() THEN ps.held_until ELSE 'epoch'::timestamptz END,
			ps.version, ch.first_at, (SELECT version FROM performances WHERE id = $1)
		FROM (SELECT seat_id, min(changed_at) AS first_at FROM seat_changes
		      WHERE performance_id = $1 AND version > $2 GROUP BY seat_id) ch
		JOIN performance_seats ps ON ps.performance_id = $1 AND ps.seat_id = ch.seat_id
		JOIN seats s ON s.id = ps.seat_id
		ORDER BY s.y, s.x`, performanceID, version)
	var err error
	b.Seats, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SeatState, error) {
		var st SeatState
		var first time.Time
		err := row.Scan(&st.SeatID, &st.Label, &st.RowLabel, &st.Number, &st.X, &st.Y, &st.Kind, &st.State,
			&st.StudentID, &st.HeldUntil, &st.Version, &first, &b.Version)
		if st.HeldUntil.Unix() == 0 {
			st.HeldUntil = time.Time{}
		}
		if b.Oldest.IsZero() || first.Before(b.Oldest) {
			b.Oldest = first
		}
		return st, err
	})
	if err != nil {
		return SeatBatch{Version: version}, fmt.Errorf("db: seat batch: %w", err)
	}
	return b, nil
}

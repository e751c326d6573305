package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SeatBatch is what a live viewer needs after a wake-up: the current state
// of every seat that may have changed since a horizon, and the horizon
// that state is at.
type SeatBatch struct {
	// Horizon is the change horizon of the batch's snapshot (see
	// PerformanceSeats); the asked horizon when no seat was found.
	Horizon int64
	// Seats holds each seat changed by a transaction at or after the
	// asked horizon, once, in row and seat order, with its effective state
	// now (an expired hold is available). It may repeat a change the
	// reader has already seen: the reader compares Version, which grows
	// with each change of a seat.
	Seats []SeatState
	// Oldest is the changed_at of the oldest change the batch covers (the
	// start of its transaction); zero when Seats is empty.
	Oldest time.Time
}

// SeatBatchSince returns the seats of the performance changed by any
// transaction at or after horizon, read from the change log
// (seat_changes), so a wake-up that arrives late, twice or not at all never
// loses an update: the next call, from the horizon this one returns, finds
// everything since.
//
// Why the horizon is enough (migration 012): a transaction below a
// snapshot's horizon had finished when the snapshot was taken, so its
// changes were in that read; one at or above it may have committed since.
// Seats are changed in parallel, so a commit-ordered counter no longer
// exists to read from.
//
// It is one statement, hence one snapshot (Horizon matches the seats
// exactly), and one round trip: live hubs call it on every wake-up.
func (s *Store) SeatBatchSince(ctx context.Context, performanceID, since int64) (SeatBatch, error) {
	b := SeatBatch{Horizon: since}
	rows, _ := s.Pool.Query(ctx, `SELECT `+seatColumns+`, ch.first_at, `+horizon+`
		FROM (SELECT seat_id, min(changed_at) AS first_at FROM seat_changes
		      WHERE performance_id = $1 AND xid >= $2::bigint::text::xid8 GROUP BY seat_id) ch
		JOIN performance_seats ps ON ps.performance_id = $1 AND ps.seat_id = ch.seat_id
		JOIN seats s ON s.id = ps.seat_id
		ORDER BY s.y, s.x`, performanceID, since)
	var err error
	b.Seats, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SeatState, error) {
		var first time.Time
		st, err := scanSeatStateAnd(row, &first, &b.Horizon)
		if b.Oldest.IsZero() || first.Before(b.Oldest) {
			b.Oldest = first
		}
		return st, err
	})
	if err != nil {
		return SeatBatch{Horizon: since}, fmt.Errorf("db: seat batch: %w", err)
	}
	return b, nil
}

package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SeatSummary is what a booking answer reads without the whole seat map:
// the page already has the map and keeps it live over its socket, so a
// hold, release or refusal only needs the seats it names, the student's
// own and the student's tickets. Reading and drawing the 600 seats of a
// hall for every tap was most of a tap's cost (see BenchmarkHoldRelease
// in handlers), and so was counting them in the database (3 ms of the
// database's time a tap at the opening): the counts come from the hall
// the instance already holds in memory, with these seats laid over it
// (seatview.Tally).
type SeatSummary struct {
	// Seats are the seats asked for by label and every seat the student
	// holds or bought, once each, in hall order, as PerformanceSeats reads
	// them (an expired hold is available).
	Seats []SeatState
	// Tickets are the student's active tickets of the performance, oldest
	// first.
	Tickets []TicketSeat
}

// TicketSeat is an active ticket as the hold panel links it.
type TicketSeat struct {
	ID        string
	SeatLabel string
}

// SeatSummary reads the summary of performanceID for student (0 for
// nobody) and the seats labelled labels, in one round trip (a batch of
// two statements; each is a consistent read, and the live socket
// corrects anything that changed between them).
func (s *Store) SeatSummary(ctx context.Context, performanceID, student int64, labels []string) (SeatSummary, error) {
	var out SeatSummary
	if labels == nil {
		labels = []string{}
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+seatColumns+`
		FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND ps.seat_id IN (
			-- Two index lookups; an OR of the two read every seat.
			SELECT o.seat_id FROM performance_seats o WHERE o.performance_id = $1 AND o.student_id = $2
			UNION
			SELECT x.id FROM seats x JOIN performances p ON p.hall_id = x.hall_id
			 WHERE p.id = $1 AND x.label = ANY($3))
		ORDER BY s.y, s.x`, performanceID, student, labels).Query(func(rows pgx.Rows) error {
		var err error
		out.Seats, err = pgx.CollectRows(rows, scanSeatState)
		return err
	})
	b.Queue(`SELECT t.id::text, s.label FROM tickets t JOIN seats s ON s.id = t.seat_id
		WHERE t.performance_id = $1 AND t.student_id = $2 AND t.status = 'active'
		ORDER BY t.issued_at, s.label`, performanceID, student).Query(func(rows pgx.Rows) error {
		var err error
		out.Tickets, err = pgx.CollectRows(rows, pgx.RowToStructByPos[TicketSeat])
		return err
	})
	if err := s.Pool.SendBatch(ctx, b).Close(); err != nil {
		return SeatSummary{}, fmt.Errorf("db: seat summary: %w", err)
	}
	return out, nil
}

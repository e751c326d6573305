package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SeatSummary is what a booking answer shows without the whole seat map:
// the page already has the map and keeps it live over its socket, so a
// hold, release or refusal only needs the seats it names, the student's
// own, the counts and the student's tickets. Reading and drawing the 600
// seats of a hall for every tap was most of a tap's cost (see
// BenchmarkHoldRelease in handlers).
type SeatSummary struct {
	// Seats are the seats asked for by label and every seat the student
	// holds or bought, once each, in hall order, as PerformanceSeats reads
	// them (an expired hold is available).
	Seats []SeatState
	// Sold, Held and Available count the performance's seats (blocked and
	// reserved seats are in none of them).
	Sold, Held, Available int
	// FreeRows are the labels of the rows with an available seat, front row
	// first.
	FreeRows []string
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
// three statements; each is a consistent read, and the live socket
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
	// The counts and the free rows in one pass over the hall, a row of
	// counts per seat row (this ran once per tap; two passes took a
	// millisecond of the database's time each).
	b.Queue(`SELECT s.row_label, min(s.y) AS y,
			count(*) FILTER (WHERE `+effectiveState+` = 'sold'),
			count(*) FILTER (WHERE `+effectiveState+` = 'held'),
			count(*) FILTER (WHERE `+effectiveState+` = 'available')
		FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1
		GROUP BY s.row_label ORDER BY y`, performanceID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var label string
			var y, sold, held, free int
			if err := rows.Scan(&label, &y, &sold, &held, &free); err != nil {
				return err
			}
			out.Sold, out.Held, out.Available = out.Sold+sold, out.Held+held, out.Available+free
			if free > 0 {
				out.FreeRows = append(out.FreeRows, label)
			}
		}
		return rows.Err()
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

package db_test

import (
	"context"
	"fmt"
	"testing"

	"festa/seatview"
)

// A booking answer's summary: the seats named and the student's own, and
// the student's tickets; laid over a reading of the hall taken before the
// last hold (seatview.Tally), the counts as the page shows them and the
// rows with a free seat, front first.
func TestSeatSummary(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(`UPDATE performances SET ticket_limit = 3 WHERE id = $1`, f.opening.ID)
	for _, l := range []string{"A1", "A2"} {
		if _, err := f.store.Hold(ctx, f.opening.ID, l, f.alice, student); err != nil {
			t.Fatal(err)
		}
	}
	// Row C entirely taken out of sale: not among the free rows.
	f.exec(`UPDATE performance_seats ps SET state = 'blocked' FROM seats s
		WHERE s.id = ps.seat_id AND ps.performance_id = $1 AND s.row_label = 'C'`, f.opening.ID)
	before, _, err := f.store.PerformanceSeats(ctx, f.opening.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Hold(ctx, f.opening.ID, "B5", f.bob, student); err != nil {
		t.Fatal(err)
	}

	sum, err := f.store.SeatSummary(ctx, f.opening.ID, f.alice, []string{"B5", "Z99"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sum.Seats {
		got = append(got, s.Label+":"+s.State)
	}
	if fmt.Sprint(got) != "[A1:held A2:held B5:held]" {
		t.Errorf("seats %v, want alice's A1 A2 and the named B5, in hall order", got)
	}
	total := f.count(`SELECT count(*) FROM performance_seats WHERE performance_id = $1 AND state <> 'blocked'`, f.opening.ID)
	occ, free := seatview.Tally(before, sum.Seats, f.alice)
	if occ.Held != 3 || occ.Sold != 0 || occ.Available != total-3 || occ.Capacity != total {
		t.Errorf("counts %+v, want 0 sold, 3 held, %d available", occ, total-3)
	}
	if len(free) < 3 || free[0] != "A" || free[1] != "B" || free[2] != "D" {
		t.Errorf("free rows %v, want A, B, D… (C is blocked)", free)
	}
	if len(sum.Tickets) != 0 {
		t.Errorf("tickets %v before any confirm", sum.Tickets)
	}
}

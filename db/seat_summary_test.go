package db_test

import (
	"context"
	"fmt"
	"testing"
)

// A booking answer's summary: the seats named and the student's own, the
// counts as the page shows them, the rows with a free seat front first,
// and the student's tickets.
func TestSeatSummary(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(`UPDATE performances SET ticket_limit = 3 WHERE id = $1`, f.opening.ID)
	for _, l := range []string{"A1", "A2"} {
		if _, err := f.store.Hold(ctx, f.opening.ID, l, f.alice, student); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Hold(ctx, f.opening.ID, "B5", f.bob, student); err != nil {
		t.Fatal(err)
	}
	// Row C entirely taken out of sale: not among the free rows.
	f.exec(`UPDATE performance_seats ps SET state = 'blocked' FROM seats s
		WHERE s.id = ps.seat_id AND ps.performance_id = $1 AND s.row_label = 'C'`, f.opening.ID)

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
	if sum.Held != 3 || sum.Sold != 0 || sum.Available != total-3 {
		t.Errorf("counts sold %d held %d available %d, want 0, 3, %d", sum.Sold, sum.Held, sum.Available, total-3)
	}
	if len(sum.FreeRows) < 3 || sum.FreeRows[0] != "A" || sum.FreeRows[1] != "B" || sum.FreeRows[2] != "D" {
		t.Errorf("free rows %v, want A, B, D… (C is blocked)", sum.FreeRows)
	}
	if len(sum.Tickets) != 0 {
		t.Errorf("tickets %v before any confirm", sum.Tickets)
	}
}

package seatview_test

import (
	"fmt"
	"testing"

	"festa/db"
	"festa/seatview"
)

// Tally lays the seats an answer read itself over an older reading of the
// hall: a newer seat replaces the old one, an older one (the live map has
// already shown a later change) does not, and the free rows follow.
func TestTallyLaysFresherSeatsOverTheHall(t *testing.T) {
	seat := func(id int64, row, state string, version int64) db.SeatState {
		return db.SeatState{SeatID: id, Label: fmt.Sprintf("%s%d", row, id), RowLabel: row, State: state, Version: version}
	}
	base := []db.SeatState{
		seat(1, "A", "sold", 5), seat(2, "A", "held", 6),
		seat(3, "B", "available", 0), seat(4, "B", "blocked", 0),
		seat(5, "C", "held", 9), seat(6, "C", "sold", 2),
	}
	occ, rows := seatview.Tally(base, nil, 0)
	if occ.Sold != 2 || occ.Held != 2 || occ.Available != 1 || occ.Capacity != 5 || fmt.Sprint(rows) != "[B]" {
		t.Errorf("hall alone: %+v, free rows %v", occ, rows)
	}
	fresh := []db.SeatState{
		seat(2, "A", "available", 7), // released since the reading
		seat(3, "B", "held", 8),      // held by the asking student
		seat(5, "C", "available", 4), // an older state than the hall's
	}
	occ, rows = seatview.Tally(base, fresh, 0)
	if occ.Sold != 2 || occ.Held != 2 || occ.Available != 1 || occ.Capacity != 5 {
		t.Errorf("with fresh seats: %+v, want 2 sold, 2 held (B3 and C5), 1 available (A2)", occ)
	}
	if fmt.Sprint(rows) != "[A]" {
		t.Errorf("free rows %v, want [A]", rows)
	}
	if base[1].State != "held" || base[2].State != "available" {
		t.Error("Tally changed the hall it was given")
	}
	// Student 7 held A2 in the hall's reading; the fresh seats, which hold
	// all of theirs, have only B3: A2 was given up since.
	base[1].StudentID = 7
	fresh = []db.SeatState{seat(3, "B", "held", 8)}
	fresh[0].StudentID = 7
	occ, rows = seatview.Tally(base, fresh, 7)
	if occ.Held != 2 || occ.Available != 1 || fmt.Sprint(rows) != "[A]" {
		t.Errorf("student 7 moved from A2 to B3: %+v, free rows %v; want A2 free", occ, rows)
	}
	if occ, _ = seatview.Tally(base, fresh, 0); occ.Held != 3 {
		t.Errorf("for nobody in particular: %+v, want A2 still held as the hall has it", occ)
	}
}

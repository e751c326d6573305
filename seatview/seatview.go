// Package seatview is how a performance's seats look on the seat map, the
// one mapping the page (handlers) and the live feed (realtime) both draw
// with: a seat's view, the occupancy counts and the hall laid out, with
// holder tags in place of students (Holders).
package seatview

import (
	"festa/components"
	"festa/db"
)

// View is seat s of a performance as the seat map draws it. tag is its
// holder's tag on that performance (Holders.Tag; "" for none). me is the
// student looking (0 for the live feed, which sends the same bytes to
// everyone): their held or bought seats are drawn "mine".
func View(s db.SeatState, tag string, me int64) components.SeatView {
	v := components.SeatView{
		Label: s.Label, RowLabel: s.RowLabel, Number: s.Number, State: s.State,
		Accessible: s.Kind == "accessible", Holder: tag, HeldUntil: s.HeldUntil,
	}
	if me != 0 && s.StudentID == me && (s.State == "held" || s.State == "sold") {
		v.State = "mine"
	}
	return v
}

// Count counts the seats as every seat map shows them: blocked and
// reserved seats are not capacity.
func Count(seats []db.SeatState) components.Occupancy {
	var o components.Occupancy
	for _, s := range seats {
		count(&o, s.State)
	}
	o.Capacity = o.Sold + o.Held + o.Available
	return o
}

func count(o *components.Occupancy, state string) {
	switch state {
	case "sold":
		o.Sold++
	case "held":
		o.Held++
	case "available":
		o.Available++
	}
}

// Tally is Count with the rows that have a free seat (front row first),
// for a reading of the hall (base, in row and seat order, as the live map
// or a recent snapshot holds it) with fresher readings of a few of its
// seats laid over it: a booking answer reads the seats it touched and
// counts the rest from memory, instead of counting the hall in the
// database on every tap. A fresh seat replaces its base reading unless
// the base one is newer (a later version of the seat). fresh holds every
// seat student me (0 for nobody) holds or bought, so a seat the base
// reading gives me that fresh lacks was given up since (moved, released or
// run out): it counts as available.
func Tally(base, fresh []db.SeatState, me int64) (components.Occupancy, []string) {
	var o components.Occupancy
	var rows []string
	for _, s := range base {
		// fresh is a few seats: a scan beats a map made for every answer.
		i := -1
		for j := range fresh {
			if fresh[j].SeatID == s.SeatID {
				i = j
				break
			}
		}
		if i >= 0 && fresh[i].Version >= s.Version {
			s = fresh[i]
		} else if i < 0 && me != 0 && s.StudentID == me && (s.State == "held" || s.State == "sold") {
			s.State = "available"
		}
		count(&o, s.State)
		// The seats come row by row, so a row is listed once.
		if s.State == "available" && (len(rows) == 0 || rows[len(rows)-1] != s.RowLabel) {
			rows = append(rows, s.RowLabel)
		}
	}
	o.Capacity = o.Sold + o.Held + o.Available
	return o, rows
}

// Hall lays the seats out on the hall grid, each drawn by view.
func Hall(seats []db.SeatState, view func(db.SeatState) components.SeatView) components.Hall {
	placed := make([]components.PlacedSeat, len(seats))
	for i, s := range seats {
		placed[i] = components.PlacedSeat{X: s.X, Seat: view(s)}
	}
	return components.LayOutHall(placed)
}

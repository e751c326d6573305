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
		switch s.State {
		case "sold":
			o.Sold++
		case "held":
			o.Held++
		case "available":
			o.Available++
		}
	}
	o.Capacity = o.Sold + o.Held + o.Available
	return o
}

// Hall lays the seats out on the hall grid, each drawn by view.
func Hall(seats []db.SeatState, view func(db.SeatState) components.SeatView) components.Hall {
	placed := make([]components.PlacedSeat, len(seats))
	for i, s := range seats {
		placed[i] = components.PlacedSeat{X: s.X, Seat: view(s)}
	}
	return components.LayOutHall(placed)
}

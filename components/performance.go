package components

import (
	"strconv"
	"time"
)

// PerformanceView is everything the performance page shows.
type PerformanceView struct {
	Slug         string
	Title        string
	HallName     string
	StartsAt     time.Time
	SalesOpenAt  time.Time
	SalesCloseAt time.Time
	Status       string // one of booking's Sales* states
	PauseMessage string
	HoldSeconds  int
	TicketLimit  int
	SignedIn     bool
	CSRF         string // the request's CSRF token, for the forms inside live regions
	HolderTag    string // the signed-in student's holder tag ("" when signed out); see SeatView.Holder
	// Hall is the whole seat map; booking answers (a hold, a release, a
	// refusal) leave it empty and carry FreeRows instead: the page already
	// has the map, kept live over its socket.
	Hall        Hall
	FreeRows    []string // rows with a free seat when Hall is empty, for the list picker
	Occupancy   Occupancy
	MyHolds     []SeatView   // the student's live holds, oldest first
	MyTickets   []TicketLink // the student's active tickets for this performance
	Message     string       // an error or notice to show in #messages on first render
	MessageKind string       // "error" (the default when empty) or "info", for Message

	// Selected is a seat the student picked before signing in
	// (/p/{slug}?seat=C12, carried through the sign-in): the hold panel
	// offers it with one button that holds it (a POST; a GET never holds).
	Selected *SeatView
	// Expired names the seats whose hold just ran out; the hold panel says
	// so above the picker (festa.js asks for this panel at the countdown's
	// zero instead of reloading the page).
	Expired []string

	// Horizon is the change horizon the hall was read at
	// (db.Store.PerformanceSeats): the live socket sends only what may
	// have changed since.
	Horizon int64

	// Now is the server's clock when the view was rendered. Countdowns in
	// the hold panel measure their offset from it; without it they fall back
	// to the page's data-server-now, which is stale once the panel is
	// swapped in later. Set it on every render.
	Now time.Time
}

// Hall is the drawing of a hall: a grid of Cols columns (seat columns and
// aisle gaps, without the row labels) and its rows front to back.
type Hall struct {
	Cols int
	Rows []HallRow
}

// HallRow is one row of seats; Cells has Cols entries in x order, with a
// nil entry for an aisle or a missing seat.
type HallRow struct {
	Label string
	Cells []*SeatView
}

// SeatView is one seat as a viewer sees it.
type SeatView struct {
	Label      string // "C12"
	RowLabel   string // "C"
	Number     int
	State      string // available, held, sold, blocked or mine
	Accessible bool
	// Holder is an opaque tag of whoever holds or bought the seat (empty for
	// none). The same bytes go to every viewer over the socket; each page
	// knows its own student's tag and shows matching seats as "mine".
	Holder    string
	HeldUntil time.Time // for a held seat
}

// TicketLink points at one of the student's tickets.
type TicketLink struct {
	ID        string
	SeatLabel string
}

// PlacedSeat is a seat with its place on the hall grid.
type PlacedSeat struct {
	X    int
	Seat SeatView
}

// LayOutHall puts seats, given in row and seat order (front row first), on
// the hall grid: the page and the live feed draw the hall the same way.
func LayOutHall(seats []PlacedSeat) Hall {
	var h Hall
	for _, s := range seats {
		h.Cols = max(h.Cols, s.X+1)
	}
	for i := range seats {
		s := &seats[i]
		if len(h.Rows) == 0 || h.Rows[len(h.Rows)-1].Label != s.Seat.RowLabel {
			h.Rows = append(h.Rows, HallRow{Label: s.Seat.RowLabel, Cells: make([]*SeatView, h.Cols)})
		}
		h.Rows[len(h.Rows)-1].Cells[s.X] = &s.Seat
	}
	return h
}

// LiveVersionID is the id of the element that says where a page's live
// regions stand (LiveVersion).
const LiveVersionID = "live-version"

// LiveURL is the performance's socket URL for a page drawn at the change
// horizon, at the server time at: the socket then sends only what may have
// changed since (see realtime.Position). festa.js rewrites v and t from
// #live-version before every reconnect.
func LiveURL(slug string, horizon int64, at time.Time) string {
	return "/ws/p/" + slug + "?v=" + strconv.FormatInt(horizon, 10) + "&t=" + strconv.FormatInt(at.Unix(), 10)
}

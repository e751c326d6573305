// Package sales says whether a performance sells seats at a given moment:
// the one rule of the sales window and the council's pause that pages,
// the live feed and the console all show. The database applies the same
// rule again when a booking is made (festa_lock_performance).
package sales

import (
	"time"

	"festa/db"
)

// The sales states of a performance.
const (
	Open   = "open"
	Soon   = "soon"
	Paused = "paused"
	Closed = "closed"
)

// Status says whether p sells seats at now. A pause wins over the
// calendar while the sales window is open.
func Status(p db.Performance, now time.Time) string {
	switch {
	case now.Before(p.SalesOpenAt):
		return Soon
	case !now.Before(p.SalesCloseAt):
		return Closed
	case p.Paused:
		return Paused
	default:
		return Open
	}
}

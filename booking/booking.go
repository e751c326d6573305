// Package booking holds festa's seat rules that are neither HTTP nor SQL:
// when sales are open, and what a seat looks like to a given student. The
// database enforces the same rules again (see db's migrations); this
// package explains them and turns them into messages.
package booking

import (
	"time"

	"festa/db"
)

// Sales states of a performance.
const (
	SalesOpen   = "open"
	SalesSoon   = "soon"
	SalesPaused = "paused"
	SalesClosed = "closed"
)

// SalesStatus says whether p sells seats at now. A pause wins over the
// calendar while the sales window is open.
func SalesStatus(p db.Performance, now time.Time) string {
	switch {
	case now.Before(p.SalesOpenAt):
		return SalesSoon
	case !now.Before(p.SalesCloseAt):
		return SalesClosed
	case p.Paused:
		return SalesPaused
	default:
		return SalesOpen
	}
}

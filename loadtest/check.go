package loadtest

import (
	"context"
	"fmt"

	"festa/db"
)

// Confirmed is a confirm that was answered 2xx: the student and the
// ticket its HX-Redirect named ("" when it named the ticket list).
type Confirmed struct {
	StudentNo string `json:"student_no"`
	TicketID  string `json:"ticket_id"`
}

// Check is one invariant and whether the database keeps it.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// CheckInvariants reads what a spike left in the database for the
// performance and checks the sale's promises: every sold seat has its one
// active ticket and every active ticket its sold seat, no seat has two,
// nobody has more than the limit, and every confirm the server answered
// with success has its ticket.
//
// The queries are written here, against the tables, rather than through
// db's booking functions: the check is an audit of that code and must not
// share its mistakes.
func CheckInvariants(ctx context.Context, store *db.Store, performanceID int64, confirmed []Confirmed) ([]Check, error) {
	var tickets, sold, seatsWithout, ticketsWithout, twice, over, missing int
	err := store.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM tickets WHERE performance_id = $1 AND status = 'active'),
		(SELECT count(*) FROM performance_seats WHERE performance_id = $1 AND state = 'sold'),
		(SELECT count(*) FROM performance_seats ps WHERE ps.performance_id = $1 AND ps.state = 'sold'
			AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.performance_id = ps.performance_id AND t.seat_id = ps.seat_id
				AND t.status = 'active' AND (t.student_id IS NULL OR t.student_id = ps.student_id))),
		(SELECT count(*) FROM tickets t WHERE t.performance_id = $1 AND t.status = 'active'
			AND NOT EXISTS (SELECT 1 FROM performance_seats ps WHERE ps.performance_id = t.performance_id
				AND ps.seat_id = t.seat_id AND ps.state = 'sold')),
		(SELECT count(*) FROM (SELECT seat_id FROM tickets WHERE performance_id = $1 AND status = 'active'
			GROUP BY seat_id HAVING count(*) > 1) d),
		(SELECT count(*) FROM (SELECT student_id FROM tickets WHERE performance_id = $1 AND status = 'active'
			AND student_id IS NOT NULL GROUP BY student_id
			HAVING count(*) > (SELECT ticket_limit FROM performances WHERE id = $1)) o)`,
		performanceID).Scan(&tickets, &sold, &seatsWithout, &ticketsWithout, &twice, &over)
	if err != nil {
		return nil, fmt.Errorf("loadtest: check: %w", err)
	}
	nos := make([]string, len(confirmed))
	ids := make([]string, len(confirmed))
	for i, c := range confirmed {
		nos[i], ids[i] = c.StudentNo, c.TicketID
	}
	err = store.Pool.QueryRow(ctx, `SELECT count(*) FROM unnest($2::text[], $3::text[]) AS c(no, id)
		WHERE NOT EXISTS (SELECT 1 FROM tickets t JOIN students s ON s.id = t.student_id
			WHERE t.performance_id = $1 AND t.status = 'active' AND s.student_no = c.no
			AND (c.id = '' OR t.id::text = c.id))`, performanceID, nos, ids).Scan(&missing)
	if err != nil {
		return nil, fmt.Errorf("loadtest: check confirms: %w", err)
	}
	return []Check{
		{"tickets = seats sold", tickets == sold && seatsWithout == 0 && ticketsWithout == 0,
			fmt.Sprintf("%d active tickets, %d seats sold; %d sold seats without their ticket, %d tickets without their sold seat", tickets, sold, seatsWithout, ticketsWithout)},
		{"no seat twice", twice == 0, fmt.Sprintf("%d seats with more than one active ticket", twice)},
		{"nobody over the limit", over == 0, fmt.Sprintf("%d students over the ticket limit", over)},
		{"every 2xx confirm has its ticket", missing == 0, fmt.Sprintf("%d of %d successful confirms without their active ticket", missing, len(confirmed))},
	}, nil
}

// allOK reports whether every check passed.
func allOK(checks []Check) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return len(checks) > 0
}

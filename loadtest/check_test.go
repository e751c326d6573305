package loadtest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"festa/db"
	"festa/db/dbtest"
)

// TestInvariantChecksCatchPlantedViolations plants each broken promise in
// an otherwise clean sale and expects exactly that check to fail: a check
// that cannot fail proves nothing.
func TestInvariantChecksCatchPlantedViolations(t *testing.T) {
	cases := []struct {
		name   string
		broken []string // the checks that must fail
		plant  func(t *testing.T, p planted) []Confirmed
	}{
		{"clean sale", nil, func(t *testing.T, p planted) []Confirmed { return nil }},
		{"sold seat without its ticket", []string{"tickets = seats sold"}, func(t *testing.T, p planted) []Confirmed {
			p.unguard(t)
			p.exec(t, `UPDATE performance_seats SET state = 'sold', student_id = $2
				WHERE performance_id = $1 AND seat_id = $3`, p.perf, p.student[1], p.seat[1])
			return nil
		}},
		{"ticket without its sold seat", []string{"tickets = seats sold"}, func(t *testing.T, p planted) []Confirmed {
			p.ticket(t, p.seat[1], p.student[1])
			return nil
		}},
		{"seat sold twice", []string{"no seat twice", "tickets = seats sold"}, func(t *testing.T, p planted) []Confirmed {
			// The unique index forbids this; drop it in this throwaway
			// database so the checker, not the index, must notice.
			p.exec(t, `DROP INDEX tickets_one_active_per_seat`)
			p.ticket(t, p.seat[0], p.student[1])
			return nil
		}},
		{"student over the limit", []string{"nobody over the limit"}, func(t *testing.T, p planted) []Confirmed {
			p.unguard(t)
			p.exec(t, `UPDATE performance_seats SET state = 'sold', student_id = $2
				WHERE performance_id = $1 AND seat_id = $3`, p.perf, p.student[0], p.seat[1])
			p.ticket(t, p.seat[1], p.student[0])
			return nil
		}},
		{"confirm without its ticket", []string{"every 2xx confirm has its ticket"}, func(t *testing.T, p planted) []Confirmed {
			return []Confirmed{{StudentNo: p.no[1], TicketID: "9b2f1c64-6a57-4c43-9d1e-2b8f3f6b7a10"}}
		}},
		{"confirm naming another's ticket", []string{"every 2xx confirm has its ticket"}, func(t *testing.T, p planted) []Confirmed {
			return []Confirmed{{StudentNo: p.no[1], TicketID: p.firstTicket}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := plantSale(t)
			claims := append([]Confirmed{{StudentNo: p.no[0], TicketID: p.firstTicket}}, tc.plant(t, p)...)
			checks, err := CheckInvariants(context.Background(), p.store, p.perf, claims)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if want := !slices.Contains(tc.broken, c.Name); c.OK != want {
					t.Errorf("%q ok = %v, want %v (%s)", c.Name, c.OK, want, c.Detail)
				}
			}
			if allOK(checks) != (len(tc.broken) == 0) {
				t.Errorf("allOK = %v", allOK(checks))
			}
		})
	}
}

// planted is a clean sale: student 0 holds a ticket for seat 0; seats 1
// and 2 are free; student 1 has nothing.
type planted struct {
	store       *db.Store
	perf        int64
	seat        []int64
	student     []int64
	no          []string
	firstTicket string
}

func plantSale(t *testing.T) planted {
	t.Helper()
	ctx := context.Background()
	store := dbtest.New(t)
	s, err := Prepare(ctx, store, SetupOptions{Students: 2, Seats: 3, OpenIn: -time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := planted{store: store, perf: s.PerformanceID}
	for _, label := range s.Seats {
		var id int64
		if err := store.Pool.QueryRow(ctx, `SELECT seat_id FROM performance_seats ps JOIN seats st ON st.id = ps.seat_id
			WHERE ps.performance_id = $1 AND st.label = $2`, s.PerformanceID, label).Scan(&id); err != nil {
			t.Fatal(err)
		}
		p.seat = append(p.seat, id)
	}
	for _, c := range s.Students {
		var id int64
		if err := store.Pool.QueryRow(ctx, `SELECT id FROM students WHERE student_no = $1`, c.No).Scan(&id); err != nil {
			t.Fatal(err)
		}
		p.student, p.no = append(p.student, id), append(p.no, c.No)
	}
	// The ticket first: the seat's deferred check wants it at the commit.
	p.firstTicket = p.ticket(t, p.seat[0], p.student[0])
	p.exec(t, `UPDATE performance_seats SET state = 'sold', student_id = $2 WHERE performance_id = $1 AND seat_id = $3`,
		p.perf, p.student[0], p.seat[0])
	return p
}

// unguard turns off the seat triggers that refuse a sale without its
// ticket or over the limit, in this throwaway database, so that what is
// planted reaches the table and the checker alone must notice it.
func (p planted) unguard(t *testing.T) {
	t.Helper()
	p.exec(t, `ALTER TABLE performance_seats DISABLE TRIGGER USER`)
}

func (p planted) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := p.store.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// ticket inserts an active ticket as Confirm would, without the seat.
func (p planted) ticket(t *testing.T, seat, student int64) string {
	t.Helper()
	var id string
	err := p.store.Pool.QueryRow(context.Background(), `INSERT INTO tickets (id, performance_id, seat_id, student_id, key_id, token)
		VALUES (gen_random_uuid(), $1, $2, $3, 'k', 't') RETURNING id::text`, p.perf, seat, student).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(id, "-") {
		t.Fatalf("ticket id %q", id)
	}
	return id
}

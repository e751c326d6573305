package db_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"festa/db"
)

// heldLabels are the seats of perf held by student, in label order.
func (f *fixture) heldLabels(perf, student int64) []string {
	f.t.Helper()
	rows, err := f.store.Pool.Query(context.Background(), `SELECT s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND ps.student_id = $2 AND ps.state = 'held' ORDER BY s.label`, perf, student)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		rows.Scan(&l)
		out = append(out, l)
	}
	return out
}

// lockSeats holds the row locks of the labelled seats in an open
// transaction, as bookings in flight do, until the returned func is
// called.
func (f *fixture) lockSeats(perf int64, labels ...string) func() {
	f.t.Helper()
	ctx := context.Background()
	tx, err := f.store.Pool.Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND s.label = ANY($2) FOR UPDATE OF ps`, perf, labels); err != nil {
		f.t.Fatal(err)
	}
	return func() { tx.Rollback(ctx) }
}

// "Best available" holds the first candidate that is free and not being
// booked this instant, skipping taken and locked seats without waiting,
// and falls back to the front-most free regular seat.
func TestHoldBestTakesTheFirstFreeCandidate(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	perf := f.opening.ID

	res, err := f.store.HoldBest(ctx, perf, []string{"C5", "A1"}, f.alice, student)
	if err != nil || res.Seat.Label != "C5" || res.Seat.State != "held" {
		t.Fatalf("first pick: %+v, %v; want C5 held", res.Seat, err)
	}

	// C5 is taken and C6 is being booked by someone else this instant: bob
	// gets C7 at once, without waiting for C6's booking to finish.
	unlock := f.lockSeats(perf, "C6")
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	res, err = f.store.HoldBest(wait, perf, []string{"C5", "C6", "C7"}, f.bob, student)
	cancel()
	unlock()
	if err != nil || res.Seat.Label != "C7" {
		t.Fatalf("bob past a taken and a locked seat: %+v, %v; want C7", res.Seat, err)
	}

	// Every candidate gone: the front-most free regular seat.
	carol := f.student("10103")
	var front string
	if err := f.store.Pool.QueryRow(ctx, `SELECT s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND ps.state = 'available' AND s.kind <> 'accessible'
		ORDER BY s.y, s.x LIMIT 1`, perf).Scan(&front); err != nil {
		t.Fatal(err)
	}
	res, err = f.store.HoldBest(ctx, perf, []string{"C5", "C7", "ZZ999"}, carol, student)
	if err != nil || res.Seat.Label != front {
		t.Fatalf("no candidate free: %+v, %v; want the front-most free seat %s", res.Seat, err, front)
	}

	// At the limit of one, a new pick replaces the old hold.
	res, err = f.store.HoldBest(ctx, perf, []string{"D1"}, f.alice, student)
	if err != nil || res.Seat.Label != "D1" || fmt.Sprint(res.Released) != "[C5]" {
		t.Fatalf("alice's second pick: %+v released %v, %v; want D1 replacing C5", res.Seat, res.Released, err)
	}
	if got := f.heldLabels(perf, f.alice); fmt.Sprint(got) != "[D1]" {
		t.Errorf("alice holds %v, want [D1]", got)
	}
}

// "Best available" refused: sales paused, every free seat being booked
// right now (busy), nothing free (sold out). Each says why and writes
// nothing.
func TestHoldBestRefusals(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	perf := f.opening.ID

	f.exec(`UPDATE performances SET paused = true WHERE id = $1`, perf)
	before := f.state()
	if _, err := f.store.HoldBest(ctx, perf, []string{"A1"}, f.alice, student); !errors.Is(err, db.ErrSalesPaused) {
		t.Errorf("paused: %v, want ErrSalesPaused", err)
	}
	if f.state() != before {
		t.Error("a paused best-available changed the database")
	}
	f.exec(`UPDATE performances SET paused = false WHERE id = $1`, perf)

	// All but two seats out of sale; those two are being booked by others.
	f.exec(`UPDATE performance_seats ps SET state = 'blocked', student_id = NULL FROM seats s
		WHERE s.id = ps.seat_id AND ps.performance_id = $1 AND ps.state = 'available' AND s.label NOT IN ('B1', 'B2')`, perf)
	unlock := f.lockSeats(perf, "B1", "B2")
	before = f.state()
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, err := f.store.HoldBest(wait, perf, []string{"A1", "B1"}, f.alice, student)
	cancel()
	if !errors.Is(err, db.ErrSeatBusy) {
		t.Errorf("every free seat being booked: %v, want ErrSeatBusy", err)
	}
	if f.state() != before {
		t.Error("a busy best-available changed the database")
	}
	unlock()

	f.exec(`UPDATE performance_seats ps SET state = 'blocked' FROM seats s
		WHERE s.id = ps.seat_id AND ps.performance_id = $1 AND s.label IN ('B1', 'B2')`, perf)
	before = f.state()
	if _, err := f.store.HoldBest(ctx, perf, []string{"A1"}, f.alice, student); !errors.Is(err, db.ErrSoldOut) {
		t.Errorf("nothing free: %v, want ErrSoldOut", err)
	}
	if f.state() != before {
		t.Error("a sold-out best-available changed the database")
	}
}

// A crowd pressing "best available" at once with the same ranking gets
// the best seats one each: nobody is refused while seats are left, nobody
// gets two, and the seats taken are exactly the best ones.
func TestHoldBestSpreadsACrowd(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	perf := f.opening.ID
	rows, err := f.store.Pool.Query(ctx, `SELECT id FROM students WHERE enabled ORDER BY id LIMIT 40`)
	if err != nil {
		t.Fatal(err)
	}
	var students []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		students = append(students, id)
	}
	rows.Close()
	var ranking []string
	for _, row := range "DEFGH" {
		for n := 1; n <= 20; n++ {
			ranking = append(ranking, fmt.Sprintf("%c%d", row, n))
		}
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(students))
	for _, st := range students {
		wg.Go(func() {
			<-start
			if _, err := f.store.HoldBest(ctx, perf, ranking, st, db.Actor{Kind: "student", ID: st}); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a student of the crowd was refused: %v", err)
	}

	held, err := f.store.Pool.Query(ctx, `SELECT s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		WHERE ps.performance_id = $1 AND ps.state = 'held'`, perf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for held.Next() {
		var l string
		held.Scan(&l)
		got = append(got, l)
	}
	held.Close()
	want := append([]string(nil), ranking[:len(students)]...)
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the crowd holds %v, want the %d best %v", got, len(students), want)
	}
	if n := f.count(`SELECT count(*) FROM (SELECT student_id FROM performance_seats WHERE performance_id = $1 AND state = 'held'
		GROUP BY student_id HAVING count(*) > 1) x`, perf); n != 0 {
		t.Errorf("%d students hold more than one seat", n)
	}
}

package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"festa/db"
)

// Bookings of different seats no longer wait for each other (migration
// 012), so the change feed cannot be a commit-ordered counter. A reader
// that follows SeatBatchSince from horizon to horizon while 16 students
// hold and release seats in parallel must end with exactly the database's
// state of every seat, and must never be handed an older state of a seat
// than one it already has.
func TestSeatBatchesMissNothingUnderParallelBookings(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	seats, horizon, err := f.store.PerformanceSeats(ctx, f.opening.ID)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]db.SeatState{}
	for _, s := range seats {
		known[s.Label] = s
	}
	var ids []int64
	for i := range 16 {
		ids = append(ids, f.student(fmt.Sprintf("101%02d", i+1)))
	}
	labels := []string{"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4"}

	var done atomic.Bool
	var writers sync.WaitGroup
	for _, id := range ids {
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			a := db.Actor{Kind: "student", ID: id}
			for range 40 {
				l := labels[rng.IntN(len(labels))]
				if _, err := f.store.Hold(ctx, f.opening.ID, l, id, a); err == nil {
					f.store.Release(ctx, f.opening.ID, l, id, a)
				}
			}
		})
	}
	read := func() {
		b, err := f.store.SeatBatchSince(ctx, f.opening.ID, horizon)
		if err != nil {
			t.Error(err)
			return
		}
		if b.Horizon < horizon {
			t.Errorf("horizon went back from %d to %d", horizon, b.Horizon)
		}
		horizon = b.Horizon
		for _, s := range b.Seats {
			if old := known[s.Label]; s.Version < old.Version {
				t.Errorf("%s: batch brought version %d after %d", s.Label, s.Version, old.Version)
			} else {
				known[s.Label] = s
			}
		}
	}
	var reader sync.WaitGroup
	batches := 0
	reader.Go(func() {
		for !done.Load() {
			read()
			batches++
		}
	})
	writers.Wait()
	done.Store(true)
	reader.Wait()
	read() // the last wake-up after the last commit

	final, _, err := f.store.PerformanceSeats(ctx, f.opening.ID)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, s := range final {
		k := known[s.Label]
		if k.State != s.State || k.StudentID != s.StudentID || k.Version != s.Version {
			t.Errorf("%s: reader has %s/%d v%d, database %s/%d v%d", s.Label, k.State, k.StudentID, k.Version, s.State, s.StudentID, s.Version)
		}
		if s.Version > 0 {
			changed++
		}
	}
	if changed < len(labels)/2 || batches < 5 {
		t.Fatalf("only %d seats changed over %d batches: the test did not race", changed, batches)
	}
}

// One student on several phones taps seats in parallel: the ticket limit
// holds at every moment, because a student's bookings take the student's
// lock (they no longer all queue on the performance's).
func TestParallelHoldsOfOneStudentKeepTheLimit(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(`UPDATE performances SET ticket_limit = 2 WHERE id = $1`, f.opening.ID)
	a := db.Actor{Kind: "student", ID: f.alice}
	var over atomic.Int64
	var phones sync.WaitGroup
	for p := range 8 {
		phones.Go(func() {
			for i := range 25 {
				l := fmt.Sprintf("%c%d", 'D'+p, i%10+1)
				if _, err := f.store.Hold(ctx, f.opening.ID, l, f.alice, a); err != nil {
					t.Errorf("hold %s: %v", l, err)
					return
				}
				var n int64
				f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM performance_seats WHERE performance_id = $1
					AND student_id = $2 AND state = 'held' AND held_until > now()`, f.opening.ID, f.alice).Scan(&n)
				if n > 2 {
					over.Add(1)
				}
			}
		})
	}
	phones.Wait()
	if over.Load() > 0 {
		t.Fatalf("the student held more than the limit of 2 at %d moments", over.Load())
	}
	if n := f.count(`SELECT count(*) FROM performance_seats WHERE performance_id = $1 AND student_id = $2`, f.opening.ID, f.alice); n != 2 {
		t.Fatalf("the student ends with %d seats, want the limit, 2", n)
	}
}

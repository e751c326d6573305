package realtime_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/passhash"
	"festa/realtime"
)

func TestSweepFreesExpiredHoldsAndReports(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, store, demo.Options{Students: 2, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	perf, _ := store.PerformanceBySlug(ctx, "opening")
	var student int64
	store.Pool.QueryRow(ctx, `SELECT id FROM students LIMIT 1`).Scan(&student)
	if _, err := store.Hold(ctx, perf.ID, "A1", student, db.Actor{Kind: "student", ID: student}); err != nil {
		t.Fatal(err)
	}
	store.Pool.Exec(ctx, `UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE state = 'held'`)
	got := make(chan []int64, 1)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go realtime.SweepHolds(sctx, store, 20*time.Millisecond, func(ids []int64) { got <- ids }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	select {
	case ids := <-got:
		if len(ids) != 1 || ids[0] != perf.ID {
			t.Errorf("sweep reported %v, want [%d]", ids, perf.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sweeper did not report the expired hold")
	}
	var held int
	store.Pool.QueryRow(ctx, `SELECT count(*) FROM performance_seats WHERE state = 'held'`).Scan(&held)
	if held != 0 {
		t.Errorf("%d holds left after the sweep", held)
	}
}

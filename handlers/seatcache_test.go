package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"festa/db"
)

// A crowd of best-available taps shares one reading of the seats; a
// reading older than seatsFresh, or one that failed, is read again.
func TestSeatSnapshotsShareOneReading(t *testing.T) {
	var c seatSnapshots
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) ([]db.SeatState, error) {
		loads.Add(1)
		<-release
		return []db.SeatState{{Label: "A1"}}, nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			seats, err := c.get(context.Background(), 7, load)
			if err != nil || len(seats) != 1 {
				t.Errorf("get: %v %v", seats, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("50 taps at once read the seats %d times, want once", n)
	}
	c.get(context.Background(), 7, load)
	if n := loads.Load(); n != 1 {
		t.Fatalf("a fresh reading was read again (%d)", n)
	}
	time.Sleep(seatsFresh + 10*time.Millisecond)
	c.get(context.Background(), 7, load)
	if n := loads.Load(); n != 2 {
		t.Fatalf("a stale reading was used (%d loads)", n)
	}
	c.get(context.Background(), 8, load)
	if n := loads.Load(); n != 3 {
		t.Fatalf("another performance shared the reading (%d loads)", n)
	}
}

package realtime

import (
	"context"
	"testing"
	"time"
)

// A hub's window widens with what fanning out its last batch cost, so a
// crowd's updates never take more than the fan-out budget of CPU; a small
// audience keeps the configured window, and no crowd waits past MaxWindow.
func TestWindowFollowsTheFanoutBudget(t *testing.T) {
	b := NewBroker(Config{Window: 50 * time.Millisecond, FanoutBudget: 0.5, MaxWindow: 400 * time.Millisecond})
	h := &hub{b: b}
	for _, c := range []struct {
		cost, want time.Duration
	}{
		{0, 50 * time.Millisecond},                       // nobody watching yet
		{10 * time.Millisecond, 50 * time.Millisecond},   // 20 ms of budget: the window is longer anyway
		{50 * time.Millisecond, 100 * time.Millisecond},  // 5,000 viewers at 10 µs a write
		{150 * time.Millisecond, 300 * time.Millisecond}, // 15,000
		{time.Second, 400 * time.Millisecond},            // never past MaxWindow
	} {
		h.batchCost = c.cost
		if got := h.window(); got != c.want {
			t.Errorf("batch cost %v: window %v, want %v", c.cost, got, c.want)
		}
	}
	// publish takes the cost from what the sockets spent since the last
	// batch, and starts counting afresh.
	h = newHub(b, 1)
	h.spent.Add(int64(30 * time.Millisecond))
	h.publish(&delta{render: func(context.Context, *builder) error { return nil }})
	if h.window() != 60*time.Millisecond || h.spent.Load() != 0 {
		t.Errorf("window %v after 30 ms of writes, want 60 ms", h.window())
	}
}

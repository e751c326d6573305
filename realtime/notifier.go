package realtime

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"festa/db"
)

// Waker is told that a performance's seats may have changed; a Broker is
// one. Wake must not block.
type Waker interface {
	Wake(performanceID int64)
}

// notifyWindow is how long the Notifier lets pokes gather before it
// notifies: a burst of commits costs one NOTIFY per performance.
const notifyWindow = 5 * time.Millisecond

// Notifier is the handlers' SeatNotifier: after a seat change has
// committed, Poke wakes this instance's viewers at once (through the local
// Waker) and the other instances' through NOTIFY festa_seats.
//
// The NOTIFY runs outside the booking transaction (see db.NotifySeats), on
// Run's goroutine, batched per window. If it fails, or is lost, the other
// instances still catch up from the change log within their periodic
// catch-up; the failure is logged here, once per streak.
type Notifier struct {
	store *db.Store
	local Waker // nil when this process shows no viewers
	log   *slog.Logger

	mu      sync.Mutex
	pending map[int64]struct{}
	// checkIns are the performances with admissions to announce
	// (PokeCheckIns), sent in the same window as the seat changes.
	checkIns map[int64]struct{}
	kick     chan struct{}
}

// CheckInWaker is a Waker that can also be told of admissions at the doors
// (a Broker is one); see Notifier.PokeCheckIns.
type CheckInWaker interface {
	WakeCheckIns(performanceID int64)
}

// NewNotifier returns a Notifier; run it with Run. local may be nil.
func NewNotifier(store *db.Store, local Waker, log *slog.Logger) *Notifier {
	return &Notifier{store: store, local: local, log: log, pending: make(map[int64]struct{}),
		checkIns: make(map[int64]struct{}), kick: make(chan struct{}, 1)}
}

// Poke records that the performance's seats changed and committed. It
// never blocks.
func (n *Notifier) Poke(performanceID int64) {
	if n.local != nil {
		n.local.Wake(performanceID)
	}
	n.mu.Lock()
	n.pending[performanceID] = struct{}{}
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// PokeCheckIns records that tickets of the performance were let in at a
// door and the check-ins committed: this instance's gate scanners and
// projection screen recount at once (when the local Waker is a
// CheckInWaker), the other instances' with NOTIFY festa_seats
// "checkin:{id}" (db.NotifyCheckIns) in the next window. It never blocks.
func (n *Notifier) PokeCheckIns(performanceID int64) {
	if w, ok := n.local.(CheckInWaker); ok {
		w.WakeCheckIns(performanceID)
	}
	n.mu.Lock()
	n.checkIns[performanceID] = struct{}{}
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Run sends the NOTIFYs until ctx ends, then sends what is still pending
// (within a second) and returns.
func (n *Notifier) Run(ctx context.Context) {
	window := time.NewTimer(time.Hour)
	window.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			n.flush(final, &failing)
			cancel()
			return
		case <-n.kick:
		}
		window.Reset(notifyWindow)
		select {
		case <-window.C:
		case <-ctx.Done():
			window.Stop()
			continue // the final flush above sends it
		}
		n.flush(ctx, &failing)
	}
}

func (n *Notifier) flush(ctx context.Context, failing *bool) {
	n.mu.Lock()
	ids := slices.Collect(maps.Keys(n.pending))
	clear(n.pending)
	checkIns := slices.Collect(maps.Keys(n.checkIns))
	clear(n.checkIns)
	n.mu.Unlock()
	if len(ids) == 0 && len(checkIns) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := errors.Join(n.store.NotifySeats(ctx, ids), n.store.NotifyCheckIns(ctx, checkIns))
	switch {
	case err != nil && !*failing:
		n.log.Error("live: notify other instances (they catch up from the change log)", "performances", ids,
			"check_ins", checkIns, "error", err)
		*failing = true
	case err == nil && *failing:
		n.log.Info("live: notifying other instances again")
		*failing = false
	}
}

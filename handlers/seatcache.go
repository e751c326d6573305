package handlers

import (
	"context"
	"sync"
	"time"

	"festa/db"
)

// seatsFresh is how old a performance's seats may be when "best
// available" picks from them, or an answer counts them, on an instance
// where nobody watches the performance live. The hold decides (the
// database refuses a taken seat and the picker tries another), so a
// picture this old only ever costs a retry; the counts it gives are
// corrected by the seats the answer read itself, and by the page's
// socket at its next batch.
const seatsFresh = 200 * time.Millisecond

// hallNow returns the performance's seats as this instance knows them
// without reading the hall for the asking: the live map's, when someone
// here watches it (realtime.Broker.Seats: never older than what the
// page's socket was already sent, so an answer counted from them cannot
// set the page's counts back), else one reading at most seatsFresh old,
// shared by every tap. Read them; never change them.
func (h *Handler) hallNow(ctx context.Context, perfID int64) ([]db.SeatState, error) {
	if h.live != nil {
		if seats := h.live.Seats(perfID); seats != nil {
			return seats, nil
		}
	}
	return h.recentSeats.get(ctx, perfID, func(ctx context.Context) ([]db.SeatState, error) {
		seats, _, err := h.store.PerformanceSeats(ctx, perfID)
		return seats, err
	})
}

// seatSnapshots shares one reading of a performance's seats among the
// taps of this instance: at the opening, hundreds arrive
// in the same instant, and each reading all the hall's seats made the
// database do the same work hundreds of times over.
type seatSnapshots struct {
	mu sync.Mutex
	m  map[int64]*seatSnapshot
}

type seatSnapshot struct {
	ready chan struct{} // closed when seats and err are set
	at    time.Time
	seats []db.SeatState
	err   error
}

// get returns the performance's seats read at most seatsFresh ago,
// reading them with load when there is no such reading; callers arriving
// while a reading is under way wait for it. The seats are shared: read
// them, never change them.
func (c *seatSnapshots) get(ctx context.Context, perfID int64, load func(context.Context) ([]db.SeatState, error)) ([]db.SeatState, error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64]*seatSnapshot{}
	}
	s := c.m[perfID]
	if s != nil {
		select {
		case <-s.ready:
			if s.err != nil || time.Since(s.at) > seatsFresh {
				s = nil
			}
		default: // being read: wait for it below
		}
	}
	if s == nil {
		s = &seatSnapshot{ready: make(chan struct{})}
		c.m[perfID] = s
		c.mu.Unlock()
		// The reading outlives a request that gives up: the others wait on it.
		s.seats, s.err = load(context.WithoutCancel(ctx))
		s.at = time.Now()
		close(s.ready)
		return s.seats, s.err
	}
	c.mu.Unlock()
	select {
	case <-s.ready:
		return s.seats, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

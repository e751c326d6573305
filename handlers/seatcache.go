package handlers

import (
	"context"
	"sync"
	"time"

	"festa/db"
)

// seatsFresh is how old a performance's seats may be when "best
// available" picks from them. The hold decides (the database refuses a
// taken seat and the picker tries another), so a picture this old only
// ever costs a retry.
const seatsFresh = 200 * time.Millisecond

// seatSnapshots shares one reading of a performance's seats among the
// best-available taps of this instance: at the opening, hundreds arrive
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

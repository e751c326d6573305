package handlers

import (
	"math/rand/v2"
	"sync"
	"time"
)

// claimFor is how long a seat stays claimed after a tap of this instance
// held it: longer than the hall picture "best available" chooses from
// lags behind the database (seatsFresh, or the live map's batch window),
// so a seat just held here is not offered again before the picture shows
// it taken.
const claimFor = 2 * time.Second

// seatClaims are the seats this instance's taps are holding right now, or
// held a moment ago. At the opening hundreds press "best available" in the
// same instant and all see the same free seats in the hall picture. Left
// alone they all went for the same best seat, queued on its row lock in
// the database, and all but one were refused and tried again (or gave up
// with "busy"). Choosing and claiming under one lock (pick) sends each to
// a different seat, and away from the seats students here are tapping
// (claim).
//
// Claims only steer the choice: the database still decides every hold, and
// a student on another instance may win a seat claimed here (the hold is
// then refused, and "best available" tries another). A tap of a seat
// another tap here is holding is not made to wait for it in the instance:
// measured, that freed nothing the burst lacked (docs/BENCHMARKS.md).
type seatClaims struct {
	mu     sync.Mutex
	m      map[claimKey]*seatClaim
	pruned time.Time
}

type claimKey struct {
	perf  int64
	label string
}

type seatClaim struct {
	inFlight int       // holds of the seat under way here
	until    time.Time // claimed until then once none is under way
}

func (e *seatClaim) claimed(now time.Time) bool { return e.inFlight > 0 || now.Before(e.until) }

// claim marks a seat a tap of this instance is about to hold (one the
// student chose), until settle.
func (c *seatClaims) claim(perf int64, label string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entryLocked(claimKey{perf, label}, now).inFlight++
}

// settle ends a claim (of claim or pick) once its hold is answered. A
// seat held, or found gone (keep), stays claimed for claimFor; a seat
// whose hold was refused for another reason (the student's limit, sales
// paused) is free for the others at once.
func (c *seatClaims) settle(perf int64, label string, now time.Time, keep bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := claimKey{perf, label}
	e := c.m[k]
	if e == nil || e.inFlight == 0 {
		return // not claimed: nothing to end
	}
	e.inFlight--
	if keep {
		e.until = now.Add(claimFor)
	}
	if !e.claimed(now) {
		delete(c.m, k)
	}
}

// freed ends the claim of a seat its holder gave back: offer it at once.
func (c *seatClaims) freed(perf int64, label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := claimKey{perf, label}
	e := c.m[k]
	if e == nil {
		return
	}
	e.until = time.Time{}
	if e.inFlight == 0 {
		delete(c.m, k)
	}
}

// pick chooses at random among the first spread of ranked (best first,
// not empty) that are not claimed, claims it (settle ends that) and
// returns it. When every one is claimed it chooses among the first spread
// regardless: a claim may outlive its hold (one refused for a seat taken
// on another instance, say), and the last free seats must still be
// offered.
func (c *seatClaims) pick(perf int64, ranked []string, spread int, now time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	free := make([]string, 0, spread)
	for _, l := range ranked {
		if e := c.m[claimKey{perf, l}]; e != nil && e.claimed(now) {
			continue
		}
		if free = append(free, l); len(free) == spread {
			break
		}
	}
	if len(free) == 0 {
		free = ranked[:min(spread, len(ranked))]
	}
	label := free[rand.IntN(len(free))]
	c.entryLocked(claimKey{perf, label}, now).inFlight++
	return label
}

func (c *seatClaims) entryLocked(k claimKey, now time.Time) *seatClaim {
	if c.m == nil {
		c.m = map[claimKey]*seatClaim{}
	}
	// Claims run out by themselves; sweep the dead ones now and then so
	// the map stays as small as the seats tapped in the last moments.
	if now.Sub(c.pruned) >= claimFor {
		for k, e := range c.m {
			if !e.claimed(now) {
				delete(c.m, k)
			}
		}
		c.pruned = now
	}
	e := c.m[k]
	if e == nil {
		e = &seatClaim{}
		c.m[k] = e
	}
	return e
}

package handlers

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errSignInBusy means a sign-in waited for a check slot as long as it may
// (signInGate.wait, or until the request ended) without getting one.
var errSignInBusy = errors.New("sign-in busy")

// signInGate bounds the work sign-ins make this instance do, so neither a
// crowd nor a flood can take the memory and CPU that pages need.
//
// An argon2id check of an access code takes passhash.Code's 2 MiB and
// about 1.5 ms of a core; one of a staff password passhash.Default's
// 19 MiB and about 20 ms. At most len(slots) checks run at once (half the cores, at least
// one); the rest wait their turn, first come first served, for at most
// wait, and are then told to try again in a moment. A slot is held from
// counting the attempt (db.BeginLogin) to the end of the check, so the
// sign-ins touching the database at once are bounded too and the pool
// keeps connections for pages.
//
// An address that has sent floodFailures failed sign-ins in its window is
// flooding: its sign-ins first queue in a lane of their own, one at a time,
// so it holds at most one slot and everyone else keeps the rest. Correct
// codes from that address (a school behind one NAT address) still get in,
// only more slowly. A device (a browser's CSRF cookie) may have one
// sign-in in flight; a second one at the same time is refused at once.
//
// All of this is per instance; the failure budgets in PostgreSQL hold
// across instances.
type signInGate struct {
	slots chan struct{}
	wait  time.Duration

	mu       sync.Mutex
	devices  map[string]bool      // devices with a sign-in in flight
	lanes    map[string]*lane     // flooding addresses with sign-ins queued or running
	flooding map[string]time.Time // flooding addresses and when their window ends
}

// lane lets one sign-in of a flooding address at a time into the queue for
// slots; users counts the sign-ins holding or waiting for it, and the last
// one out removes it.
type lane struct {
	turn  chan struct{}
	users int
}

// floodFailures is how many failed sign-ins in an address's window make it
// flooding. It is well above a school's typing mistakes at the opening
// minute and well below what a script sends in one.
const floodFailures = 100

func newSignInGate(slots int, wait time.Duration) *signInGate {
	return &signInGate{
		slots:    make(chan struct{}, max(slots, 1)),
		wait:     wait,
		devices:  map[string]bool{},
		lanes:    map[string]*lane{},
		flooding: map[string]time.Time{},
	}
}

// enterDevice marks device as signing in and returns the function that
// unmarks it, or false when it already is.
func (g *signInGate) enterDevice(device string) (func(), bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.devices[device] {
		return nil, false
	}
	g.devices[device] = true
	return func() {
		g.mu.Lock()
		delete(g.devices, device)
		g.mu.Unlock()
	}, true
}

// observe records an address's failure count (from the database, so it
// includes other instances' failures) at now; until is when its window
// ends.
func (g *signInGate) observe(addr string, failures int, now, until time.Time) {
	if failures < floodFailures {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	// Forget addresses whose flood is over, so the map stays as small as
	// the set of addresses flooding now.
	for a, end := range g.flooding {
		if !end.After(now) {
			delete(g.flooding, a)
		}
	}
	g.flooding[addr] = until
}

// acquire waits for a check slot, in addr's lane first when addr is
// flooding at now, and returns the function that gives it back. It fails
// with errSignInBusy when the wait runs out or ctx ends.
func (g *signInGate) acquire(ctx context.Context, addr string, now time.Time) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	leaveLane, err := g.enterLane(ctx, addr, now)
	if err != nil {
		return nil, err
	}
	select {
	case g.slots <- struct{}{}:
		return func() {
			<-g.slots
			leaveLane()
		}, nil
	case <-ctx.Done():
		leaveLane()
		return nil, errSignInBusy
	}
}

// enterLane takes addr's lane when addr is flooding, waiting until ctx
// ends; for any other address it returns at once.
func (g *signInGate) enterLane(ctx context.Context, addr string, now time.Time) (func(), error) {
	g.mu.Lock()
	if end, ok := g.flooding[addr]; !ok || !end.After(now) {
		g.mu.Unlock()
		return func() {}, nil
	}
	l := g.lanes[addr]
	if l == nil {
		l = &lane{turn: make(chan struct{}, 1)}
		g.lanes[addr] = l
	}
	l.users++
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		if l.users--; l.users == 0 {
			delete(g.lanes, addr)
		}
		g.mu.Unlock()
	}
	select {
	case l.turn <- struct{}{}:
		return func() {
			<-l.turn
			leave()
		}, nil
	case <-ctx.Done():
		leave()
		return nil, errSignInBusy
	}
}

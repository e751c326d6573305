package realtime

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/coder/websocket"

	"festa/components"
	"festa/db"
)

// screenKey is the hub of a performance's projection screen: the
// performance id negated, so the screen shares the broker's hubs, its
// wake-ups (Wake pokes both) and the periodic catch-up.
func screenKey(performanceID int64) int64 { return -performanceID }

// ServeScreen is ServePerformance for the projection screen of a
// performance: the whole screen first (every (re)connect gets it all: a
// screen or two per hall, so simplicity beats the bytes), then every
// change. The caller has checked the performance exists and that the
// viewer may see it.
func (b *Broker) ServeScreen(w http.ResponseWriter, r *http.Request, performanceID int64, lang string) {
	b.serve(w, r, screenKey(performanceID), lang, nil)
}

// DropScreens closes this instance's projection screen sockets of the
// performance with 1012, as a restart does: each reconnects at once and
// has its display key checked again, so a revoked or rotated key stops
// showing the screen here within a moment (screen.js then finds the page
// refused and shows the refusal). Screens on other instances keep their
// socket until it next reconnects.
func (b *Broker) DropScreens(performanceID int64) {
	b.mu.RLock()
	h := b.hubs[screenKey(performanceID)]
	b.mu.RUnlock()
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.joining {
		s.drop(websocket.StatusServiceRestart, "display keys changed")
	}
	for _, set := range h.subs {
		for s := range set {
			s.drop(websocket.StatusServiceRestart, "display keys changed")
		}
	}
}

// screenFeed is what the projection screen shows: the seat map (a seatFeed
// whose seats carry no holder tag, drawn as the screen's marks) and the
// counts, doors and ticker of db.ScreenStats.
//
// Admissions change no seat, so they come with no seat change to wake the
// hub: every wake-up re-reads the stats (one small query), and the
// listener's periodic catch-up wakes every hub, so a scan shows within that
// period even when no one pokes the performance.
type screenFeed struct {
	store *db.Store
	seats seatFeed
	stats db.ScreenStats
}

func newScreenFeed(store *db.Store, performanceID int64) *screenFeed {
	f := &screenFeed{store: store}
	f.seats = seatFeed{store: store, id: performanceID, tag: func(int64, int64) string { return "" }}
	f.seats.draw = f.drawSeats
	return f
}

func (f *screenFeed) load(ctx context.Context) error {
	st, err := f.store.ScreenStats(ctx, f.seats.id)
	if err != nil {
		return err
	}
	if err := f.seats.load(ctx); err != nil {
		return err
	}
	f.stats = st
	return nil
}

// refresh reads the stats first, so seats changed since are drawn with
// stats no older than they are; a change the stats missed wakes the hub
// again (its poke comes after its commit).
func (f *screenFeed) refresh(ctx context.Context) (*delta, error) {
	st, err := f.store.ScreenStats(ctx, f.seats.id)
	if err != nil {
		return nil, err
	}
	moved := !sameStats(st, f.stats)
	f.stats = st
	d, err := f.seats.refresh(ctx)
	if err != nil || d != nil || !moved {
		return d, err
	}
	return &delta{render: f.drawSeats(nil, f.seats.occupancy(), f.seats.horizon, time.Now())}, nil
}

func (f *screenFeed) expire(now time.Time) *delta { return f.seats.expire(now) }

func (f *screenFeed) nextExpiry() time.Time { return f.seats.nextExpiry() }

// catchUp always asks for the whole screen: see ServeScreen.
func (f *screenFeed) catchUp(Position) (*delta, bool) { return nil, true }

func (f *screenFeed) full(ctx context.Context, b *builder) error {
	if err := b.add(ctx, "seatmap", components.ScreenHall(f.seats.hall(), true)); err != nil {
		return err
	}
	return addScreenStats(ctx, b, f.seats.occupancy(), screenStats(f.stats))
}

// drawSeats is the screen's seatFeed.draw: the changed seats as the
// screen's marks, then every stats region with the current stats.
func (f *screenFeed) drawSeats(views []components.SeatView, occ components.Occupancy, _ int64, _ time.Time) func(context.Context, *builder) error {
	stats := screenStats(f.stats)
	return func(ctx context.Context, b *builder) error {
		for _, v := range views {
			if err := b.add(ctx, "seat-"+v.Label, components.ScreenSeat(v, true)); err != nil {
				return err
			}
		}
		return addScreenStats(ctx, b, occ, stats)
	}
}

// addScreenStats renders the regions besides the seats. They are a few
// hundred bytes together, so every update sends them all.
func addScreenStats(ctx context.Context, b *builder, occ components.Occupancy, st screenView) error {
	occ.CheckedIn = st.checkedIn
	if err := b.add(ctx, "occupancy", components.ScreenOccupancy(occ, true)); err != nil {
		return err
	}
	if err := b.add(ctx, "screen-status", components.ScreenStatus(st.stats, true)); err != nil {
		return err
	}
	if err := b.add(ctx, "screen-pause", components.ScreenPause(st.stats, true)); err != nil {
		return err
	}
	if err := b.add(ctx, "screen-gates", components.ScreenGates(st.stats.Gates, st.checkedIn, true)); err != nil {
		return err
	}
	return b.add(ctx, "screen-ticker", components.ScreenTicker(st.stats.Recent, true))
}

// screenView is db.ScreenStats as the components take them.
type screenView struct {
	stats     components.ScreenStats
	checkedIn int
}

// ScreenStatsView converts the database's screen stats for the
// components, as the page and the socket both draw them.
func ScreenStatsView(st db.ScreenStats) (components.ScreenStats, int) {
	v := screenStats(st)
	return v.stats, v.checkedIn
}

func screenStats(st db.ScreenStats) screenView {
	v := screenView{checkedIn: st.CheckedIn, stats: components.ScreenStats{Sales: st.Sales, PauseMessage: st.PauseMessage}}
	for _, g := range st.Gates {
		v.stats.Gates = append(v.stats.Gates, components.ScreenGate{Name: g.Gate, Count: g.Count})
	}
	for _, e := range st.Recent {
		v.stats.Recent = append(v.stats.Recent, components.ScreenEvent{At: e.At, Kind: e.Kind, Seat: e.Seat, Gate: e.Gate})
	}
	return v
}

// sameStats reports whether the screen would look the same.
func sameStats(a, b db.ScreenStats) bool {
	return a.Sales == b.Sales && a.PauseMessage == b.PauseMessage && a.CheckedIn == b.CheckedIn &&
		slices.Equal(a.Gates, b.Gates) &&
		slices.EqualFunc(a.Recent, b.Recent, func(x, y db.ScreenEvent) bool {
			return x.At.Equal(y.At) && x.Kind == y.Kind && x.Seat == y.Seat && x.Gate == y.Gate
		})
}

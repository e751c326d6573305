package realtime

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"festa/components"
	"festa/db"
	"festa/sales"
	"festa/seatview"
)

// seatFeed is a performance's seat map: every seat and the occupancy
// counts, kept in memory at the change horizon of the last batch.
//
// The state starts from one snapshot (PerformanceSeats) and moves forward
// only by batches read from the change log, each one snapshot too, so it
// holds every change of every transaction below f.horizon, and no seat
// ever goes back to an older state (a batch's seat replaces the one shown
// only when its version is newer) — except that a hold
// whose time runs out is shown available at that moment, as the page would
// show it, before the sweeper records it.
type seatFeed struct {
	store *db.Store
	id    int64
	tag   func(performanceID, studentID int64) string

	horizon int64
	seats   []db.SeatState // row and seat order, as the page draws them
	index   map[int64]int  // seat id → position in seats
	next    time.Time      // earliest live hold's expiry; zero for none
	// lapsed holds, by position, the expiry of a hold this feed has shown
	// running out on its own clock (zero for none): the change log has no
	// record of it until the sweeper writes one, so catchUp needs it to
	// bring a page drawn while the hold was live up to date.
	lapsed []time.Time
	// unsure marks, by position, the free seats of the first snapshot that
	// have a history: any of them may be a hold that ran out just before
	// loadedAt and is not yet written down (the snapshot shows it free and
	// says no more), so a page drawn before loadedAt may show it held.
	// A later change of the seat clears it.
	unsure   []bool
	loadedAt time.Time

	// sales is the performance's sales state as last read, and banner the
	// key of the #sales-banner last shown (components.SalesBannerView.Key).
	// They change by council action, not through the change log: the hub
	// re-reads them when told (WakeSales), at every periodic catch-up
	// (WakeAll) and before it admits joining viewers.
	sales  db.SalesState
	banner string

	// shown is a copy of seats as last sent to viewers, for Broker.Seats
	// to read from other goroutines (seats itself is the hub's alone).
	shown atomic.Pointer[[]db.SeatState]

	// draw renders a live update of the changed seats with the counts
	// and the position they bring a page to; nil draws the performance
	// page's regions. The projection screen (screenFeed) draws its own.
	draw func(views []components.SeatView, occ components.Occupancy, horizon int64, now time.Time) func(context.Context, *builder) error
}

func (f *seatFeed) load(ctx context.Context) error {
	seats, horizon, err := f.store.PerformanceSeats(ctx, f.id)
	if err != nil {
		return err
	}
	if f.sales, err = f.store.PerformanceSales(ctx, f.id); err != nil {
		return err
	}
	f.banner = f.bannerView(time.Now()).Key()
	f.seats, f.horizon, f.loadedAt = seats, horizon, time.Now()
	f.lapsed = make([]time.Time, len(seats))
	f.unsure = make([]bool, len(seats))
	f.index = make(map[int64]int, len(seats))
	for i, s := range seats {
		f.index[s.SeatID] = i
		f.unsure[i] = s.State == "available" && s.Version > 0
	}
	f.next = f.earliestExpiry()
	f.share()
	return nil
}

// share publishes the seats as they now are for Broker.Seats: a copy,
// made once per batch (a 600-seat hall is a few tens of kilobytes), read
// by every booking answer until the next.
func (f *seatFeed) share() {
	seats := slices.Clone(f.seats)
	f.shown.Store(&seats)
}

func (f *seatFeed) refresh(ctx context.Context) (*delta, error) {
	b, err := f.store.SeatBatchSince(ctx, f.id, f.horizon)
	if err != nil {
		return nil, err
	}
	f.horizon = max(f.horizon, b.Horizon)
	var changed []int
	newer := false
	for _, s := range b.Seats {
		i, ok := f.index[s.SeatID]
		if !ok || s.Version <= f.seats[i].Version {
			continue // an echo of a change already shown
		}
		if !sameView(f.seats[i], s) {
			changed = append(changed, i)
		}
		f.seats[i], f.lapsed[i], f.unsure[i] = s, time.Time{}, false
		newer = true
	}
	f.next = f.earliestExpiry()
	if newer {
		f.share()
	}
	// A seat held and released inside one window looks as it did: nothing
	// to send.
	if len(changed) == 0 {
		return nil, nil
	}
	return f.delta(changed, b.Oldest, time.Now()), nil
}

// bannerView is the pause banner as it is at now.
func (f *seatFeed) bannerView(now time.Time) components.SalesBannerView {
	p := db.Performance{SalesOpenAt: f.sales.OpenAt, SalesCloseAt: f.sales.CloseAt, Paused: f.sales.Paused}
	return components.SalesBannerView{Status: sales.Status(p, now), Message: f.sales.PauseMessage}
}

// refreshSales re-reads the sales state; when the banner it makes at now
// differs from the one shown, every viewer gets the new one.
func (f *seatFeed) refreshSales(ctx context.Context, now time.Time) (*delta, error) {
	st, err := f.store.PerformanceSales(ctx, f.id)
	if err != nil {
		return nil, err
	}
	f.sales = st
	v := f.bannerView(now)
	if v.Key() == f.banner {
		return nil, nil
	}
	f.banner = v.Key()
	return f.bannerDelta(now), nil
}

// bannerDelta is the banner as it is at now, and the position the page
// stands at (every seat map message ends with it).
func (f *seatFeed) bannerDelta(now time.Time) *delta {
	v, horizon := f.bannerView(now), f.horizon
	return &delta{render: func(ctx context.Context, b *builder) error {
		if err := addSales(ctx, b, v); err != nil {
			return err
		}
		return b.add(ctx, components.LiveVersionID, components.LiveVersion(horizon, now, true))
	}}
}

// addSales renders the performance page's sales regions: the banner and
// the badge.
func addSales(ctx context.Context, b *builder, v components.SalesBannerView) error {
	if err := b.add(ctx, "sales-banner", components.SalesBanner(v, true)); err != nil {
		return err
	}
	return b.add(ctx, "sales-pill", components.SalesPill("sales-pill", v.Status, true))
}

// withBanner puts the banner as it is at now in front of d's elements,
// for a page that shows another one.
func (f *seatFeed) withBanner(d *delta, now time.Time) *delta {
	v := f.bannerView(now)
	inner := d.render
	return &delta{oldest: d.oldest, render: func(ctx context.Context, b *builder) error {
		if err := addSales(ctx, b, v); err != nil {
			return err
		}
		return inner(ctx, b)
	}}
}

func (f *seatFeed) expire(now time.Time) *delta {
	if f.next.IsZero() || now.Before(f.next) {
		return nil
	}
	var changed []int
	for i, s := range f.seats {
		if s.State == "held" && !s.HeldUntil.After(now) {
			f.lapsed[i] = s.HeldUntil
			f.seats[i].State, f.seats[i].StudentID, f.seats[i].HeldUntil = "available", 0, time.Time{}
			changed = append(changed, i)
		}
	}
	f.next = f.earliestExpiry()
	if len(changed) == 0 {
		return nil
	}
	f.share()
	return f.delta(changed, time.Time{}, now)
}

func (f *seatFeed) nextExpiry() time.Time { return f.next }

func (f *seatFeed) earliestExpiry() time.Time {
	var next time.Time
	for _, s := range f.seats {
		if s.State == "held" && (next.IsZero() || s.HeldUntil.Before(next)) {
			next = s.HeldUntil
		}
	}
	return next
}

// delta renders the changed seats (by position), the new occupancy and
// the position the viewer's page is then at (#live-version), as of now.
func (f *seatFeed) delta(changed []int, oldest, now time.Time) *delta {
	views := make([]components.SeatView, len(changed))
	for j, i := range changed {
		views[j] = f.view(f.seats[i])
	}
	occ, horizon := f.occupancy(), f.horizon
	if f.draw != nil {
		return &delta{oldest: oldest, render: f.draw(views, occ, horizon, now)}
	}
	return &delta{oldest: oldest, render: func(ctx context.Context, b *builder) error {
		for _, v := range views {
			if err := b.add(ctx, "seat-"+v.Label, components.Seat(v, true)); err != nil {
				return err
			}
		}
		if err := b.add(ctx, "occupancy", components.OccupancyBar(occ, true)); err != nil {
			return err
		}
		return b.add(ctx, components.LiveVersionID, components.LiveVersion(horizon, now, true))
	}}
}

// catchUpLimit is how many changed seats a (re)connecting page is sent
// one by one; further behind, it gets the whole grid instead. htmx swaps
// and settles each out-of-band element on its own, about 4 ms a seat on a
// laptop and several times that on a phone, while the whole grid is one
// swap of about 100 KB that costs a phone 0.8–1.1 s of main thread: past
// a few dozen seats one swap is cheaper.
const catchUpLimit = 48

// lapseSlack widens what counts as a hold that ran out after a page was
// drawn: the page's time is whole seconds and the app's clock may differ
// from the database's a little. Resending a seat the page already shows
// right costs a few bytes; missing one would leave it wrong.
const lapseSlack = 5 * time.Second

// catchUp is what a viewer whose page stands at pos lacks: the seats
// changed by a transaction at or after pos.Horizon (the page may lack
// them; see db.SeatBatchSince) and those whose hold ran out after pos.At,
// with the occupancy; nil when the page is current, full when it is too
// far behind for that to be cheaper than the whole grid.
//
// A page drawn before this feed's first snapshot (its socket created the
// hub, or came back after a restart) is also sent every unsure seat: the
// feed cannot tell which of them were holds that ran out since. That
// costs a reconnect to a quiet hall a few seats more.
func (f *seatFeed) catchUp(pos Position) (d *delta, full bool) {
	var changed []int
	since := pos.At.Add(-lapseSlack)
	// pos.At is whole seconds, so a page drawn up to a second later than
	// it says may still predate the snapshot.
	early := pos.At.Before(f.loadedAt.Add(time.Second))
	for i, s := range f.seats {
		if s.Changed >= pos.Horizon || f.lapsed[i].After(since) || (early && f.unsure[i]) {
			changed = append(changed, i)
			if len(changed) > catchUpLimit {
				return nil, true
			}
		}
	}
	now := time.Now()
	stale := pos.Sales != "" && pos.Sales != f.banner
	switch {
	case len(changed) == 0 && stale:
		return f.bannerDelta(now), false
	case len(changed) == 0:
		return nil, false
	case stale:
		return f.withBanner(f.delta(changed, time.Time{}, now), now), false
	}
	return f.delta(changed, time.Time{}, now), false
}

// full renders the whole map as one #seatmap grid, not one element per
// seat: htmx settles each out-of-band element separately, and 600 of them
// took a browser here about 2.5 s on every (re)connect; one grid takes
// under 0.1 s.
func (f *seatFeed) full(ctx context.Context, b *builder) error {
	if err := b.add(ctx, "seatmap", components.SeatGrid(f.hall(), true)); err != nil {
		return err
	}
	if err := b.add(ctx, "occupancy", components.OccupancyBar(f.occupancy(), true)); err != nil {
		return err
	}
	if err := addSales(ctx, b, f.bannerView(time.Now())); err != nil {
		return err
	}
	return b.add(ctx, components.LiveVersionID, components.LiveVersion(f.horizon, time.Now(), true))
}

// hall lays the seats out on the hall grid, as the page does.
func (f *seatFeed) hall() components.Hall { return seatview.Hall(f.seats, f.view) }

// view is the seat as every viewer sees it: never "mine" (the same bytes
// go to everyone; each page recognises its own holder tag).
func (f *seatFeed) view(s db.SeatState) components.SeatView {
	return seatview.View(s, f.tag(f.id, s.StudentID), 0)
}

// occupancy counts the seats as the page does (seatview.Count).
func (f *seatFeed) occupancy() components.Occupancy { return seatview.Count(f.seats) }

// sameView reports whether two states of a seat look the same to viewers.
func sameView(a, b db.SeatState) bool {
	return a.State == b.State && a.StudentID == b.StudentID && a.HeldUntil.Equal(b.HeldUntil)
}

// homeFeed is the event home's "seats left" per performance. It has no
// change log of its own: a refresh recounts every performance of the
// event (one query) and sends the ones whose counts moved. The periodic
// catch-up refreshes it too, which is how expired holds show up here.
type homeFeed struct {
	store   *db.Store
	eventID int64 // 0 until an event exists
	perfs   []db.PerformanceWithOccupancy
	// paused is what the home's #sales-banner shows: the performances
	// paused at the last refresh, with their messages.
	paused []components.PausedSales
	// status is each performance's sales status (booking's Sales*) as the
	// cards' badges (#sales-pill-{slug}) show it.
	status map[int64]string
}

// statuses is every performance's sales status at now.
func statuses(perfs []db.PerformanceWithOccupancy, now time.Time) map[int64]string {
	out := make(map[int64]string, len(perfs))
	for _, p := range perfs {
		out[p.ID] = sales.Status(p.Performance, now)
	}
	return out
}

// renderPills renders the cards' badges of perfs with their status.
func renderPills(ctx context.Context, b *builder, perfs []db.PerformanceWithOccupancy, status map[int64]string) error {
	for _, p := range perfs {
		id := "sales-pill-" + p.Slug
		if err := b.add(ctx, id, components.SalesPill(id, status[p.ID], true)); err != nil {
			return err
		}
	}
	return nil
}

// pausedSales lists the performances whose sales are paused at now.
func pausedSales(perfs []db.PerformanceWithOccupancy, now time.Time) []components.PausedSales {
	var out []components.PausedSales
	for _, p := range perfs {
		if sales.Status(p.Performance, now) == sales.Paused {
			out = append(out, components.PausedSales{Slug: p.Slug, Title: p.Title, Message: p.PauseMessage})
		}
	}
	return out
}

func (f *homeFeed) load(ctx context.Context) error {
	ev, err := f.store.FirstEvent(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	perfs, err := f.store.EventPerformances(ctx, ev.ID)
	if err != nil {
		return err
	}
	f.eventID, f.perfs = ev.ID, perfs
	f.paused = pausedSales(perfs, time.Now())
	f.status = statuses(perfs, time.Now())
	return nil
}

func (f *homeFeed) refresh(ctx context.Context) (*delta, error) {
	if f.eventID == 0 {
		return nil, f.load(ctx)
	}
	perfs, err := f.store.EventPerformances(ctx, f.eventID)
	if err != nil {
		return nil, err
	}
	before := make(map[int64]db.Occupancy, len(f.perfs))
	for _, p := range f.perfs {
		before[p.ID] = p.Occupancy
	}
	var changed []db.PerformanceWithOccupancy
	for _, p := range perfs {
		// A performance added since the page loaded has no element to
		// swap into; it appears on the next page load.
		if o, ok := before[p.ID]; ok && o != p.Occupancy {
			changed = append(changed, p)
		}
	}
	f.perfs = perfs
	// Every refresh reads each performance's sales state too, so a pause
	// or a resume reaches the home page with no query of its own.
	now := time.Now()
	paused := pausedSales(perfs, now)
	banner := !slices.Equal(paused, f.paused)
	status := statuses(perfs, now)
	var moved []db.PerformanceWithOccupancy
	for _, p := range perfs {
		if s, ok := f.status[p.ID]; ok && s != status[p.ID] {
			moved = append(moved, p)
		}
	}
	f.paused, f.status = paused, status
	if len(changed) == 0 && !banner && len(moved) == 0 {
		return nil, nil
	}
	return &delta{render: func(ctx context.Context, b *builder) error {
		if err := renderAvailability(ctx, b, changed); err != nil {
			return err
		}
		if err := renderPills(ctx, b, moved, status); err != nil {
			return err
		}
		if banner {
			return b.add(ctx, "sales-banner", components.HomeSalesBanner(paused, true))
		}
		return nil
	}}, nil
}

func (f *homeFeed) expire(time.Time) *delta { return nil }

func (f *homeFeed) nextExpiry() time.Time { return time.Time{} }

// catchUp sends the home page everything: it has no version, and its full
// state is a few small elements.
func (f *homeFeed) catchUp(Position) (*delta, bool) { return nil, true }

func (f *homeFeed) full(ctx context.Context, b *builder) error {
	if err := renderAvailability(ctx, b, f.perfs); err != nil {
		return err
	}
	if err := renderPills(ctx, b, f.perfs, f.status); err != nil {
		return err
	}
	return b.add(ctx, "sales-banner", components.HomeSalesBanner(f.paused, true))
}

func renderAvailability(ctx context.Context, b *builder, perfs []db.PerformanceWithOccupancy) error {
	for _, p := range perfs {
		if err := b.add(ctx, "avail-"+p.Slug, components.Availability(p.Slug, components.Occupancy(p.Occupancy), true)); err != nil {
			return err
		}
	}
	return nil
}

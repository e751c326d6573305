package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"festa/db"
	"festa/layout"
)

// gridPerformance creates a hall from a grid and a performance in it whose
// sales are open, and returns the performance.
func (f *fixture) gridPerformance(hallSlug, perfSlug, grid string) (int64, db.NewPerformance) {
	f.t.Helper()
	ctx := context.Background()
	h, err := layout.Parse(grid, layout.DefaultOptions())
	if err != nil {
		f.t.Fatal(err)
	}
	hallID, err := f.store.CreateHall(ctx, hallSlug, "소강당", h.Seats)
	if err != nil {
		f.t.Fatal(err)
	}
	now := time.Now()
	p := db.NewPerformance{EventID: f.opening.EventID, HallID: hallID, Slug: perfSlug, Title: "연극",
		StartsAt: now.Add(48 * time.Hour), SalesOpenAt: now.Add(-time.Hour), SalesCloseAt: now.Add(24 * time.Hour),
		TicketLimit: 2, HoldSeconds: 120}
	id, err := f.store.CreatePerformance(ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return id, p
}

// A hall made from a grid keeps its seats' kinds, and a performance in it
// starts with the sound desk and the guests' seats blocked (the guests'
// seats as the desk holds them back: releasable), the rest for sale.
func TestHallFromGridAndItsPerformance(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id, _ := f.gridPerformance("small", "play", "AAwA\nxA.rA")
	hall := f.count(`SELECT hall_id::int FROM performances WHERE id = $1`, id)
	if n := f.count(`SELECT count(*)::int FROM seats WHERE hall_id = $1`, hall); n != 8 {
		t.Fatalf("%d seats", n)
	}
	for label, want := range map[string]string{"A1": "available", "A3": "available", "B1": "blocked", "B3": "blocked", "B4": "available"} {
		var state, kind string
		if err := f.store.Pool.QueryRow(ctx, `SELECT ps.state, s.kind FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			WHERE ps.performance_id = $1 AND s.label = $2`, id, label).Scan(&state, &kind); err != nil {
			t.Fatal(label, err)
		}
		if state != want {
			t.Errorf("%s is %s (%s), want %s", label, state, kind, want)
		}
	}
	council := db.Actor{Kind: "staff", ID: f.staffID("council"), IP: "198.51.100.4", UserAgent: "console"}
	if err := f.store.ReserveSeat(ctx, id, "B3", false, council, "손님 안 옴"); err != nil {
		t.Fatalf("the guests' seat is not held back as the desk holds seats: %v", err)
	}
	if _, err := f.store.CreateHall(ctx, "small", "다른 강당", nil); !errors.Is(err, db.ErrSlugTaken) {
		t.Fatalf("second hall with the slug: %v", err)
	}
	halls, err := f.store.Halls(ctx)
	if err != nil || len(halls) != 2 || halls[1].Seats != 8 || halls[1].Reserved != 1 {
		t.Fatalf("halls %+v %v", halls, err)
	}
}

// Once a student has a ticket, moving the performance to another hall,
// renaming its URL or lowering the limit below their tickets is refused and
// changes nothing; a sold seat cannot be held back by the desk.
func TestPerformanceChangesThatWouldBreakTicketsAreRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id, p := f.gridPerformance("small", "play", "AAAA\nAAAA")
	// Without tickets the hall may change: its seats follow.
	p.HallID = f.opening.HallID
	if err := f.store.UpdatePerformance(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*)::int FROM performance_seats WHERE performance_id = $1`, id); n != 600 {
		t.Fatalf("%d seats after the move", n)
	}
	small := int64(f.count(`SELECT id::int FROM halls WHERE slug = 'small'`))
	p.HallID = small
	if err := f.store.UpdatePerformance(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"A1", "A2"} {
		if _, err := f.store.Hold(ctx, id, l, f.alice, student); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Confirm(ctx, id, f.alice, newID, sign, student); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	moved := p
	moved.HallID = f.opening.HallID
	renamed := p
	renamed.Slug = "play-2"
	lower := p
	lower.TicketLimit = 1
	for name, c := range map[string]struct {
		p    db.NewPerformance
		want error
	}{"hall": {moved, db.ErrHallHasTickets}, "slug": {renamed, db.ErrSlugHasTickets}, "limit": {lower, db.ErrLimitBelowSold}} {
		if err := f.store.UpdatePerformance(ctx, id, c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	council := db.Actor{Kind: "staff", ID: f.staffID("council"), IP: "198.51.100.4", UserAgent: "console"}
	if err := f.store.ReserveSeat(ctx, id, "A1", true, council, "VIP"); err == nil {
		t.Fatal("a sold seat was held back")
	}
	if f.state() != before {
		t.Fatal("a refused change wrote something")
	}
	// A change that keeps the tickets goes through.
	p.Title = "연극 (수정)"
	p.StartsAt = p.StartsAt.Add(time.Hour)
	if err := f.store.UpdatePerformance(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.PerformanceByID(ctx, id); got.Title != p.Title {
		t.Fatalf("title %q", got.Title)
	}
}

func TestPerformanceProblemsNameEachField(t *testing.T) {
	now := time.Now()
	ok := db.NewPerformance{HallID: 1, Slug: "play", Title: "연극", StartsAt: now.Add(2 * time.Hour),
		SalesOpenAt: now, SalesCloseAt: now.Add(time.Hour), TicketLimit: 1, HoldSeconds: 180}
	if bad := db.PerformanceProblems(ok); len(bad) != 0 {
		t.Fatalf("good performance: %v", bad)
	}
	for field, c := range map[string]struct {
		change func(*db.NewPerformance)
		want   string
	}{
		"slug":           {func(p *db.NewPerformance) { p.Slug = "Play!" }, "setup.error.slug"},
		"title":          {func(p *db.NewPerformance) { p.Title = "" }, "setup.error.title"},
		"hall":           {func(p *db.NewPerformance) { p.HallID = 0 }, "setup.error.hall"},
		"starts_at":      {func(p *db.NewPerformance) { p.StartsAt = time.Time{} }, "setup.error.time"},
		"sales_close_at": {func(p *db.NewPerformance) { p.SalesCloseAt = p.StartsAt.Add(time.Minute) }, "setup.error.close_after_start"},
		"ticket_limit":   {func(p *db.NewPerformance) { p.TicketLimit = 11 }, "setup.error.ticket_limit"},
		"hold_seconds":   {func(p *db.NewPerformance) { p.HoldSeconds = 29 }, "setup.error.hold_seconds"},
	} {
		p := ok
		c.change(&p)
		if bad := db.PerformanceProblems(p); bad[field] != c.want || len(bad) != 1 {
			t.Errorf("%s: %v, want %s", field, bad, c.want)
		}
	}
	p := ok
	p.SalesCloseAt = p.SalesOpenAt
	if bad := db.PerformanceProblems(p); bad["sales_close_at"] != "setup.error.close_before_open" {
		t.Errorf("close at open: %v", bad)
	}
}

func TestSaveEventKeepsDaysAndZone(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e, err := f.store.EventSetupByID(ctx, f.opening.EventID)
	if err != nil || e.TimeZone != "Asia/Seoul" || !e.StartsOn.IsZero() {
		t.Fatalf("%+v %v", e, err)
	}
	e.Name, e.TimeZone = "축제", "Europe/Berlin"
	e.StartsOn = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	e.EndsOn = e.StartsOn.AddDate(0, 0, 1)
	if _, err := f.store.SaveEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.EventSetupByID(ctx, e.ID)
	if err != nil || got.Name != "축제" || got.TimeZone != "Europe/Berlin" || !got.EndsOn.Equal(e.EndsOn) {
		t.Fatalf("%+v %v", got, err)
	}
	// The database refuses a festival that ends before it starts.
	e.EndsOn = e.StartsOn.AddDate(0, 0, -1)
	if _, err := f.store.SaveEvent(ctx, e); err == nil {
		t.Fatal("ends before it starts")
	}
}

package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"festa/db"
)

// staffID is the id of the demo staff account username.
func (f *fixture) staffID(username string) int64 {
	f.t.Helper()
	return int64(f.count(`SELECT id::int FROM staff WHERE username = $1`, username))
}

func (f *fixture) lastAuditID() int {
	return f.count(`SELECT coalesce(max(id), 0)::int FROM audit_log`)
}

// Every sales action is one audit row by the council member, from where
// they were, with the sales state before and after; the performance row
// says the same.
func TestSalesActionsAreAudited(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	council := db.Actor{Kind: "staff", ID: f.staffID("council"), IP: "198.51.100.4", UserAgent: "console"}
	night := f.night
	start := f.lastAuditID()

	p, err := f.store.PauseSales(ctx, night.ID, "잠시 점검 중", council)
	if err != nil || !p.Paused || p.PauseMessage != "잠시 점검 중" {
		t.Fatalf("pause: %+v %v", p, err)
	}
	opened, err := f.store.OpenSales(ctx, night.ID, council, "")
	if err != nil || opened.Paused || opened.PauseMessage != "" || !opened.SalesOpenAt.Before(night.SalesOpenAt) {
		t.Fatalf("open now: %+v %v", opened, err)
	}
	// Opening sales that are open already keeps their opening time.
	again, err := f.store.OpenSales(ctx, night.ID, council, "")
	if err != nil || !again.SalesOpenAt.Equal(opened.SalesOpenAt) {
		t.Fatalf("open again: %v %v, want %v", again.SalesOpenAt, err, opened.SalesOpenAt)
	}
	if _, err := f.store.PauseSales(ctx, night.ID, "", council); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ResumeSales(ctx, night.ID, council, ""); err != nil {
		t.Fatal(err)
	}
	later := opened.SalesOpenAt.Add(48 * time.Hour).Truncate(time.Minute)
	moved, err := f.store.SetSalesClose(ctx, night.ID, later, council, "")
	if err != nil || !moved.SalesCloseAt.Equal(later) {
		t.Fatalf("closing time: %v %v", moved.SalesCloseAt, err)
	}
	closed, err := f.store.CloseSales(ctx, night.ID, council, "")
	if err != nil || closed.SalesCloseAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("close: %+v %v", closed, err)
	}

	rows := f.audits(start)
	want := []string{"sales_pause", "sales_open", "sales_open", "sales_pause", "sales_resume", "sales_close_at", "sales_close"}
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, r := range rows {
		var id int64
		if r.ActorID != nil {
			id = *r.ActorID
		}
		if r.Action != want[i] || r.ActorKind != "staff" || id != council.ID || r.IP != council.IP || r.UA != "console" || r.Seat != "" {
			t.Errorf("row %d: %+v, want %s by staff %d", i, r, want[i], council.ID)
		}
		for _, k := range []string{"sales_open_at", "sales_close_at", "paused", "pause_message"} {
			if _, ok := r.Before[k]; !ok {
				t.Errorf("row %d (%s): before has no %s: %v", i, r.Action, k, r.Before)
			}
			if _, ok := r.After[k]; !ok {
				t.Errorf("row %d (%s): after has no %s: %v", i, r.Action, k, r.After)
			}
		}
	}
	if rows[0].Before["paused"] != false || rows[0].After["paused"] != true || rows[0].After["pause_message"] != "잠시 점검 중" {
		t.Errorf("the pause's before/after: %v → %v", rows[0].Before, rows[0].After)
	}
	if rows[4].Before["paused"] != true || rows[4].After["paused"] != false {
		t.Errorf("the resume's before/after: %v → %v", rows[4].Before, rows[4].After)
	}
	if at, _ := time.Parse(time.RFC3339Nano, rows[5].After["sales_close_at"].(string)); !at.Equal(later) {
		t.Errorf("the closing time's after: %v, want %v", rows[5].After["sales_close_at"], later)
	}
}

// A closing time at or before the opening is refused by the database and
// changes nothing; so is opening sales whose closing time has passed.
func TestSalesWindowStaysWellFormed(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	council := db.Actor{Kind: "staff", ID: f.staffID("council")}
	before := f.state()
	audits := f.lastAuditID()
	if _, err := f.store.SetSalesClose(ctx, f.night.ID, f.night.SalesOpenAt, council, ""); !errors.Is(err, db.ErrCloseBeforeOpen) {
		t.Errorf("closing at the opening: %v, want ErrCloseBeforeOpen", err)
	}
	if _, err := f.store.SetSalesClose(ctx, f.night.ID, f.night.SalesOpenAt.Add(-time.Hour), council, ""); !errors.Is(err, db.ErrCloseBeforeOpen) {
		t.Errorf("closing before the opening: %v, want ErrCloseBeforeOpen", err)
	}
	f.exec(`UPDATE performances SET sales_open_at = now() - interval '2 hours', sales_close_at = now() - interval '1 hour' WHERE id = $1`, f.opening.ID)
	before = f.state()
	if _, err := f.store.OpenSales(ctx, f.opening.ID, council, ""); !errors.Is(err, db.ErrCloseBeforeOpen) {
		t.Errorf("opening after the close: %v, want ErrCloseBeforeOpen", err)
	}
	if f.state() != before || f.lastAuditID() != audits {
		t.Error("a refused sales change changed the database")
	}
	if _, err := f.store.PauseSales(ctx, 999999, "", council); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown performance: %v", err)
	}
	// Closing sales that never opened leaves an empty, well-formed window.
	p, err := f.store.CloseSales(ctx, f.night.ID, council, "")
	if err != nil || !p.SalesCloseAt.After(p.SalesOpenAt) || p.SalesOpenAt.After(time.Now()) {
		t.Errorf("closing unopened sales: %v – %v, %v", p.SalesOpenAt, p.SalesCloseAt, err)
	}
}

// While paused, every hold and every confirm is refused and changes
// nothing; after the resume both work.
func TestPauseRefusesHoldAndConfirm(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	council := db.Actor{Kind: "staff", ID: f.staffID("council")}
	if _, err := f.store.Hold(ctx, f.opening.ID, "D4", f.alice, student); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.PauseSales(ctx, f.opening.ID, "점검", council); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	if _, err := f.store.Hold(ctx, f.opening.ID, "D5", f.bob, student); !errors.Is(err, db.ErrSalesPaused) {
		t.Errorf("hold while paused: %v", err)
	}
	if _, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student); !errors.Is(err, db.ErrSalesPaused) {
		t.Errorf("confirm while paused: %v", err)
	}
	if f.state() != before {
		t.Error("a refused booking changed the database")
	}
	if _, err := f.store.ResumeSales(ctx, f.opening.ID, council, ""); err != nil {
		t.Fatal(err)
	}
	if ts, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student); err != nil || len(ts) != 1 {
		t.Errorf("confirm after the resume: %v %v", ts, err)
	}
}

// The overview counts seats, check-ins and admissions per door.
func TestAdminOverviewCounts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := f.ticketFor(f.opening, "E1", f.alice)
	b := f.ticketFor(f.opening, "E2", f.bob)
	f.ticketFor(f.opening, "E3", f.student("10103"))
	if _, err := f.store.Hold(ctx, f.opening.ID, "E4", f.student("10104"), student); err != nil {
		t.Fatal(err)
	}
	f.scan(db.Scan{TicketID: a.ID, Token: a.Token, Gate: "north"})
	f.scan(db.Scan{TicketID: b.ID, Token: b.Token, Gate: "south"})
	stats, err := f.store.AdminOverview(ctx, f.opening.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].Slug != "opening" {
		t.Fatalf("overview: %+v", stats)
	}
	o := stats[0].Occupancy
	if o.Sold != 3 || o.Held != 1 || o.CheckedIn != 2 || o.Available != o.Capacity-4 {
		t.Errorf("opening counts: %+v", o)
	}
	if len(stats[0].Gates) != 2 || stats[0].Gates[0].Count != 1 || stats[1].Occupancy.CheckedIn != 0 {
		t.Errorf("doors: %+v, night %+v", stats[0].Gates, stats[1].Occupancy)
	}
}

// The audit log filters by student (what they did and what happened to
// their seats), seat, action, performance, actor and time, and pages by
// id.
func TestAuditLogFilters(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.ticketFor(f.opening, "F1", f.alice)
	if _, err := f.store.Hold(ctx, f.opening.ID, "F2", f.bob, student); err != nil {
		t.Fatal(err)
	}
	council := db.Actor{Kind: "staff", ID: f.staffID("council"), IP: "198.51.100.4"}
	if _, err := f.store.PauseSales(ctx, f.night.ID, "", council); err != nil {
		t.Fatal(err)
	}
	list := func(flt db.AuditFilter) []db.AuditEntry {
		t.Helper()
		var out []db.AuditEntry
		if err := f.store.AuditLog(ctx, flt, func(e db.AuditEntry) error { out = append(out, e); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	actions := func(es []db.AuditEntry) string {
		var s string
		for _, e := range es {
			s += e.Action + "@" + e.Seat + " "
		}
		return s
	}
	if got := actions(list(db.AuditFilter{StudentNo: "10101"})); got != "confirm@F1 hold@F1 " {
		t.Errorf("alice's rows: %q", got)
	}
	es := list(db.AuditFilter{Seat: "F2"})
	if len(es) != 1 || es[0].StudentNo != "10102" || es[0].ActorKind != "student" || es[0].Performance != "opening" {
		t.Errorf("F2's rows: %+v", es)
	}
	if got := actions(list(db.AuditFilter{Action: "hold", PerformanceID: f.opening.ID})); got != "hold@F2 hold@F1 " {
		t.Errorf("holds of the opening, newest first: %q", got)
	}
	es = list(db.AuditFilter{ActorKind: "staff", ActorName: "council"})
	if len(es) != 1 || es[0].Action != "sales_pause" || es[0].ActorName != "council" || es[0].IP != "198.51.100.4" {
		t.Errorf("the council's rows: %+v", es)
	}
	if n := len(list(db.AuditFilter{From: time.Now().Add(time.Hour)})); n != 0 {
		t.Errorf("%d rows from the future", n)
	}
	if n := len(list(db.AuditFilter{To: time.Now().Add(-time.Hour)})); n != 0 {
		t.Errorf("%d rows before the test", n)
	}
	all := list(db.AuditFilter{})
	page := list(db.AuditFilter{Limit: 2})
	rest := list(db.AuditFilter{Before: page[1].ID})
	if len(page) != 2 || len(rest) != len(all)-2 || rest[0].ID >= page[1].ID {
		t.Errorf("paging: %d rows, first page %d, the rest %d", len(all), len(page), len(rest))
	}
	if acts, err := f.store.AuditActions(ctx); err != nil || len(acts) != 3 {
		t.Errorf("actions: %v %v", acts, err)
	}
}

// The attendee list has every live ticket in seat order with its
// check-in; the check-in list every admission with its door and staff.
func TestAttendeesAndCheckIns(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	b := f.ticketFor(f.opening, "G3", f.bob)
	a := f.ticketFor(f.opening, "A2", f.alice)
	c := f.ticketFor(f.opening, "G4", f.student("10103"))
	if _, err := f.store.CancelTicket(ctx, c.ID, f.student("10103"), student); err != nil {
		t.Fatal(err)
	}
	f.scan(db.Scan{TicketID: b.ID, Token: b.Token, Gate: "east", StaffID: f.staffID("gate")})
	// A guest's ticket, from a seat the council held back at the desk.
	council := db.Actor{Kind: "staff", ID: f.staffID("council")}
	if err := f.store.ReserveSeat(ctx, f.opening.ID, "T1", true, council, "손님"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.IssueGuestTicket(ctx, f.opening.ID, "T1", "초청 손님 박", newID, sign, council, "초청"); err != nil {
		t.Fatal(err)
	}
	list, err := f.store.Attendees(ctx, f.opening.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Seat != "A2" || list[0].TicketID != a.ID || list[0].CheckedInAt != nil ||
		list[1].Seat != "G3" || list[1].StudentNo != "10102" || list[1].CheckedInAt == nil || list[1].Gate != "east" ||
		list[2].Seat != "T1" || list[2].StudentNo != "" || list[2].Name != "초청 손님 박" {
		t.Errorf("attendees: %+v", list)
	}
	ins, err := f.store.CheckIns(ctx, f.opening.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Seat != "G3" || ins[0].Gate != "east" || ins[0].Staff != "gate" || ins[0].TicketID != b.ID {
		t.Errorf("check-ins: %+v", ins)
	}
}

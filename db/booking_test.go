package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/passhash"
	"festa/tickets"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	t       *testing.T
	store   *db.Store
	opening db.Performance
	night   db.Performance
	alice   int64
	bob     int64
}

func setup(t *testing.T) *fixture {
	t.Helper()
	store := dbtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, store, demo.Options{Students: 40, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store}
	var err error
	if f.opening, err = store.PerformanceBySlug(ctx, "opening"); err != nil {
		t.Fatal(err)
	}
	if f.night, err = store.PerformanceBySlug(ctx, "night"); err != nil {
		t.Fatal(err)
	}
	f.alice, f.bob = f.student("10101"), f.student("10102")
	return f
}

func (f *fixture) student(no string) int64 {
	var id int64
	if err := f.store.Pool.QueryRow(context.Background(), `SELECT id FROM students WHERE student_no = $1`, no).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.store.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// state digests every table a booking touches, to prove a refused request
// changed nothing.
func (f *fixture) state() string {
	f.t.Helper()
	var s string
	err := f.store.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT coalesce(string_agg(ps::text, ',' ORDER BY performance_id, seat_id), '') FROM performance_seats ps) ||
		(SELECT coalesce(string_agg(t::text, ',' ORDER BY id), '') FROM tickets t) ||
		(SELECT coalesce(string_agg(c::text, ',' ORDER BY performance_id, version), '') FROM seat_changes c) ||
		(SELECT count(*)::text FROM audit_log) ||
		(SELECT coalesce(string_agg(p.version::text, ','), '') FROM performances p))`).Scan(&s)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

var student = db.Actor{Kind: "student", IP: "203.0.113.7", UserAgent: "test"}

func newID() (string, error) {
	id, err := tickets.NewID()
	return id.String(), err
}

func sign(id, perf, seat string, at time.Time) (string, string, error) {
	return "k", fmt.Sprintf("F1.k.%s.%s.%s", id, perf, seat), nil
}

func TestHoldRulesRefuseAndChangeNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.Hold(ctx, f.opening.ID, "C12", f.bob, student); err != nil {
		t.Fatal(err)
	}
	// A second hall whose seat Z1 does not exist in the main hall.
	f.exec(`INSERT INTO halls (slug, name) VALUES ('studio', 'Studio')`)
	f.exec(`INSERT INTO seats (hall_id, label, row_label, number, x, y) SELECT id, 'Z1', 'Z', 1, 0, 0 FROM halls WHERE slug = 'studio'`)

	cases := []struct {
		name  string
		perf  int64
		seat  string
		setup string
		want  error
	}{
		{"unknown seat", f.opening.ID, "Z99", "", db.ErrSeatNotFound},
		{"seat of another hall", f.opening.ID, "Z1", "", db.ErrSeatNotFound},
		{"blocked sound desk", f.opening.ID, "P13", "", db.ErrSeatBlocked},
		{"someone else's hold", f.opening.ID, "C12", "", db.ErrSeatTaken},
		{"sales not open yet", f.night.ID, "A1", "", db.ErrSalesNotOpen},
		{"paused", f.opening.ID, "A1", `UPDATE performances SET paused = true WHERE slug = 'opening'`, db.ErrSalesPaused},
		{"closed", f.opening.ID, "A1", `UPDATE performances SET paused = false, sales_close_at = now() - interval '1 second', sales_open_at = now() - interval '1 hour' WHERE slug = 'opening'`, db.ErrSalesClosed},
		{"disabled student", f.opening.ID, "A1", `UPDATE performances SET sales_close_at = now() + interval '1 day' WHERE slug = 'opening'; UPDATE students SET enabled = false WHERE student_no = '10101'`, db.ErrStudentDisabled},
	}
	for _, c := range cases {
		if c.setup != "" {
			f.exec(c.setup)
		}
		before := f.state()
		_, err := f.store.Hold(ctx, c.perf, c.seat, f.alice, student)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if f.state() != before {
			t.Errorf("%s: the refused hold changed the database", c.name)
		}
	}
}

func TestHoldMovesWithinLimitAndRecordsEveryChange(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	v0 := f.count(`SELECT version FROM performances WHERE id = $1`, f.opening.ID)
	if _, err := f.store.Hold(ctx, f.opening.ID, "A1", f.alice, student); err != nil {
		t.Fatal(err)
	}
	res, err := f.store.Hold(ctx, f.opening.ID, "A2", f.alice, student)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Released) != 1 || res.Released[0] != "A1" {
		t.Fatalf("second hold released %v, want [A1]", res.Released)
	}
	if n := f.count(`SELECT count(*) FROM performance_seats WHERE student_id = $1`, f.alice); n != 1 {
		t.Fatalf("alice holds %d seats, limit is 1", n)
	}
	// hold A1, release A1, hold A2: three changes, numbered in order.
	if v := f.count(`SELECT version FROM performances WHERE id = $1`, f.opening.ID); v != v0+3 {
		t.Errorf("version %d, want %d", v, v0+3)
	}
	if n := f.count(`SELECT count(*) FROM seat_changes WHERE performance_id = $1 AND version > $2`, f.opening.ID, v0); n != 3 {
		t.Errorf("%d changes logged, want 3", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action IN ('hold', 'release') AND ip = '203.0.113.7' AND user_agent = 'test'`); n != 3 {
		t.Errorf("%d audit rows, want 3", n)
	}
	// Holding one's own seat again changes nothing (no endless extension).
	before := f.state()
	if _, err := f.store.Hold(ctx, f.opening.ID, "A2", f.alice, student); err != nil {
		t.Fatal(err)
	}
	if f.state() != before {
		t.Error("re-holding one's own seat changed the database")
	}
}

func TestLimitCountsTicketsAndTheDatabaseEnforcesIt(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.Hold(ctx, f.opening.ID, "B5", f.alice, student); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	if _, err := f.store.Hold(ctx, f.opening.ID, "B6", f.alice, student); !errors.Is(err, db.ErrLimit) {
		t.Fatalf("hold over the limit: %v", err)
	}
	if f.state() != before {
		t.Error("refused hold changed the database")
	}
	// Even SQL that skips the Go checks cannot put a student over the limit.
	_, err := f.store.Pool.Exec(ctx, `UPDATE performance_seats SET state = 'held', student_id = $1, held_until = now() + interval '1 minute'
		WHERE performance_id = $2 AND seat_id = (SELECT id FROM seats WHERE label = 'B7' AND hall_id = $3)`, f.alice, f.opening.ID, f.opening.HallID)
	if err == nil {
		t.Fatal("the database let a student go over the ticket limit")
	}
	// Nor sell a seat without a ticket.
	_, err = f.store.Pool.Exec(ctx, `UPDATE performance_seats SET state = 'sold', student_id = $1
		WHERE performance_id = $2 AND seat_id = (SELECT id FROM seats WHERE label = 'B8' AND hall_id = $3)`, f.bob, f.opening.ID, f.opening.HallID)
	if err == nil {
		t.Fatal("the database let a seat be sold without a ticket")
	}
}

func TestNoSeatSoldTwiceNoTicketCheckedInTwice(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.store.Hold(ctx, f.opening.ID, "D4", f.alice, student)
	ts, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := newID()
	_, err = f.store.Pool.Exec(ctx, `INSERT INTO tickets (id, performance_id, seat_id, student_id, key_id, token)
		VALUES ($1, $2, $3, $4, 'k', 't')`, id, f.opening.ID, ts[0].SeatID, f.bob)
	if err == nil {
		t.Fatal("a second active ticket for one seat was accepted")
	}
	f.exec(`INSERT INTO check_ins (ticket_id, gate) VALUES ($1, 'north')`, ts[0].ID)
	if _, err := f.store.Pool.Exec(ctx, `INSERT INTO check_ins (ticket_id, gate) VALUES ($1, 'south')`, ts[0].ID); err == nil {
		t.Fatal("a ticket was checked in twice")
	}
}

func TestConfirmIsIdempotentAndNeedsALiveHold(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student); !errors.Is(err, db.ErrNoHold) {
		t.Fatalf("confirm without a hold: %v", err)
	}
	f.store.Hold(ctx, f.opening.ID, "E7", f.alice, student)
	first, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student)
	if err != nil || len(first) != 1 || first[0].SeatLabel != "E7" {
		t.Fatalf("confirm: %v %v", first, err)
	}
	again, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student)
	if err != nil || len(again) != 1 || again[0].ID != first[0].ID {
		t.Fatalf("second confirm: %v %v, want the same ticket", again, err)
	}
	if n := f.count(`SELECT count(*) FROM tickets WHERE student_id = $1`, f.alice); n != 1 {
		t.Fatalf("%d tickets after a double confirm", n)
	}
	// An expired hold cannot be confirmed, and is free for others at once.
	f.store.Hold(ctx, f.opening.ID, "E8", f.bob, student)
	f.exec(`UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE student_id = $1`, f.bob)
	if _, err := f.store.Confirm(ctx, f.opening.ID, f.bob, newID, sign, student); !errors.Is(err, db.ErrHoldExpired) {
		t.Fatalf("confirm of an expired hold: %v", err)
	}
	carol := f.student("10103")
	if _, err := f.store.Hold(ctx, f.opening.ID, "E8", carol, student); err != nil {
		t.Fatalf("an expired hold was not free for others: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'expire' AND seat_label = 'E8'`); n != 1 {
		t.Errorf("taking over an expired hold logged %d expiries", n)
	}
}

func TestCancelFreesTheSeat(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.store.Hold(ctx, f.opening.ID, "F1", f.alice, student)
	ts, _ := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student)
	if _, err := f.store.CancelTicket(ctx, ts[0].ID, f.bob, student); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("bob cancelled alice's ticket: %v", err)
	}
	got, err := f.store.CancelTicket(ctx, ts[0].ID, f.alice, student)
	if err != nil || got.Status != "cancelled" {
		t.Fatalf("cancel: %v %v", got.Status, err)
	}
	if _, err := f.store.Hold(ctx, f.opening.ID, "F1", f.bob, student); err != nil {
		t.Fatalf("cancelled seat not free: %v", err)
	}
	if _, err := f.store.CancelTicket(ctx, ts[0].ID, f.alice, student); !errors.Is(err, db.ErrTicketCancelled) {
		t.Fatalf("second cancel: %v", err)
	}
	// A ticket used at the gate cannot be cancelled.
	carol := f.student("10103")
	f.store.Hold(ctx, f.opening.ID, "F2", carol, student)
	ct, _ := f.store.Confirm(ctx, f.opening.ID, carol, newID, sign, student)
	f.exec(`INSERT INTO check_ins (ticket_id) VALUES ($1)`, ct[0].ID)
	if _, err := f.store.CancelTicket(ctx, ct[0].ID, carol, student); !errors.Is(err, db.ErrCheckedIn) {
		t.Fatalf("cancel after check-in: %v", err)
	}
}

func TestExpireHoldsSweepsAndAudits(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.store.Hold(ctx, f.opening.ID, "G1", f.alice, student)
	f.store.Hold(ctx, f.opening.ID, "G2", f.bob, student)
	f.exec(`UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE student_id = $1`, f.alice)
	changed, err := f.store.ExpireHolds(ctx)
	if err != nil || len(changed) != 1 || changed[0] != f.opening.ID {
		t.Fatalf("expire: %v %v", changed, err)
	}
	if n := f.count(`SELECT count(*) FROM performance_seats WHERE state = 'held'`); n != 1 {
		t.Errorf("%d holds left, want bob's 1", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'expire' AND actor_kind = 'system'`); n != 1 {
		t.Errorf("%d expiry audit rows", n)
	}
	seats, _, _ := f.store.PerformanceSeats(ctx, f.opening.ID)
	for _, s := range seats {
		if s.Label == "G1" && s.State != "available" {
			t.Errorf("G1 is %s", s.State)
		}
	}
}

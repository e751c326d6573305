package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	v0 := f.count(`SELECT coalesce(max(version), 0) FROM seat_changes WHERE performance_id = $1`, f.opening.ID)
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
	// hold A1, release A1, hold A2: three changes, numbered in order, and
	// each seat's version is its last change's.
	rows, _ := f.store.Pool.Query(ctx, `SELECT s.label || ':' || c.state FROM seat_changes c JOIN seats s ON s.id = c.seat_id
		WHERE c.performance_id = $1 AND c.version > $2 ORDER BY c.version`, f.opening.ID, v0)
	changes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(changes) != "[A1:held A1:available A2:held]" {
		t.Errorf("changes logged %v, want [A1:held A1:available A2:held]", changes)
	}
	if n := f.count(`SELECT count(*) FROM performance_seats ps WHERE ps.performance_id = $1 AND ps.version <> 0
		AND ps.version <> (SELECT max(c.version) FROM seat_changes c WHERE c.performance_id = ps.performance_id AND c.seat_id = ps.seat_id)`, f.opening.ID); n != 0 {
		t.Errorf("%d seats whose version is not their last change's", n)
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

	// Once the sweeper has freed the hold, the student is still told it ran
	// out; after a hold given back since, there is simply no hold.
	dave := f.student("10104")
	asDave := db.Actor{Kind: "student", ID: dave}
	f.store.Hold(ctx, f.opening.ID, "E9", dave, asDave)
	f.exec(`UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE student_id = $1`, dave)
	if _, err := f.store.ExpireHolds(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Confirm(ctx, f.opening.ID, dave, newID, sign, asDave); !errors.Is(err, db.ErrHoldExpired) {
		t.Fatalf("confirm of a swept hold: %v, want hold expired", err)
	}
	f.store.Hold(ctx, f.opening.ID, "E10", dave, asDave)
	if err := f.store.Release(ctx, f.opening.ID, "E10", dave, asDave); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Confirm(ctx, f.opening.ID, dave, newID, sign, asDave); !errors.Is(err, db.ErrNoHold) {
		t.Fatalf("confirm after giving the hold back: %v, want no hold", err)
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

// auditRow is one audit_log row, its JSON decoded.
type auditRow struct {
	Action, ActorKind, Seat, IP, UA string
	ActorID                         *int64
	Before, After                   map[string]any
}

// audits returns the audit rows after id, oldest first.
func (f *fixture) audits(after int) []auditRow {
	f.t.Helper()
	rows, err := f.store.Pool.Query(context.Background(), `SELECT action, actor_kind, actor_id, coalesce(seat_label, ''), ip, user_agent, before, after
		FROM audit_log WHERE id > $1 ORDER BY id`, after)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Action, &r.ActorKind, &r.ActorID, &r.Seat, &r.IP, &r.UA, &r.Before, &r.After); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// checkAudit compares an audit row with what it should be; held_until is
// compared as an instant, whatever offset it is written with.
func checkAudit(t *testing.T, got auditRow, action, kind string, actorID int64, seat, ip string, before, after map[string]any) {
	t.Helper()
	var id int64
	if got.ActorID != nil {
		id = *got.ActorID
	}
	if got.Action != action || got.ActorKind != kind || id != actorID || got.Seat != seat || got.IP != ip {
		t.Errorf("audit row %+v, want %s by %s %d on %s from %q", got, action, kind, actorID, seat, ip)
	}
	for _, c := range []struct {
		name      string
		got, want map[string]any
	}{{"before", got.Before, before}, {"after", got.After, after}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s %s: %v, want %v", action, c.name, c.got, c.want)
			continue
		}
		for k, w := range c.want {
			g := c.got[k]
			switch w := w.(type) {
			case time.Time:
				s, _ := g.(string)
				gt, err := time.Parse(time.RFC3339Nano, s)
				if err != nil || !gt.Equal(w) {
					t.Errorf("%s %s.%s = %v, want %v", action, c.name, k, g, w)
				}
			case int64:
				if n, ok := g.(float64); !ok || int64(n) != w {
					t.Errorf("%s %s.%s = %v, want %v", action, c.name, k, g, w)
				}
			default:
				if g != w {
					t.Errorf("%s %s.%s = %v, want %v", action, c.name, k, g, w)
				}
			}
		}
	}
}

func TestEveryChangeIsAuditedAsBefore(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	carol := f.student("10103")
	start := f.count(`SELECT coalesce(max(id), 0) FROM audit_log`)
	alice := db.Actor{Kind: "student", ID: f.alice, IP: "203.0.113.9", UserAgent: "alice"}
	bob := db.Actor{Kind: "student", ID: f.bob, IP: "203.0.113.8", UserAgent: "bob"}
	avail := map[string]any{"state": "available"}
	held := func(student int64, until time.Time) map[string]any {
		return map[string]any{"state": "held", "student_id": student, "held_until": until}
	}

	a1, err := f.store.Hold(ctx, f.opening.ID, "A1", f.alice, alice)
	if err != nil {
		t.Fatal(err)
	}
	if a1.Seat.Label != "A1" || a1.Seat.State != "held" || a1.Seat.StudentID != f.alice || a1.Seat.RowLabel != "A" || a1.Seat.Number != 1 ||
		a1.Seat.SeatID == 0 || a1.Seat.Version == 0 || !a1.Seat.HeldUntil.After(time.Now().Add(170*time.Second)) || a1.Released != nil {
		t.Errorf("hold result %+v", a1)
	}
	a2, err := f.store.Hold(ctx, f.opening.ID, "A2", f.alice, alice)
	if err != nil {
		t.Fatal(err)
	}
	// Alice's hold of A2 runs out; Bob takes the seat over.
	var expiredAt time.Time
	if err := f.store.Pool.QueryRow(ctx, `UPDATE performance_seats SET held_until = now() - interval '1 second'
		WHERE student_id = $1 RETURNING held_until`, f.alice).Scan(&expiredAt); err != nil {
		t.Fatal(err)
	}
	b2, err := f.store.Hold(ctx, f.opening.ID, "A2", f.bob, bob)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := f.store.Confirm(ctx, f.opening.ID, f.bob, newID, sign, bob)
	if err != nil || len(ts) != 1 {
		t.Fatalf("confirm: %v %v", ts, err)
	}
	if _, err := f.store.CancelTicket(ctx, ts[0].ID, f.bob, bob); err != nil {
		t.Fatal(err)
	}
	a4, err := f.store.Hold(ctx, f.opening.ID, "A4", f.alice, alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Release(ctx, f.opening.ID, "A4", f.alice, alice); err != nil {
		t.Fatal(err)
	}
	c5, err := f.store.Hold(ctx, f.opening.ID, "A5", carol, student)
	if err != nil {
		t.Fatal(err)
	}
	var sweptAt time.Time
	if err := f.store.Pool.QueryRow(ctx, `UPDATE performance_seats SET held_until = now() - interval '1 second'
		WHERE student_id = $1 RETURNING held_until`, carol).Scan(&sweptAt); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ExpireHolds(ctx); err != nil {
		t.Fatal(err)
	}

	got := f.audits(start)
	if len(got) != 11 {
		t.Fatalf("%d audit rows, want 11: %+v", len(got), got)
	}
	checkAudit(t, got[0], "hold", "student", f.alice, "A1", alice.IP, avail, held(f.alice, a1.Seat.HeldUntil))
	checkAudit(t, got[1], "release", "student", f.alice, "A1", alice.IP, held(f.alice, a1.Seat.HeldUntil), avail)
	checkAudit(t, got[2], "hold", "student", f.alice, "A2", alice.IP, avail, held(f.alice, a2.Seat.HeldUntil))
	checkAudit(t, got[3], "expire", "system", 0, "A2", "", held(f.alice, expiredAt), avail)
	checkAudit(t, got[4], "hold", "student", f.bob, "A2", bob.IP, avail, held(f.bob, b2.Seat.HeldUntil))
	sold := map[string]any{"state": "sold", "student_id": f.bob, "ticket_id": ts[0].ID}
	checkAudit(t, got[5], "confirm", "student", f.bob, "A2", bob.IP, held(f.bob, b2.Seat.HeldUntil), sold)
	checkAudit(t, got[6], "cancel", "student", f.bob, "A2", bob.IP, sold, avail)
	checkAudit(t, got[7], "hold", "student", f.alice, "A4", alice.IP, avail, held(f.alice, a4.Seat.HeldUntil))
	checkAudit(t, got[8], "release", "student", f.alice, "A4", alice.IP, held(f.alice, a4.Seat.HeldUntil), avail)
	checkAudit(t, got[9], "hold", "student", 0, "A5", student.IP, avail, held(carol, c5.Seat.HeldUntil))
	checkAudit(t, got[10], "expire", "system", 0, "A5", "", held(carol, sweptAt), avail)
	for _, r := range got {
		if want := map[string]string{alice.IP: "alice", bob.IP: "bob", student.IP: "test"}[r.IP]; r.ActorKind == "student" && r.UA != want {
			t.Errorf("%s from %s recorded user agent %q, want %q", r.Action, r.IP, r.UA, want)
		}
		if r.ActorKind == "system" && (r.ActorID != nil || r.IP != "" || r.UA != "") {
			t.Errorf("system %s recorded an actor: %+v", r.Action, r)
		}
	}
	// Every change is in the feed, numbered in order, in audit order:
	// hold, release, hold, (the test winding the hold back), hold over the
	// expired one, sale, cancel, hold, release, hold, (winding back), sweep.
	rows, _ := f.store.Pool.Query(ctx, `SELECT state FROM seat_changes WHERE performance_id = $1 ORDER BY version`, f.opening.ID)
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := "held available held held held sold available held available held held available"
	if fmt.Sprint(states) != "["+want+"]" {
		t.Errorf("change feed %v, want [%s]", states, want)
	}
	// Each change carries its transaction, so a reader can find it by the
	// horizon of its last read (SeatBatchSince).
	if n := f.count(`SELECT count(DISTINCT xid) FROM seat_changes WHERE performance_id = $1`, f.opening.ID); n < 10 {
		t.Errorf("%d transactions over %d changes", n, len(states))
	}
}

func TestHoldOverTheLimitGivesUpOldestHoldsNeverTickets(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(`UPDATE performances SET ticket_limit = 3 WHERE id = $1`, f.opening.ID)
	for _, l := range []string{"H1", "H2"} {
		if _, err := f.store.Hold(ctx, f.opening.ID, l, f.alice, student); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"H3", "H4", "H5"} {
		if _, err := f.store.Hold(ctx, f.opening.ID, l, f.alice, student); err != nil {
			t.Fatal(err)
		}
	}
	// Two tickets and H5 held: at the limit of 3. Lowering the limit to 2
	// leaves the tickets at it, so another hold is refused outright: the
	// hold on H5 is not given up for a seat the student cannot have.
	f.exec(`UPDATE performances SET ticket_limit = 2 WHERE id = $1`, f.opening.ID)
	before := f.state()
	if _, err := f.store.Hold(ctx, f.opening.ID, "H6", f.alice, student); !errors.Is(err, db.ErrLimit) {
		t.Fatalf("hold with the tickets at the limit: %v", err)
	}
	if f.state() != before {
		t.Error("refused hold changed the database")
	}
	// At a limit of 4, two tickets and holds on H5 then H6 (the oldest
	// first): holding H7 gives up H5 only.
	f.exec(`UPDATE performances SET ticket_limit = 4 WHERE id = $1`, f.opening.ID)
	if _, err := f.store.Hold(ctx, f.opening.ID, "H6", f.alice, student); err != nil {
		t.Fatal(err)
	}
	res, err := f.store.Hold(ctx, f.opening.ID, "H7", f.alice, student)
	if err != nil || fmt.Sprint(res.Released) != "[H5]" {
		t.Fatalf("hold H7: released %v, %v; want [H5]", res.Released, err)
	}
	// At a limit of 3, holding H8 gives up H6 and H7, oldest first.
	f.exec(`UPDATE performances SET ticket_limit = 3 WHERE id = $1`, f.opening.ID)
	if res, err = f.store.Hold(ctx, f.opening.ID, "H8", f.alice, student); err != nil || fmt.Sprint(res.Released) != "[H6 H7]" {
		t.Fatalf("hold H8: released %v, %v; want [H6 H7]", res.Released, err)
	}
	ts, err := f.store.StudentTickets(ctx, f.alice)
	if err != nil || len(ts) != 2 || ts[0].Status != "active" || ts[1].Status != "active" {
		t.Fatalf("tickets %v %v, want both kept", ts, err)
	}
}

func TestConfirmIssuesEverySignedHoldInSeatOrder(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(`UPDATE performances SET ticket_limit = 3 WHERE id = $1`, f.opening.ID)
	for _, l := range []string{"J9", "J2", "I5"} {
		if _, err := f.store.Hold(ctx, f.opening.ID, l, f.alice, student); err != nil {
			t.Fatal(err)
		}
	}
	var signed []string
	var issued time.Time
	rec := func(id, perf, seat string, at time.Time) (string, string, error) {
		signed = append(signed, seat)
		issued = at
		return sign(id, perf, seat, at)
	}
	ts, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, rec, student)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range ts {
		got = append(got, tk.SeatLabel)
		if want := fmt.Sprintf("F1.k.%s.opening.%s", tk.ID, tk.SeatLabel); tk.Token != want || tk.Status != "active" || !tk.IssuedAt.Equal(issued) {
			t.Errorf("ticket %s: token %q issued %v, want %q issued %v", tk.SeatLabel, tk.Token, tk.IssuedAt, want, issued)
		}
	}
	if fmt.Sprint(got) != "[I5 J2 J9]" || fmt.Sprint(signed) != "[I5 J2 J9]" {
		t.Errorf("tickets for %v, signed %v; want [I5 J2 J9] both", got, signed)
	}
	if issued.Truncate(time.Second) != issued || time.Since(issued) > time.Minute {
		t.Errorf("issued at %v, want the database clock in whole seconds", issued)
	}
	if n := f.count(`SELECT count(*) FROM performance_seats WHERE student_id = $1 AND state = 'sold'`, f.alice); n != 3 {
		t.Errorf("%d seats sold, want 3", n)
	}
	// The idempotent answer is every active ticket, oldest first.
	again, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student)
	if err != nil || len(again) != 3 {
		t.Fatalf("second confirm: %v %v", again, err)
	}
}

func TestConfirmRefusesAndChangesNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.Hold(ctx, f.opening.ID, "K1", f.alice, student); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		perf  int64
		setup string
		want  error
	}{
		{"no such performance", -1, "", db.ErrNotFound},
		{"sales not open yet", f.night.ID, "", db.ErrSalesNotOpen},
		{"paused", f.opening.ID, `UPDATE performances SET paused = true WHERE slug = 'opening'`, db.ErrSalesPaused},
		{"disabled student", f.opening.ID, `UPDATE performances SET paused = false WHERE slug = 'opening'; UPDATE students SET enabled = false WHERE student_no = '10101'`, db.ErrStudentDisabled},
	}
	for _, c := range cases {
		if c.setup != "" {
			f.exec(c.setup)
		}
		before := f.state()
		if _, err := f.store.Confirm(ctx, c.perf, f.alice, newID, sign, student); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if f.state() != before {
			t.Errorf("%s: the refused confirm changed the database", c.name)
		}
	}
	// Tickets signed for other seats than the live holds are refused
	// whole, with nothing written.
	f.exec(`UPDATE students SET enabled = true WHERE student_no = '10101'`)
	before := f.state()
	var code string
	id, _ := newID()
	err := f.store.Pool.QueryRow(ctx, `SELECT r_code FROM festa_confirm($1, $2, 'opening', now(),
		ARRAY[(SELECT id FROM seats WHERE label = 'K2' AND hall_id = $3)], ARRAY[$4], ARRAY['k'], ARRAY['t'],
		'student', $2, '', '')`, f.opening.ID, f.alice, f.opening.HallID, id).Scan(&code)
	if err != nil || code != "holds_changed" {
		t.Fatalf("confirm of unheld seats: %q %v", code, err)
	}
	if f.state() != before {
		t.Error("confirm of unheld seats changed the database")
	}
}

// TestConfirmSignsAgainWhenHoldsChange changes the student's holds between
// Confirm's look and its lock (from inside the signer, which runs in
// between): the tickets signed first no longer match, and Confirm signs
// again under the lock for the holds as they are then.
func TestConfirmSignsAgainWhenHoldsChange(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.exec(`UPDATE performances SET ticket_limit = 2 WHERE id = $1`, f.opening.ID)
	if _, err := f.store.Hold(ctx, f.opening.ID, "L1", f.alice, student); err != nil {
		t.Fatal(err)
	}
	calls := 0
	racing := func(id, perf, seat string, at time.Time) (string, string, error) {
		calls++
		if calls == 1 {
			// Another tab holds a second seat.
			if _, err := f.store.Hold(ctx, f.opening.ID, "L2", f.alice, student); err != nil {
				return "", "", err
			}
		}
		return sign(id, perf, seat, at)
	}
	ts, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, racing, student)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].SeatLabel != "L1" || ts[1].SeatLabel != "L2" || calls != 3 {
		t.Fatalf("tickets %v after %d signatures, want L1 and L2 after 3", ts, calls)
	}
	for _, tk := range ts {
		if tk.Token != fmt.Sprintf("F1.k.%s.opening.%s", tk.ID, tk.SeatLabel) {
			t.Errorf("ticket %s carries token %q", tk.SeatLabel, tk.Token)
		}
	}
	if n := f.count(`SELECT count(*) FROM tickets WHERE student_id = $1`, f.alice); n != 2 {
		t.Errorf("%d tickets, want 2", n)
	}
}

func TestReleaseRules(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	before := f.state()
	if err := f.store.Release(ctx, f.opening.ID, "M1", f.alice, student); !errors.Is(err, db.ErrNoHold) {
		t.Fatalf("release without a hold: %v", err)
	}
	if err := f.store.Release(ctx, -1, "M1", f.alice, student); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("release in no performance: %v", err)
	}
	if f.state() != before {
		t.Error("refused release changed the database")
	}
	// Handing a seat back is allowed while sales are paused.
	if _, err := f.store.Hold(ctx, f.opening.ID, "M1", f.bob, student); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE performances SET paused = true WHERE id = $1`, f.opening.ID)
	if err := f.store.Release(ctx, f.opening.ID, "M1", f.alice, student); !errors.Is(err, db.ErrNoHold) {
		t.Fatalf("alice released bob's hold: %v", err)
	}
	if err := f.store.Release(ctx, f.opening.ID, "M1", f.bob, student); err != nil {
		t.Fatalf("release while paused: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM performance_seats WHERE state = 'held'`); n != 0 {
		t.Errorf("%d holds left", n)
	}
}

func TestCancelRefusedWhileSalesPaused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.store.Hold(ctx, f.opening.ID, "N1", f.alice, student)
	ts, err := f.store.Confirm(ctx, f.opening.ID, f.alice, newID, sign, student)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE performances SET paused = true WHERE id = $1`, f.opening.ID)
	before := f.state()
	if _, err := f.store.CancelTicket(ctx, ts[0].ID, f.alice, student); !errors.Is(err, db.ErrSalesPaused) {
		t.Fatalf("cancel while paused: %v", err)
	}
	if f.state() != before {
		t.Error("refused cancel changed the database")
	}
}

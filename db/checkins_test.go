package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"festa/db"
)

// ticketFor books seat for student in perf and returns the ticket.
func (f *fixture) ticketFor(perf db.Performance, seat string, studentID int64) db.Ticket {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.store.Hold(ctx, perf.ID, seat, studentID, student); err != nil {
		f.t.Fatalf("hold %s: %v", seat, err)
	}
	ts, err := f.store.Confirm(ctx, perf.ID, studentID, newID, sign, student)
	if err != nil || len(ts) != 1 {
		f.t.Fatalf("confirm %s: %v %v", seat, ts, err)
	}
	return ts[0]
}

func (f *fixture) scan(sc db.Scan) db.Verdict {
	f.t.Helper()
	if sc.Performance == "" {
		sc.Performance = "opening"
	}
	if sc.Gate == "" {
		sc.Gate = "north"
	}
	v, err := f.store.RecordScan(context.Background(), sc)
	if err != nil {
		f.t.Fatalf("scan: %v", err)
	}
	return v
}

func TestScanVerdictsAndTheLog(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	tk := f.ticketFor(f.opening, "D4", f.alice)
	scan := db.Scan{TicketID: tk.ID, Token: tk.Token}

	v := f.scan(scan)
	if v.Result != db.Admitted || v.SeatLabel != "D4" || v.StudentNo != "10101" || v.StudentName == "" ||
		v.FirstGate != "north" || v.FirstAt.IsZero() || v.GateCount != 1 {
		t.Fatalf("first scan: %+v", v)
	}
	scan.Gate = "south"
	again := f.scan(scan)
	if again.Result != db.AlreadyUsed || again.FirstGate != "north" || !again.FirstAt.Equal(v.FirstAt) || again.GateCount != 0 {
		t.Fatalf("second scan at another door: %+v", again)
	}

	// A token that did not verify, an unknown ticket, a token that is not
	// the ticket's: invalid, showing nothing of any ticket.
	for _, sc := range []db.Scan{
		{Reason: db.ReasonBadToken, Token: "F1.forged"},
		{TicketID: "00000000-0000-0000-0000-000000000001", Token: "F1.k.unknown"},
		{TicketID: tk.ID, Token: tk.Token + "x"},
	} {
		got := f.scan(sc)
		if got.Result != db.Invalid || got.SeatLabel != "" || got.StudentName != "" || !got.FirstAt.IsZero() {
			t.Errorf("%+v: %+v", sc, got)
		}
	}

	// Another performance's ticket names the right one.
	f.exec(`UPDATE performances SET sales_open_at = now() - interval '1 hour' WHERE id = $1`, f.night.ID)
	nt := f.ticketFor(f.night, "A1", f.bob)
	if got := f.scan(db.Scan{TicketID: nt.ID, Token: nt.Token}); got.Result != db.WrongPerformance || got.PerformanceSlug != "night" || got.PerformanceTitle == "" {
		t.Errorf("night ticket at the opening door: %+v", got)
	}

	// A cancelled ticket.
	ct := f.ticketFor(f.opening, "D5", f.bob)
	if _, err := f.store.CancelTicket(ctx, ct.ID, f.bob, student); err != nil {
		t.Fatal(err)
	}
	if got := f.scan(db.Scan{TicketID: ct.ID, Token: ct.Token}); got.Result != db.Cancelled || got.SeatLabel != "D5" {
		t.Errorf("cancelled ticket: %+v", got)
	}

	// An unknown performance writes nothing.
	before := f.count(`SELECT count(*) FROM scan_log`)
	if _, err := f.store.RecordScan(ctx, db.Scan{Performance: "nope", Gate: "north", TicketID: tk.ID, Token: tk.Token}); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown performance: %v", err)
	}
	if f.count(`SELECT count(*) FROM scan_log`) != before {
		t.Error("a scan for an unknown performance was logged")
	}

	// Every scan is in the log with its reason; one check-in per ticket.
	rows, _ := f.store.Pool.Query(ctx, `SELECT result || '/' || reason FROM scan_log ORDER BY id`)
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	want := []string{"admitted/admitted", "already-used/checked_in", "invalid/bad_token", "invalid/unknown_ticket",
		"invalid/token_mismatch", "wrong-performance/other_performance", "cancelled/cancelled"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scan_log:\n got %v\nwant %v", got, want)
	}
	if n := f.count(`SELECT count(*) FROM check_ins`); n != 1 {
		t.Errorf("%d check-ins", n)
	}
}

// One scan sent again (an offline door syncing twice, a retry after a
// lost answer) is applied once and gets its first verdict back.
func TestScanWithNonceAppliesOnce(t *testing.T) {
	f := setup(t)
	tk := f.ticketFor(f.opening, "E1", f.alice)
	sc := db.Scan{TicketID: tk.ID, Token: tk.Token, Nonce: "nonce-0123456789abcdef", ScannedAt: time.Now().Add(-time.Minute)}
	first := f.scan(sc)
	second := f.scan(sc)
	if first.Result != db.Admitted || first.Replayed || second.Result != db.Admitted || !second.Replayed {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if n := f.count(`SELECT count(*) FROM scan_log WHERE nonce = $1 AND offline`, sc.Nonce); n != 1 {
		t.Errorf("%d log rows for one nonce", n)
	}
	// The check-in keeps the door's time, not the sync's.
	if d := time.Since(first.FirstAt); d < 50*time.Second {
		t.Errorf("offline check-in stamped %v ago, want about a minute", d)
	}
	// Another door's scan of the same ticket, with its own nonce, is the
	// duplicate.
	if got := f.scan(db.Scan{Gate: "south", TicketID: tk.ID, Token: tk.Token, Nonce: "nonce-south-000000000"}); got.Result != db.AlreadyUsed || got.Replayed {
		t.Errorf("second door: %+v", got)
	}
}

// The race the gate exists for: many doors scanning one ticket at the same
// instant. The database lets exactly one in.
func TestConcurrentScansAdmitOnce(t *testing.T) {
	f := setup(t)
	tk := f.ticketFor(f.opening, "F7", f.alice)
	const n = 40
	results := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			v, err := f.store.RecordScan(context.Background(), db.Scan{
				Performance: "opening", Gate: []string{"north", "south"}[i%2], TicketID: tk.ID, Token: tk.Token,
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = v.Result
		})
	}
	close(start)
	wg.Wait()
	admitted := 0
	for _, r := range results {
		switch r {
		case db.Admitted:
			admitted++
		case db.AlreadyUsed:
		default:
			t.Errorf("verdict %q", r)
		}
	}
	if admitted != 1 || f.count(`SELECT count(*) FROM check_ins`) != 1 {
		t.Fatalf("%d admitted, %d check-ins", admitted, f.count(`SELECT count(*) FROM check_ins`))
	}
}

// A ticket used at the gate stays used: the database refuses to cancel it
// or to check in a cancelled one, whichever code path tries.
func TestCheckInAndCancelGuards(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	tk := f.ticketFor(f.opening, "G3", f.alice)
	f.scan(db.Scan{TicketID: tk.ID, Token: tk.Token})
	if _, err := f.store.Pool.Exec(ctx, `UPDATE tickets SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, tk.ID); err == nil {
		t.Error("a used ticket was cancelled")
	}
	ct := f.ticketFor(f.opening, "G4", f.bob)
	if _, err := f.store.CancelTicket(ctx, ct.ID, f.bob, student); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Pool.Exec(ctx, `INSERT INTO check_ins (ticket_id, gate) VALUES ($1, 'x')`, ct.ID); err == nil {
		t.Error("a cancelled ticket was checked in")
	}
}

func TestLookupGateTickets(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.ticketFor(f.opening, "H8", f.alice)
	for _, q := range []string{"H8", "10101"} {
		got, err := f.store.LookupGateTickets(ctx, "opening", q)
		if err != nil || len(got) != 1 || got[0].SeatLabel != "H8" || got[0].StudentNo != "10101" || got[0].Token == "" {
			t.Errorf("lookup %s: %+v %v", q, got, err)
		}
	}
	if got, _ := f.store.LookupGateTickets(ctx, "night", "H8"); len(got) != 0 {
		t.Errorf("lookup in the other performance: %+v", got)
	}
}

// Two doors offline admit the same ticket; when they sync, the second is a
// duplicate, listed for every door and the council, however often it is
// sent.
func TestOfflineDuplicates(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	tk := f.ticketFor(f.opening, "J2", f.alice)
	other := f.ticketFor(f.opening, "J3", f.bob)
	at := time.Now().Add(-2 * time.Minute)
	north := db.Scan{Gate: "north", TicketID: tk.ID, Token: tk.Token, Nonce: "north-0000000000000001", ScannedAt: at, Local: db.Admitted}
	south := db.Scan{Gate: "south", TicketID: tk.ID, Token: tk.Token, Nonce: "south-0000000000000001", ScannedAt: at.Add(time.Second), Local: db.Admitted}
	if v := f.scan(north); v.Result != db.Admitted || v.Duplicate {
		t.Fatalf("north: %+v", v)
	}
	for range 2 {
		if v := f.scan(south); v.Result != db.AlreadyUsed || !v.Duplicate || v.FirstGate != "north" {
			t.Fatalf("south: %+v", v)
		}
	}
	// A door that refused the ticket on its own is no duplicate.
	f.scan(db.Scan{Gate: "east", TicketID: tk.ID, Token: tk.Token, Nonce: "east-00000000000000001", ScannedAt: at, Local: db.AlreadyUsed})
	dups, err := f.store.Duplicates(ctx, "opening")
	if err != nil || len(dups) != 1 || dups[0].SeatLabel != "J2" || dups[0].FirstGate != "north" || dups[0].Gate != "south" {
		t.Fatalf("duplicates: %+v %v", dups, err)
	}
	list, err := f.store.OfflineTickets(ctx, "opening")
	if err != nil || len(list) != 2 {
		t.Fatalf("offline list: %+v %v", list, err)
	}
	for _, o := range list {
		switch o.ID {
		case tk.ID:
			if o.CheckedInAt == nil || o.CheckedGate != "north" || o.SeatLabel != "J2" {
				t.Errorf("admitted ticket in the list: %+v", o)
			}
		case other.ID:
			if o.CheckedInAt != nil || o.Cancelled || o.StudentNo != "10102" {
				t.Errorf("fresh ticket in the list: %+v", o)
			}
		}
	}
}

// guestTicket gives seat of perf, held back at the desk first, to a
// guest named name, as the desk does, and returns the ticket's id and
// token.
func (f *fixture) guestTicket(perf db.Performance, seat, name string) (string, string) {
	f.t.Helper()
	ctx := context.Background()
	council := db.Actor{Kind: "staff", ID: f.staffID("council")}
	if err := f.store.ReserveSeat(ctx, perf.ID, seat, true, council, "내빈석"); err != nil {
		f.t.Fatalf("reserve %s: %v", seat, err)
	}
	id, err := f.store.IssueGuestTicket(ctx, perf.ID, seat, name, newID, sign, council, "초청")
	if err != nil {
		f.t.Fatalf("guest ticket %s: %v", seat, err)
	}
	var token string
	if err := f.store.Pool.QueryRow(ctx, `SELECT token FROM tickets WHERE id = $1::uuid`, id).Scan(&token); err != nil {
		f.t.Fatal(err)
	}
	return id, token
}

// A guest's ticket (no student, the guest's name on it) is a ticket like
// any other at the gate: admitted once with the guest's name, found by
// its seat, in the offline doors' list, and named in the duplicates.
func TestGuestTicketAtTheGate(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.ticketFor(f.opening, "K1", f.alice)
	id, token := f.guestTicket(f.opening, "K2", "초청 손님 박")

	list, err := f.store.OfflineTickets(ctx, "opening")
	if err != nil || len(list) != 2 {
		t.Fatalf("offline list: %+v %v", list, err)
	}
	for _, o := range list {
		if o.ID == id && (o.SeatLabel != "K2" || o.StudentName != "초청 손님 박" || o.StudentNo != "" || !o.Guest) {
			t.Errorf("the guest in the offline list: %+v", o)
		}
		if o.ID != id && (o.Guest || o.StudentNo != "10101") {
			t.Errorf("the student in the offline list: %+v", o)
		}
	}
	got, err := f.store.LookupGateTickets(ctx, "opening", "K2")
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].StudentName != "초청 손님 박" || !got[0].Guest || got[0].Token != token {
		t.Errorf("lookup K2: %+v %v", got, err)
	}
	if got, _ := f.store.LookupGateTickets(ctx, "opening", "K1"); len(got) != 1 || got[0].Guest {
		t.Errorf("lookup K1: %+v", got)
	}

	at := time.Now().Add(-time.Minute)
	v := f.scan(db.Scan{TicketID: id, Token: token})
	if v.Result != db.Admitted || v.SeatLabel != "K2" || v.StudentName != "초청 손님 박" || v.StudentNo != "" || !v.Guest {
		t.Fatalf("the guest's first scan: %+v", v)
	}
	again := f.scan(db.Scan{Gate: "south", TicketID: id, Token: token, Nonce: "south-guest-000000001", ScannedAt: at, Local: db.Admitted})
	if again.Result != db.AlreadyUsed || !again.Duplicate || again.StudentName != "초청 손님 박" || !again.Guest {
		t.Fatalf("the guest's second scan: %+v", again)
	}
	if v := f.scan(db.Scan{Reason: db.ReasonBadToken, Token: "F1.x"}); v.Guest {
		t.Errorf("an invalid scan is a guest: %+v", v)
	}
	dups, err := f.store.Duplicates(ctx, "opening")
	if err != nil || len(dups) != 1 || dups[0].SeatLabel != "K2" || dups[0].StudentName != "초청 손님 박" {
		t.Errorf("duplicates: %+v %v", dups, err)
	}
}

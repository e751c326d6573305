package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"festa/db"
)

// Two instances flushing the same minute add up; a performance page's
// views land on that performance; a slug that names no performance is
// dropped; every minute of the range comes back, empty ones as 0.
func TestPageViewsAddUpPerMinute(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	first := []db.PageViewCount{
		{Minute: now, Kind: "home", Views: 4},
		{Minute: now, Kind: "performance", PerformanceSlug: "opening", Views: 3},
		{Minute: now.Add(-2 * time.Minute), Kind: "performance", PerformanceSlug: "night", Views: 2},
		{Minute: now, Kind: "performance", PerformanceSlug: "no-such-show", Views: 9},
	}
	second := []db.PageViewCount{
		{Minute: now.Add(20 * time.Second), Kind: "home", Views: 1}, // the same minute
		{Minute: now, Kind: "performance", PerformanceSlug: "opening", Views: 5},
		{Minute: now, Kind: "login", Views: 6},
	}
	for _, batch := range [][]db.PageViewCount{first, second} {
		if err := f.store.AddPageViews(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count(`SELECT views FROM page_views WHERE kind = 'home' AND minute = $1`, now); n != 5 {
		t.Errorf("home views %d, want 5 (4 + 1)", n)
	}
	if n := f.count(`SELECT views FROM page_views WHERE performance_id = $1 AND minute = $2`, f.opening.ID, now); n != 8 {
		t.Errorf("opening views %d, want 8 (3 + 5)", n)
	}
	if n := f.count(`SELECT count(*) FROM page_views`); n != 4 {
		t.Errorf("%d rows, want 4 (home, login, opening, night; the unknown slug dropped)", n)
	}

	all, err := f.store.PageViewsPerMinute(ctx, 0, now.Add(-59*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 60 || !all[0].Minute.Equal(now.Add(-59*time.Minute)) || !all[59].Minute.Equal(now) {
		t.Fatalf("%d minutes from %v to %v, want 60 ending %v", len(all), all[0].Minute, all[len(all)-1].Minute, now)
	}
	if all[59].Views != 19 || all[57].Views != 2 || all[58].Views != 0 {
		t.Errorf("last three minutes %d %d %d, want 2 0 19", all[57].Views, all[58].Views, all[59].Views)
	}
	opening, err := f.store.PageViewsPerMinute(ctx, f.opening.ID, now.Add(-59*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if opening[59].Views != 8 || opening[57].Views != 0 {
		t.Errorf("opening's last minutes %d and %d, want 8 and 0", opening[59].Views, opening[57].Views)
	}
}

// The funnel of a scripted sale: page views, sign-ins, holds and
// confirmations by particular students, counted once each, apart by
// performance, only inside the window, and only the students' own.
func TestFunnelCountsEachStudentOncePerStep(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	council := db.Actor{Kind: "staff", ID: f.staffID("council")}
	if _, err := f.store.OpenSales(ctx, f.night.ID, council, ""); err != nil {
		t.Fatal(err)
	}
	ids := f.students(6)
	alice, bob, carol, dave, eve, frank := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	as := func(id int64) db.Actor { return db.Actor{Kind: "student", ID: id} }
	now := time.Now()
	if err := f.store.AddPageViews(ctx, []db.PageViewCount{
		{Minute: now, Kind: "performance", PerformanceSlug: "opening", Views: 7},
		{Minute: now, Kind: "performance", PerformanceSlug: "night", Views: 3},
		{Minute: now, Kind: "home", Views: 5}, // not a performance page: not "viewed"
		{Minute: now.Add(-3 * time.Hour), Kind: "performance", PerformanceSlug: "opening", Views: 100},
	}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Sign-ins: alice and bob from the opening's page, carol from the
	// night's, dave from the home page. eve signed in long ago (no row in
	// the window) and still holds. frank signed in three hours ago, from
	// the opening's page, and did nothing since.
	must(f.store.RecordSignIn(ctx, alice, "opening"))
	must(f.store.RecordSignIn(ctx, bob, "opening"))
	must(f.store.RecordSignIn(ctx, carol, "night"))
	must(f.store.RecordSignIn(ctx, dave, ""))
	must(f.store.RecordSignIn(ctx, frank, "opening"))
	f.exec(`UPDATE audit_log SET at = now() - interval '3 hours' WHERE action = 'login' AND actor_id = $1`, frank)
	// alice holds twice (C1, lets it go, C2) and does not confirm; bob
	// holds and confirms; eve only holds; carol books the night.
	for _, step := range []func() error{
		func() error { _, err := f.store.Hold(ctx, f.opening.ID, "C1", alice, as(alice)); return err },
		func() error { return f.store.Release(ctx, f.opening.ID, "C1", alice, as(alice)) },
		func() error { _, err := f.store.Hold(ctx, f.opening.ID, "C2", alice, as(alice)); return err },
		func() error { _, err := f.store.Hold(ctx, f.opening.ID, "D1", bob, as(bob)); return err },
		func() error { _, err := f.store.Confirm(ctx, f.opening.ID, bob, newID, sign, as(bob)); return err },
		func() error { _, err := f.store.Hold(ctx, f.opening.ID, "E1", eve, as(eve)); return err },
		func() error { _, err := f.store.Hold(ctx, f.night.ID, "F1", carol, as(carol)); return err },
		func() error { _, err := f.store.Confirm(ctx, f.night.ID, carol, newID, sign, as(carol)); return err },
	} {
		must(step())
	}
	// The ticket desk's actions are staff's, not a student's funnel, even
	// when the staff member's id is also a student's (here dave's, who
	// never held).
	f.exec(`SELECT festa_audit('staff', $1, 'hold', $2, 'G1', '', '', NULL, NULL)`, dave, f.opening.ID)
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'hold' AND actor_kind = 'student' AND actor_id = $1`, alice); n != 2 {
		t.Fatalf("alice has %d hold rows, want 2 (the test relies on it)", n)
	}

	hourAgo := now.Add(-time.Hour)
	for _, tc := range []struct {
		name  string
		perf  int64
		since time.Time
		want  db.Funnel
	}{
		// alice and bob signed in here; eve held without signing in again.
		{"opening, last hour", f.opening.ID, hourAgo, db.Funnel{Viewed: 7, SignedIn: 3, Held: 3, Confirmed: 1}},
		{"night, last hour", f.night.ID, hourAgo, db.Funnel{Viewed: 3, SignedIn: 1, Held: 1, Confirmed: 1}},
		{"every performance, last hour", 0, hourAgo, db.Funnel{Viewed: 10, SignedIn: 5, Held: 4, Confirmed: 2}},
		// frank's sign-in and the early views count over the whole sale.
		{"opening, whole sale", f.opening.ID, time.Time{}, db.Funnel{Viewed: 107, SignedIn: 4, Held: 3, Confirmed: 1}},
		{"every performance, whole sale", 0, time.Time{}, db.Funnel{Viewed: 110, SignedIn: 6, Held: 4, Confirmed: 2}},
	} {
		got, err := f.store.Funnel(ctx, tc.perf, tc.since)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// Each funnel is one statement; the counts also match the audit log
	// read the plain way.
	if n := f.count(`SELECT count(DISTINCT actor_id) FROM audit_log WHERE action = 'hold' AND actor_kind = 'student' AND performance_id = $1`, f.opening.ID); n != 3 {
		t.Errorf("students holding the opening, counted directly: %d", n)
	}
}

// A sign-in is recorded with the performance it started from, and with no
// address or user agent.
func TestRecordSignInKeepsNoAddress(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if err := f.store.RecordSignIn(ctx, f.alice, "night"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RecordSignIn(ctx, f.bob, "no-such-show"); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'login' AND actor_kind = 'student' AND actor_id = $1 AND performance_id = $2 AND ip = '' AND user_agent = ''`, f.alice, f.night.ID); n != 1 {
		t.Errorf("alice's sign-in rows: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'login' AND actor_id = $1 AND performance_id IS NULL`, f.bob); n != 1 {
		t.Errorf("bob's sign-in from an unknown page: %d rows without a performance", n)
	}
}

// page_views holds counts and nothing that could name a person: its
// columns are exactly these, with no address, cookie, session, user agent
// or student.
func TestPageViewsSchemaHoldsNoIdentifiers(t *testing.T) {
	f := setup(t)
	rows, err := f.store.Pool.Query(context.Background(),
		`SELECT column_name::text FROM information_schema.columns WHERE table_name = 'page_views' ORDER BY column_name`)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"kind", "minute", "performance_id", "views"}; !slices.Equal(cols, want) {
		t.Errorf("page_views columns %v, want exactly %v", cols, want)
	}
}

// students returns the ids of the first n demo students.
func (f *fixture) students(n int) []int64 {
	f.t.Helper()
	rows, err := f.store.Pool.Query(context.Background(), `SELECT id FROM students ORDER BY id LIMIT $1`, n)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			f.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != n {
		f.t.Fatalf("%d students, want %d", len(ids), n)
	}
	return ids
}

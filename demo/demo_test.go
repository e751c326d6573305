package demo_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
	"time"

	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/passhash"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fingerprint digests every table the demo writes, so "changes nothing"
// means byte for byte.
func fingerprint(t *testing.T, store *db.Store) string {
	t.Helper()
	var sum string
	err := store.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT coalesce(string_agg(e::text, ',' ORDER BY id), '') FROM events e) ||
		(SELECT coalesce(string_agg(h::text, ',' ORDER BY id), '') FROM halls h) ||
		(SELECT coalesce(string_agg(s::text, ',' ORDER BY id), '') FROM seats s) ||
		(SELECT coalesce(string_agg(p::text, ',' ORDER BY id), '') FROM performances p) ||
		(SELECT coalesce(string_agg(ps::text, ',' ORDER BY performance_id, seat_id), '') FROM performance_seats ps) ||
		(SELECT coalesce(string_agg(st::text, ',' ORDER BY id), '') FROM students st) ||
		(SELECT coalesce(string_agg(sf::text, ',' ORDER BY id), '') FROM staff sf) ||
		(SELECT coalesce(string_agg(x::text, ',' ORDER BY key), '') FROM settings x))`).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestLoadIsIdempotent(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	opts := demo.Options{Students: 130, Hash: passhash.Fast}
	first, err := demo.Load(ctx, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.StudentsAdded != 130 {
		t.Fatalf("first load added %d students, want 130", first.StudentsAdded)
	}
	before := fingerprint(t, store)
	opts.Now = time.Now().Add(48 * time.Hour) // a later run must not move sales times either
	second, err := demo.Load(ctx, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.StudentsAdded != 0 {
		t.Errorf("second load added %d students", second.StudentsAdded)
	}
	if after := fingerprint(t, store); after != before {
		t.Error("second load changed the database")
	}
	// The codes printed the second time are the ones that work.
	var a, b bytes.Buffer
	demo.WriteCodes(&a, first.Students)
	demo.WriteCodes(&b, second.Students)
	if a.String() != b.String() {
		t.Error("second load wrote different codes")
	}
	for i, l := range second.Staff {
		if l.Password == "" || l.Password != first.Staff[i].Password {
			t.Errorf("staff %s: password not reproducible", l.Username)
		}
		h, _ := store.StaffPasswordHash(ctx, l.Username)
		if ok, _ := passhash.Verify(h, l.Password); !ok {
			t.Errorf("staff %s: printed password does not verify", l.Username)
		}
	}
	rows, _ := csv.NewReader(&a).ReadAll()
	if len(rows) != 131 || rows[0][0] != "student_no" {
		t.Fatalf("codes CSV has %d rows, header %v", len(rows), rows[0])
	}
	// Student codes are 10 characters of the code alphabet, printed as
	// XXXXX-XXXXX; the stored hash is of the code without the dash.
	codeRE := regexp.MustCompile(`^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$`)
	for _, row := range rows[1:] {
		if !codeRE.MatchString(row[2]) {
			t.Fatalf("student %s: code %q is not XXXXX-XXXXX", row[0], row[2])
		}
	}
	st, err := store.StudentCredentials(ctx, rows[1][0])
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := passhash.Verify(st.CodeHash, strings.ReplaceAll(rows[1][2], "-", "")); !ok {
		t.Error("the printed code (without its dash) does not verify")
	}
}

func TestHallAndPerformances(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, store, demo.Options{Students: 1, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	ev, err := store.FirstEvent(ctx)
	if err != nil || ev.Slug != "pureunsup-2026" {
		t.Fatalf("event %+v, %v", ev, err)
	}
	perfs, err := store.EventPerformances(ctx, ev.ID)
	if err != nil || len(perfs) != 2 {
		t.Fatalf("performances %v, %v", perfs, err)
	}
	opening, night := perfs[0], perfs[1]
	if opening.Slug != "opening" || night.Slug != "night" {
		t.Fatalf("order %s, %s", opening.Slug, night.Slug)
	}
	if opening.Occupancy.Capacity != 588 || opening.Occupancy.Available != 588 {
		t.Errorf("opening occupancy %+v, want 588 of 600 seats (12 blocked)", opening.Occupancy)
	}
	now := time.Now()
	if !opening.SalesOpenAt.Before(now) || !night.SalesOpenAt.After(now) {
		t.Errorf("opening sales from %v, night from %v: want open now and later", opening.SalesOpenAt, night.SalesOpenAt)
	}
	var accessible int
	store.Pool.QueryRow(ctx, `SELECT count(*) FROM seats WHERE kind = 'accessible'`).Scan(&accessible)
	if accessible == 0 {
		t.Error("no accessible seats")
	}
}

func TestSettingStudentPasswordsFlag(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, store, demo.Options{Students: 1, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	res, err := demo.Load(ctx, store, demo.Options{Students: 1, Hash: passhash.Fast, AdminPassword: "new-secret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := store.StaffPasswordHash(ctx, "council")
	if ok, _ := passhash.Verify(h, "new-secret-pw"); !ok {
		t.Error("--admin-password did not take")
	}
	if res.Staff[0].Password != "new-secret-pw" {
		t.Errorf("printed %q", res.Staff[0].Password)
	}
	// A later run without the flag must not claim the derived password.
	res, _ = demo.Load(ctx, store, demo.Options{Students: 1, Hash: passhash.Fast})
	if res.Staff[0].Password != "" {
		t.Errorf("printed a stale password %q", res.Staff[0].Password)
	}
}

func TestLoginsDescribeWithoutWriting(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	if _, err := demo.Logins(ctx, store); err == nil {
		t.Fatal("Logins on an empty database found a demo")
	}
	loaded, err := demo.Load(ctx, store, demo.Options{Students: 3, Hash: passhash.Fast})
	if err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, store)
	got, err := demo.Logins(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, store) != before {
		t.Error("Logins changed the database")
	}
	if got.Students[0] != loaded.Students[0] || len(got.Staff) != 2 || got.Staff[0] != loaded.Staff[0] || got.Staff[1] != loaded.Staff[1] {
		t.Errorf("Logins %+v, loaded %+v", got, loaded)
	}
}

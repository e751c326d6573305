package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"festa/db"
	"festa/db/dbtest"
)

// staffDigest is the staff table and the audit log's size: what a refused
// staff change must leave alone.
func staffDigest(t *testing.T, store *db.Store) string {
	t.Helper()
	var s string
	err := store.Pool.QueryRow(context.Background(), `SELECT coalesce((SELECT string_agg(concat_ws('|', id, username, role, enabled, password_hash), ',' ORDER BY id) FROM staff), '')
		|| (SELECT count(*)::text FROM audit_log)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The last enabled council account can be neither disabled, demoted nor
// deleted, through the Store or by hand in SQL; with a second council
// account either may go, and every change is one audit row without the
// password.
func TestLastCouncilStays(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	sys := db.Actor{Kind: "system"}
	first, err := store.CreateStaff(ctx, "chair", "council", "hash-1", sys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateStaff(ctx, "chair", "gate", "hash-2", sys); !errors.Is(err, db.ErrStaffExists) {
		t.Fatalf("a taken username: %v", err)
	}
	gate, err := store.CreateStaff(ctx, "door", "gate", "hash-3", sys)
	if err != nil {
		t.Fatal(err)
	}
	before := staffDigest(t, store)
	if _, err := store.SetStaffEnabled(ctx, first.ID, false, sys); !errors.Is(err, db.ErrLastCouncil) {
		t.Errorf("disable the last council: %v", err)
	}
	if _, err := store.SetStaffRole(ctx, first.ID, "gate", sys); !errors.Is(err, db.ErrLastCouncil) {
		t.Errorf("demote the last council: %v", err)
	}
	for _, q := range []string{`UPDATE staff SET enabled = false`, `UPDATE staff SET role = 'gate'`, `DELETE FROM staff`} {
		if _, err := store.Pool.Exec(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	if staffDigest(t, store) != before {
		t.Fatal("a refused change changed something")
	}
	// A gate account can come and go freely.
	if acc, err := store.SetStaffEnabled(ctx, gate.ID, false, sys); err != nil || acc.Enabled {
		t.Fatalf("disable gate: %+v %v", acc, err)
	}
	// With a second council account the first may step down.
	if _, err := store.SetStaffRole(ctx, gate.ID, "council", sys); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetStaffEnabled(ctx, gate.ID, true, sys); err != nil {
		t.Fatal(err)
	}
	if acc, err := store.SetStaffRole(ctx, first.ID, "gate", sys); err != nil || acc.Role != "gate" {
		t.Fatalf("demote with another council: %+v %v", acc, err)
	}
	if _, err := store.ResetStaffPassword(ctx, first.ID, "hash-new", sys); err != nil {
		t.Fatal(err)
	}
	var n int
	store.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action LIKE 'staff_%'
		AND (coalesce(before::text, '') || coalesce(after::text, '')) NOT LIKE '%hash%'`).Scan(&n)
	if n != 7 { // 2 adds, disable, role, enable, role, password
		t.Errorf("%d staff audit rows without a hash, want 7", n)
	}
	if _, err := store.SetStaffEnabled(ctx, 999999, false, sys); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
}

// Two council members disabling each other at once: one wins, one is
// refused, and a council account remains.
func TestLastCouncilRace(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	sys := db.Actor{Kind: "system"}
	var ids [2]int64
	for i, name := range []string{"ann", "ben"} {
		acc, err := store.CreateStaff(ctx, name, "council", "h", sys)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = acc.ID
	}
	for range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() { _, errs[i] = store.SetStaffEnabled(ctx, ids[i], false, sys) })
		}
		wg.Wait()
		var enabled int
		store.Pool.QueryRow(ctx, `SELECT count(*) FROM staff WHERE role = 'council' AND enabled`).Scan(&enabled)
		if enabled != 1 || (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("after a race: %d enabled council accounts, errors %v", enabled, errs)
		}
		store.Pool.Exec(ctx, `UPDATE staff SET enabled = true`)
	}
}

package dbtest_test

import (
	"context"
	"testing"

	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Two tests get two different, migrated databases.
func TestIsolatedDatabases(t *testing.T) {
	a, b := dbtest.New(t), dbtest.New(t)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'a')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Pool.QueryRow(ctx, `SELECT count(*) FROM settings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second database sees %d settings rows from the first", n)
	}
}

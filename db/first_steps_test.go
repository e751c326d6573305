package db_test

import (
	"context"
	"testing"

	"festa/db"
	"festa/db/dbtest"
)

// The checklist follows the database from empty to sales open: each step
// is done only once what it names exists.
func TestFirstSteps(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := store.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		sql  string
		want db.FirstSteps
	}{
		{"", db.FirstSteps{}},
		{`INSERT INTO events (slug, name) VALUES ('fest', '축제')`, db.FirstSteps{Event: true}},
		{`INSERT INTO halls (slug, name) VALUES ('hall', '강당')`, db.FirstSteps{Event: true, Hall: true}},
		{`INSERT INTO performances (event_id, hall_id, slug, title, starts_at, sales_open_at, sales_close_at)
			SELECT e.id, h.id, 'opening', '개막', now() + interval '3 days', now() + interval '1 day', now() + interval '2 days' FROM events e, halls h`,
			db.FirstSteps{Event: true, Hall: true, Performance: true}},
		{`INSERT INTO students (student_no, name, code_hash) VALUES ('10101', '가', ''), ('10102', '나', ''), ('10103', '다', 'x')`,
			db.FirstSteps{Event: true, Hall: true, Performance: true, Students: 3, WithoutCode: 2}},
		{`UPDATE students SET enabled = false WHERE student_no = '10102'`,
			db.FirstSteps{Event: true, Hall: true, Performance: true, Students: 2, WithoutCode: 1}},
		{`UPDATE students SET code_hash = 'y'`,
			db.FirstSteps{Event: true, Hall: true, Performance: true, Students: 2}},
		{`UPDATE performances SET sales_open_at = now() - interval '1 minute'`,
			db.FirstSteps{Event: true, Hall: true, Performance: true, Students: 2, SalesOpened: true}},
	} {
		if step.sql != "" {
			exec(step.sql)
		}
		got, err := store.FirstSteps(ctx)
		if err != nil || got != step.want {
			t.Fatalf("after %.60q: %+v %v, want %+v", step.sql, got, err, step.want)
		}
	}
}

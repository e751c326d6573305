package server_test

import (
	"testing"
	"time"

	"festa/apptest"
	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The instance tests run is the one `festa serve` runs, hold sweeper
// included (tests choose how often it runs): a hold that ran out is
// written down as expired by the system without anyone asking.
func TestInstanceSweepsExpiredHolds(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2, SweepEvery: 200 * time.Millisecond})
	c := app.NewClient(t)
	c.SignIn(app.Demo.Students[0].No)
	c.Get("/p/opening")
	if status, body := c.Post("/p/opening/hold", map[string][]string{"seat": {"C5"}}, true); status != 200 {
		t.Fatalf("hold: %d\n%s", status, body)
	}
	app.Exec(t, `UPDATE performance_seats SET held_until = now() - interval '1 second' WHERE state = 'held'`)
	deadline := time.Now().Add(15 * time.Second)
	for app.Count(t, `SELECT count(*)::int FROM audit_log WHERE action = 'expire' AND actor_kind = 'system'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no sweep wrote the expired hold down within 15 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := app.Count(t, `SELECT count(*)::int FROM performance_seats WHERE state = 'held'`); n != 0 {
		t.Fatalf("%d holds left after the sweep", n)
	}
}

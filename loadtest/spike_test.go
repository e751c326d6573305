package loadtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestSpikeKeepsInvariants runs a small opening minute through the whole
// handler stack — 300 students after 60 seats while 200 viewers watch —
// and asserts what must hold whatever the timings: every seat sold once,
// the database consistent, no answer outside the expected refusals, and
// every viewer shown every sold seat.
func TestSpikeKeepsInvariants(t *testing.T) {
	if testing.Short() {
		t.Skip("spike: not in -short")
	}
	app := apptest.Start(t, apptest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, err := Run(ctx, Options{
		URL: app.URL, Store: app.Store,
		Students: 300, Viewers: 200, Seats: 60,
		OpenIn:       time.Second,
		BestFraction: 0.3, Retry: 0.8,
		// Students come from eight loopback addresses, as through nginx.
		Sources: 8,
		Log:     t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r.Print(&out)
	t.Log("\n" + out.String())

	for _, c := range r.Invariants {
		if !c.OK {
			t.Errorf("invariant %q broken: %s", c.Name, c.Detail)
		}
	}
	if !r.OK || len(r.Invariants) != 4 {
		t.Errorf("report OK = %v with %d checks", r.OK, len(r.Invariants))
	}
	if r.SignIn.OK != 300 {
		t.Errorf("%d of 300 students signed in: %v", r.SignIn.OK, r.SignIn.Errors)
	}
	// 300 students with one ticket each after 60 seats sell them all.
	if r.Burst.Tickets != 60 {
		t.Errorf("%d tickets confirmed, want all 60 seats", r.Burst.Tickets)
	}
	if n := app.Count(t, `SELECT count(*) FROM performance_seats ps JOIN performances p ON p.id = ps.performance_id
		WHERE p.slug = $1 AND ps.state = 'sold'`, r.Performance); n != 60 {
		t.Errorf("%d seats sold in the database, want 60", n)
	}
	if n := app.Count(t, `SELECT count(DISTINCT a.ip) FROM audit_log a JOIN performances p ON p.id = a.performance_id
		WHERE p.slug = $1 AND a.actor_kind = 'student'`, r.Performance); n != 8 {
		t.Errorf("bookings came from %d addresses, want the 8 sources", n)
	}
	// Only the refusals a crowd earns: a seat taken first, the server's
	// best-available losing its races, sold out, a tap a moment early.
	for kind, n := range r.Burst.Errors {
		ok := false
		for _, want := range []string{"409 taken", "409 busy", "409 sold out", "403 not open"} {
			ok = ok || kind == want
		}
		if !ok {
			t.Errorf("unexpected answer %q ×%d", kind, n)
		}
	}
	if r.Live.Connected != 200 || r.Live.Dropped != 0 {
		t.Errorf("viewers: %d connected, %d dropped (%v)", r.Live.Connected, r.Live.Dropped, r.Live.DropCodes)
	}
	if r.Live.Missed != 0 {
		t.Errorf("viewers missed %d sightings of sold seats", r.Live.Missed)
	}
	if r.Live.Lag.Count != 200*60 {
		t.Errorf("%d click→screen samples, want one per viewer and seat (12000)", r.Live.Lag.Count)
	}
}

func TestSeatStatesReadsAnyAttributeOrder(t *testing.T) {
	msg := []byte(`<div id="seatmap"><button id="seat-A1" data-seat="A1" data-state="held" class="seat">1</button>` +
		`<button data-state="sold" class="seat" data-seat="B12" hx-swap-oob="true">12</button>` +
		`<span class="swatch" data-state="available"></span><button data-seat="C3">3</button></div>`)
	got := seatStates(msg)
	want := []seatState{{"A1", "held"}, {"B12", "sold"}}
	if len(got) != len(want) {
		t.Fatalf("seatStates = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("seatStates[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestParseFloorReadsTheFloorsOutput(t *testing.T) {
	out := "booking-floor burst: 3000 students, 12603 requests in 1.02s (12356/s): held 600, taken 12003, failed 0\n" +
		"hold p50=163ms p95=242ms p99=259ms max=1.2s\n"
	f, err := parseFloor(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Requests != 12603 || f.Seconds != 1.02 || f.Hold.P50 != 163 || f.Hold.P99 != 259 || f.Hold.Max != 1200 {
		t.Errorf("parseFloor = %+v", f)
	}
	if _, err := parseFloor("no figures"); err == nil {
		t.Error("parseFloor accepted output without figures")
	}
}

package realtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/db"
)

// pagePosition is where a page of the performance drawn now stands: the
// version its seats were read at and the server time.
func pagePosition(t testing.TB, store *db.Store, perf int64) (int64, time.Time) {
	t.Helper()
	_, version, err := store.PerformanceSeats(context.Background(), perf)
	if err != nil {
		t.Fatal(err)
	}
	return version, time.Now()
}

func ids(els []element) string {
	var s []string
	for _, e := range els {
		s = append(s, e.id)
	}
	return strings.Join(s, ",")
}

// A page just loaded already shows the hall: its socket sends nothing
// first, and the first message it gets is the next change, seat by seat,
// never the whole #seatmap again.
func TestFreshPageGetsNoFullState(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	version, at := pagePosition(t, app.Store, perf)
	had := dbSeats(t, app.Store, perf)
	v := dial(t, app.URL, since("opening", version, at), "ko", nil)
	waitFor(t, "the viewer admitted", func() bool {
		return apptest.Metric(t, app.Registry, "festa_live_first_messages_total") == 1
	})

	hold(t, app.Store, perf, students(t, app.Store, 1)[0], time.Hour, "C12")
	app.Notifier.Poke(perf)
	els := v.next()
	if got := news(els, had); got != "seat-C12,occupancy" {
		t.Fatalf("first message after a fresh page: %s, want seat-C12,occupancy", ids(els))
	}
	// The message's horizon never goes back (it may stay where it was
	// while another transaction is still open).
	if v.state("C12") != "held" || v.version < version {
		t.Fatalf("C12 %q at horizon %d, want held at %d or later", v.state("C12"), v.version, version)
	}
}

// A page a few changes behind gets just the seats that changed since its
// version (and the count), and then knows the version it is at.
func TestBehindPageGetsOnlyChanges(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	// Another viewer keeps the hub running throughout.
	other := dial(t, app.URL, "/ws/p/opening", "en", nil)
	other.next()
	time.Sleep(2 * time.Second) // the page below is drawn well after the hub loaded
	version, at := pagePosition(t, app.Store, perf)
	st := students(t, app.Store, 3)
	hold(t, app.Store, perf, st[0], time.Hour, "D1")
	hold(t, app.Store, perf, st[1], time.Hour, "D2")
	hold(t, app.Store, perf, st[2], time.Hour, "D3")
	free(t, app.Store, perf, "D2")

	v := dial(t, app.URL, since("opening", version, at), "ko", nil)
	els := v.next()
	if got := ids(els); got != "seat-D1,seat-D2,seat-D3,occupancy" {
		t.Fatalf("catch-up: %s, want seat-D1,seat-D2,seat-D3,occupancy", got)
	}
	if v.state("D1") != "held" || v.state("D2") != "available" || v.state("D3") != "held" || v.occ["data-held"] != "2" {
		t.Fatalf("catch-up seats D1 %s D2 %s D3 %s, occupancy %v", v.state("D1"), v.state("D2"), v.state("D3"), v.occ)
	}
	// The message's horizon is the feed's last read, never before the
	// page's; the reconnect below shows nothing repeats from it.
	if v.version < version {
		t.Fatalf("#live-version %d, want at least the page's %d", v.version, version)
	}

	// Reconnecting from the position that message gave: only what changed
	// after it.
	v.c.CloseNow()
	had := dbSeats(t, app.Store, perf)
	hold(t, app.Store, perf, st[1], time.Hour, "E5")
	again := dial(t, app.URL, since("opening", v.version, time.Unix(v.at, 0)), "ko", nil)
	if els := again.next(); news(els, had) != "seat-E5,occupancy" {
		t.Fatalf("after a reconnect: %s, want seat-E5,occupancy", ids(els))
	}
}

// A page too far behind gets the whole hall in one #seatmap: one swap is
// cheaper for a phone than dozens of seats. So does a page that does not
// say where it stands.
func TestFarBehindPageGetsFullGrid(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	version, at := pagePosition(t, app.Store, perf)
	if _, err := app.Store.Pool.Exec(context.Background(), `UPDATE performances SET ticket_limit = 10 WHERE id = $1`, perf); err != nil {
		t.Fatal(err)
	}
	for i, st := range students(t, app.Store, 6) {
		row := string(rune('A' + i))
		hold(t, app.Store, perf, st, time.Hour, row+"1", row+"2", row+"3", row+"4", row+"5", row+"6", row+"7", row+"8", row+"9", row+"10")
	}
	v := dial(t, app.URL, since("opening", version, at), "ko", nil)
	els := v.next()
	if got := ids(els); got != "seatmap,occupancy,sales-banner,sales-pill" {
		t.Fatalf("60 changes behind: %s, want seatmap,occupancy,sales-banner,sales-pill", got)
	}
	if want := dbSeats(t, app.Store, perf); !v.matches(want) {
		t.Fatal("the full grid differs from the database")
	}
	for _, q := range []string{"", "?v=12", "?v=x&t=1", "?v=-1&t=1700000000", "?t=1700000000"} {
		u := dial(t, app.URL, "/ws/p/opening"+q, "ko", nil)
		if got := ids(u.next()); got != "seatmap,occupancy,sales-banner,sales-pill" {
			t.Fatalf("position %q: %s, want the full grid", q, got)
		}
	}
}

// A hold that runs out has no change-log entry until the sweeper writes
// one, so a page drawn while it was live still shows it held: its socket
// must send it free, whether the hub saw it run out (another viewer kept
// it running) or loaded after it did (no viewer in between).
func TestLapsedHoldCaughtUp(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	st := students(t, app.Store, 2)

	// No viewer: the hub is created after the hold ran out.
	hold(t, app.Store, perf, st[0], time.Second, "G10")
	version, at := pagePosition(t, app.Store, perf)
	time.Sleep(1500 * time.Millisecond)
	cold := dial(t, app.URL, since("opening", version, at), "ko", nil)
	els := cold.next()
	if got := ids(els); got != "seat-G10,occupancy" || cold.state("G10") != "available" {
		t.Fatalf("hub loaded after the lapse: %s, G10 %q", got, cold.state("G10"))
	}

	// A viewer keeps the hub running and sees the hold run out on the
	// hub's clock.
	hold(t, app.Store, perf, st[1], 1500*time.Millisecond, "G9")
	app.Notifier.Poke(perf)
	cold.until("G9 held", func() bool { return cold.state("G9") == "held" })
	version, at = pagePosition(t, app.Store, perf)
	cold.until("G9 free", func() bool { return cold.state("G9") == "available" })
	warm := dial(t, app.URL, since("opening", version, at), "ko", nil)
	els = warm.next()
	if warm.state("G9") != "available" || !strings.Contains(ids(els), "seat-G9") || strings.Contains(ids(els), "seatmap") {
		t.Fatalf("hub saw the lapse: %s, G9 %q", ids(els), warm.state("G9"))
	}
}

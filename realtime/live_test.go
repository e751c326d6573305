package realtime_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"festa/apptest"
	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/i18n"
	"festa/passhash"
	"festa/realtime"
)

// A seat changed in the database reaches a real WebSocket viewer as the
// seat's own fragment with its new data-state; the viewer's first message
// is the whole hall and the occupancy, exactly as the database has it.
func TestSeatChangeReachesViewer(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	v := dial(t, app.URL, "/ws/p/opening", "ko", nil)

	first := v.next()
	want := dbSeats(t, app.Store, perf)
	if got := ids(first); got != "seatmap,occupancy,sales-banner,sales-pill" || len(first[0].seats) != len(want) || !v.matches(want) {
		t.Fatalf("first message: %s (want #seatmap, #occupancy and the sales banner and badge), or its seats differ from the database's %d", got, len(want))
	}
	if v.occ["data-capacity"] != "588" || v.occ["data-available"] != "588" || v.occ["data-held"] != "0" {
		t.Fatalf("first occupancy = %v, want 588 seats all available", v.occ)
	}
	if v.state("P13") != "blocked" {
		t.Fatalf("P13 (sound desk) = %q, want blocked", v.state("P13"))
	}

	st := students(t, app.Store, 1)[0]
	hold(t, app.Store, perf, st, 3*time.Minute, "C12")
	app.Notifier.Poke(perf)
	els := v.next()
	if len(els) != 2 || els[0].id != "seat-C12" || els[1].id != "occupancy" {
		t.Fatalf("update = %v, want seat-C12 then occupancy", els)
	}
	c12 := els[0].attrs
	if c12["data-state"] != "held" || len(c12["data-holder"]) < 8 || c12["data-holder"] == strconv.FormatInt(st, 10) {
		t.Fatalf("C12 = %v, want held with an opaque holder tag", c12)
	}
	if v.occ["data-held"] != "1" || v.occ["data-available"] != "587" {
		t.Fatalf("occupancy = %v, want 1 held, 587 available", v.occ)
	}

	// The NOTIFY echo of the same change (the listener hears this
	// instance's own NOTIFY) must not send it again: the next message is
	// the next change.
	free(t, app.Store, perf, "C12")
	app.Notifier.Poke(perf)
	els = v.next()
	if len(els) != 2 || els[0].id != "seat-C12" || v.state("C12") != "available" || v.occ["data-held"] != "0" {
		t.Fatalf("after release: %v, occupancy %v", els, v.occ)
	}
	// The server records a write just after it; wait for both.
	waitFor(t, "two latency samples", func() bool {
		return apptest.Metric(t, app.Registry, "festa_live_commit_to_write_seconds") == 2
	})
}

// The integration path: a hold made through HTTP by a signed-in
// student shows up on another viewer's socket.
func TestHoldOverHTTPReachesViewer(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	v := dial(t, app.URL, "/ws/p/opening", "en", nil)
	v.next()

	c := app.NewClient(t)
	c.SignIn(app.Demo.Students[0].No)
	c.Get("/p/opening")
	if status, body := c.Post("/p/opening/hold", url.Values{"seat": {"D7"}}, true); status != http.StatusOK {
		t.Fatalf("hold: %d\n%s", status, body)
	}
	v.until("D7 held", func() bool { return v.state("D7") == "held" })
	if v.seats["D7"].attrs["aria-label"] == "" || !strings.Contains(v.seats["D7"].attrs["aria-label"], "Row D") {
		t.Fatalf("D7's label is not English: %q", v.seats["D7"].attrs["aria-label"])
	}
}

// Two app instances on one database behave as one: a change poked on A
// reaches B's viewer, through NOTIFY alone (the periodic catch-up is off).
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	open := func() *db.Store {
		s, err := db.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	storeA, storeB := open(), open()
	res, err := demo.Load(context.Background(), storeA, demo.Options{Students: 20, Hash: passhash.Fast})
	if err != nil {
		t.Fatal(err)
	}
	a := apptest.Serve(t, storeA, res, apptest.Options{LiveCatchUp: time.Hour})
	b := apptest.Serve(t, storeB, res, apptest.Options{LiveCatchUp: time.Hour})
	waitFor(t, "both listeners", func() bool { return listeners(t, storeA) == 2 })

	perf := performance(t, storeA, "opening")
	onB := dial(t, b.URL, "/ws/p/opening", "ko", nil)
	onB.next()
	onA := dial(t, a.URL, "/ws/p/opening", "ko", nil)
	onA.next()
	ids := students(t, storeA, 2)

	hold(t, storeA, perf, ids[0], 3*time.Minute, "E5")
	a.Notifier.Poke(perf)
	onB.until("E5 held on B", func() bool { return onB.state("E5") == "held" })
	onA.until("E5 held on A", func() bool { return onA.state("E5") == "held" })

	hold(t, storeB, perf, ids[1], 3*time.Minute, "E6")
	b.Notifier.Poke(perf)
	onA.until("E6 held on A", func() bool { return onA.state("E6") == "held" })
	onB.until("E6 held on B", func() bool { return onB.state("E6") == "held" })
	if got := apptest.Metric(t, b.Registry, "festa_live_notifications_total"); got < 1 {
		t.Fatalf("B heard %v notifications", got)
	}
}

// A viewer that stops reading is dropped with 1013 once its queue is full,
// while another viewer of the same hub keeps getting every batch: the hub
// never waits on a socket.
func TestSlowViewerKicked(t *testing.T) {
	t.Parallel()
	store := dbtest.New(t)
	if _, err := demo.Load(context.Background(), store, demo.Options{Students: 20, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	perf := performance(t, store, "opening")
	reg, base := liveServer(t, store, perf, realtime.Config{QueueSize: 4, WriteTimeout: time.Minute})

	fast := dial(t, base, "/ws/p/opening", "ko", nil)
	fast.next()
	// The stalled viewer's socket takes a few kilobytes, then stops: it
	// never reads, and its receive buffer is tiny.
	slow := dial(t, base, "/ws/p/opening", "ko", &websocket.DialOptions{HTTPClient: &http.Client{
		Transport: &http.Transport{DialContext: (&net.Dialer{Control: smallBuffers}).DialContext},
	}})

	// One student per row, each holding eight seats.
	if _, err := store.Pool.Exec(context.Background(), `UPDATE performances SET ticket_limit = 10 WHERE id = $1`, perf); err != nil {
		t.Fatal(err)
	}
	rows := "ABCDEFGHIJKLMNO"
	ids := students(t, store, len(rows))
	batches := 0
	for i := 0; i < 200 && apptest.Metric(t, reg, "festa_live_viewers_kicked_total") == 0; i++ {
		row := string(rows[i%len(rows)])
		labels := make([]string, 8)
		for n := range labels {
			labels[n] = row + strconv.Itoa(n+1)
		}
		if i/len(rows)%2 == 0 {
			hold(t, store, perf, ids[i%len(rows)], time.Hour, labels...)
		} else {
			free(t, store, perf, labels...)
		}
		wantState := map[bool]string{true: "held", false: "available"}[i/len(rows)%2 == 0]
		announce(t, store, perf)
		// Every batch reaches the fast viewer while the slow one is stuck.
		fast.until("row "+row+" "+wantState, func() bool { return fast.state(labels[7]) == wantState })
		batches++
	}
	t.Logf("slow viewer dropped after %d batches", batches)
	if got := apptest.Metric(t, reg, "festa_live_viewers_kicked_total"); got != 1 {
		t.Fatalf("kicked = %v after %d batches, want 1", got, batches)
	}
	if code := slow.closeStatus(); code != websocket.StatusTryAgainLater {
		t.Fatalf("slow viewer closed with %v, want 1013", code)
	}
	// The fast one is still there and still served.
	free(t, store, perf, "T10")
	announce(t, store, perf)
	fast.until("T10 still available", func() bool { return fast.state("T10") == "available" })
	waitFor(t, "one viewer left", func() bool { return apptest.Metric(t, reg, "festa_live_viewers") == 1 })
}

// A viewer that joins just after its hub read the change log (inside the
// coalescing window, when the hub may not read it again yet) gets the
// state as of its join: a change committed before it joined, that no
// wake-up has announced yet, is in its first message. Admitted from the
// state in hand, it would show the seat free until some later wake-up,
// and over a newer page would move it back to an older state.
func TestJoinRightAfterARefresh(t *testing.T) {
	t.Parallel()
	store := dbtest.New(t)
	if _, err := demo.Load(context.Background(), store, demo.Options{Students: 2, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	perf := performance(t, store, "opening")
	// The longest window, so the join below lands inside it.
	_, base := liveServer(t, store, perf, realtime.Config{Window: 100 * time.Millisecond})
	other := dial(t, base, "/ws/p/opening", "en", nil)
	other.next()

	st := students(t, store, 2)
	hold(t, store, perf, st[0], time.Hour, "F1")
	announce(t, store, perf)
	other.until("F1 held", func() bool { return other.state("F1") == "held" })
	// The hub has just read the change log. F2 is held without a word to
	// it, and a viewer joins at once.
	hold(t, store, perf, st[1], time.Hour, "F2")
	v := dial(t, base, "/ws/p/opening", "ko", nil)
	v.next()
	if v.state("F1") != "held" || v.state("F2") != "held" || !v.matches(dbSeats(t, store, perf)) {
		t.Fatalf("first message after joining inside the window: F1 %q, F2 %q; want the database's state", v.state("F1"), v.state("F2"))
	}
}

// smallBuffers shrinks a socket's buffers so a peer that stops reading
// stalls its writer after a few kilobytes.
func smallBuffers(_, _ string, c syscall.RawConn) error {
	var err error
	c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		if err == nil {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		}
	})
	return err
}

// liveServer serves only the realtime broker (no handlers) for the
// performance, with small socket send buffers, and returns its registry
// and base URL. The test's wake-ups go through NOTIFY (a listener runs).
func liveServer(t testing.TB, store *db.Store, perf int64, cfg realtime.Config) (*prometheus.Registry, string) {
	t.Helper()
	messages, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg.Store, cfg.Messages, cfg.Registry, cfg.Logger = store, messages, reg, testLogger(t)
	b := realtime.NewBroker(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		realtime.NewListener(store, b, cfg.Logger).Run(ctx)
		close(done)
	}()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.ServePerformance(w, r, perf, i18n.Negotiate(r), nil)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = smallSendBuffers{ln.(*net.TCPListener)}
	srv.Start()
	t.Cleanup(func() {
		b.Close(context.Background())
		cancel()
		<-done
		srv.Close()
	})
	waitFor(t, "the listener", func() bool { return listeners(t, store) == 1 })
	return reg, srv.URL
}

type smallSendBuffers struct{ *net.TCPListener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.TCPListener.AcceptTCP()
	if err == nil {
		c.SetWriteBuffer(4096)
	}
	return c, err
}

// announce announces a change of perf the way another instance would:
// NOTIFY only, no local wake-up.
func announce(t testing.TB, store *db.Store, perf int64) {
	t.Helper()
	if err := store.NotifySeats(context.Background(), []int64{perf}); err != nil {
		t.Fatal(err)
	}
}

// The listener's connection is killed mid-stream and changes are made
// (and announced, to nobody) while it is down: after it reconnects the
// viewer shows exactly the database's state. The periodic catch-up is off,
// so the reconnect's own catch-up is what repairs it.
func TestListenerFailure(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{LiveCatchUp: time.Hour})
	perf := performance(t, app.Store, "opening")
	waitFor(t, "the listener", func() bool { return listeners(t, app.Store) == 1 })
	v := dial(t, app.URL, "/ws/p/opening", "ko", nil)
	v.next()
	ids := students(t, app.Store, 8)
	notify := func() { announce(t, app.Store, perf) }

	hold(t, app.Store, perf, ids[0], time.Hour, "F1")
	notify()
	v.until("F1 held (by NOTIFY)", func() bool { return v.state("F1") == "held" })

	var killed int
	err := app.Store.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, realtime.ListenerName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate listener: %v (%d killed)", err, killed)
	}
	// These land while nobody listens; their NOTIFYs are lost.
	for i, label := range []string{"F2", "F3", "F4", "F5", "F6", "F7"} {
		hold(t, app.Store, perf, ids[i+1], time.Hour, label)
		notify()
	}
	free(t, app.Store, perf, "F1")
	notify()

	want := dbSeats(t, app.Store, perf)
	v.until("the database's state", func() bool { return v.matches(want) })
	if got := apptest.Metric(t, app.Registry, "festa_live_listener_reconnects_total"); got < 1 {
		t.Fatalf("reconnects = %v", got)
	}
	// And the new connection carries NOTIFYs again.
	waitFor(t, "the listener back", func() bool { return listeners(t, app.Store) == 1 })
	hold(t, app.Store, perf, ids[0], time.Hour, "F8")
	notify()
	v.until("F8 held", func() bool { return v.state("F8") == "held" })
}

// Shutdown closes every viewer with 1012 (service restart), which htmx's
// ws extension answers by reconnecting; a viewer arriving during shutdown
// gets the same.
func TestShutdownCloses1012(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	ko := dial(t, app.URL, "/ws/p/opening", "ko", nil)
	ko.next()
	home := dial(t, app.URL, "/ws/home", "en", nil)
	home.next()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- app.Live.Close(ctx) }()
	for _, v := range []*viewer{ko, home} {
		if code := v.closeStatus(); code != websocket.StatusServiceRestart {
			t.Fatalf("closed with %v, want 1012", code)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	late := dial(t, app.URL, "/ws/p/opening", "ko", nil)
	if code := late.closeStatus(); code != websocket.StatusServiceRestart {
		t.Fatalf("late viewer closed with %v, want 1012", code)
	}
	if n := apptest.Metric(t, app.Registry, "festa_live_viewers"); n != 0 {
		t.Fatalf("viewers = %v after shutdown", n)
	}
}

// An unknown performance is a plain 404, before any upgrade.
func TestUnknownPerformance(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+"/ws/p/no-such-show", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial unknown performance: %v, %v", err, resp)
	}
}

// A hold that runs out is shown available when it does, before any
// sweeper writes it down (as a fresh page would show it).
func TestHoldExpiresLive(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	v := dial(t, app.URL, "/ws/p/opening", "ko", nil)
	v.next()
	hold(t, app.Store, perf, students(t, app.Store, 1)[0], 1500*time.Millisecond, "G9")
	app.Notifier.Poke(perf)
	v.until("G9 held", func() bool { return v.state("G9") == "held" })
	els := v.next() // no database change: the hub's own clock
	if len(els) != 2 || els[0].id != "seat-G9" || v.state("G9") != "available" || v.occ["data-held"] != "0" {
		t.Fatalf("after expiry: %v, occupancy %v", els, v.occ)
	}
}

// Each language gets its own rendering of the same batch.
func TestLanguages(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	ko := dial(t, app.URL, "/ws/p/opening", "ko-KR,ko;q=0.9", nil)
	en := dial(t, app.URL, "/ws/p/opening", "en-US,en;q=0.9", nil)
	ko.next()
	en.next()
	hold(t, app.Store, perf, students(t, app.Store, 1)[0], time.Hour, "H3")
	app.Notifier.Poke(perf)
	ko.until("H3 held", func() bool { return ko.state("H3") == "held" })
	en.until("H3 held", func() bool { return en.state("H3") == "held" })
	if l := ko.seats["H3"].attrs["aria-label"]; !strings.Contains(l, "H열") {
		t.Fatalf("Korean label %q", l)
	}
	if l := en.seats["H3"].attrs["aria-label"]; !strings.Contains(l, "Row H") {
		t.Fatalf("English label %q", l)
	}
	if n := apptest.Metric(t, app.Registry, "festa_live_batches_rendered_total"); n != 2 {
		t.Fatalf("batches rendered = %v, want one per language", n)
	}
}

// The home page's socket starts with every performance's availability
// and then sends only the ones whose counts changed.
func TestHomeAvailability(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	v := dial(t, app.URL, "/ws/home", "ko", nil)
	v.next()
	if len(v.avail) != 2 || v.avail["opening"].id == "" || v.avail["night"].id == "" {
		t.Fatalf("first home message: %v", v.avail)
	}
	hold(t, app.Store, perf, students(t, app.Store, 1)[0], time.Hour, "J1")
	app.Notifier.Poke(perf)
	els := v.next()
	if len(els) != 1 || els[0].id != "avail-opening" {
		t.Fatalf("home update = %v, want avail-opening only", els)
	}
}

// Pokes are coalesced: a burst for one performance is far fewer NOTIFYs
// than pokes, and at least one.
func TestNotifierCoalesces(t *testing.T) {
	t.Parallel()
	store := dbtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	conn, err := store.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+realtime.Channel); err != nil {
		t.Fatal(err)
	}
	n := realtime.NewNotifier(store, nil, testLogger(t))
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(runCtx); close(done) }()
	for range 200 {
		n.Poke(7)
	}
	stop()
	<-done // Run sends what is pending before it returns
	got := 0
	for {
		wait, c := context.WithTimeout(ctx, 200*time.Millisecond)
		note, err := conn.Conn().WaitForNotification(wait)
		c()
		if err != nil {
			break
		}
		if note.Payload != "7" {
			t.Fatalf("payload %q", note.Payload)
		}
		got++
	}
	if got == 0 || got > 20 {
		t.Fatalf("200 pokes made %d NOTIFYs", got)
	}
}

// Idle sockets are pinged: a viewer that answers stays (and still gets
// updates), one that does not is disconnected.
func TestPing(t *testing.T) {
	t.Parallel()
	store := dbtest.New(t)
	if _, err := demo.Load(context.Background(), store, demo.Options{Students: 20, Hash: passhash.Fast}); err != nil {
		t.Fatal(err)
	}
	perf := performance(t, store, "opening")
	reg, base := liveServer(t, store, perf, realtime.Config{PingInterval: 200 * time.Millisecond})
	alive := dial(t, base, "/ws/p/opening", "ko", nil)
	alive.next()
	silent := dial(t, base, "/ws/p/opening", "ko", nil) // never reads, so never answers a ping
	// alive reads (and so answers pings) while silent is found out.
	got := make(chan []element, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_, data, err := alive.c.Read(ctx)
		if err != nil {
			got <- nil
			return
		}
		els, _ := parseOOB(data)
		got <- els
	}()
	waitFor(t, "the silent viewer dropped", func() bool { return apptest.Metric(t, reg, "festa_live_viewers") == 1 })
	time.Sleep(500 * time.Millisecond) // a few more pings for the one that answers
	hold(t, store, perf, students(t, store, 1)[0], time.Hour, "K4")
	announce(t, store, perf)
	if els := <-got; len(els) != 3 || els[0].id != "seat-K4" || els[2].id != "live-version" {
		t.Fatalf("the answering viewer got %v", els)
	}
	if code := silent.closeStatus(); code == websocket.StatusNormalClosure {
		t.Fatalf("the silent viewer was closed normally")
	}
}

// Broker.Seats is the hall exactly as this instance's viewers were last
// shown it (booking answers count from it): nil while nobody watches, the
// first snapshot once someone does, a change as soon as a viewer has it,
// and each reading stays as it was when a later change comes.
func TestSeatsAreWhatViewersWereShown(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{})
	perf := performance(t, app.Store, "opening")
	if seats := app.Live.Seats(perf); seats != nil {
		t.Fatalf("%d seats with nobody watching", len(seats))
	}
	v := dial(t, app.URL, "/ws/p/opening", "ko", nil)
	v.next()
	state := func(seats []db.SeatState, label string) string {
		for _, s := range seats {
			if s.Label == label {
				return s.State
			}
		}
		return "missing"
	}
	first := app.Live.Seats(perf)
	if len(first) != len(dbSeats(t, app.Store, perf)) || state(first, "C12") != "available" || state(first, "P13") != "blocked" {
		t.Fatalf("first: %d seats, C12 %s, P13 %s", len(first), state(first, "C12"), state(first, "P13"))
	}
	hold(t, app.Store, perf, students(t, app.Store, 1)[0], 3*time.Minute, "C12")
	app.Notifier.Poke(perf)
	v.until("C12 held", func() bool { return v.state("C12") == "held" })
	if got := state(app.Live.Seats(perf), "C12"); got != "held" {
		t.Errorf("C12 is %s in Seats after the viewer saw it held", got)
	}
	if state(first, "C12") != "available" {
		t.Error("a later change altered an earlier reading of Seats")
	}
	if app.Live.Seats(0) != nil {
		t.Error("the event home's hub answered Seats")
	}
}

// Command festa-bench-live measures festa's live seat-map fan-out on one
// app instance: it opens N WebSocket viewers of one performance on a
// `festa serve` process, drives seat changes through the database (a
// committed UPDATE of performance_seats, numbered by the seat trigger, then
// a poke of a realtime.Notifier, which NOTIFYs the instance as another
// instance's booking would; -via booking uses the full hold and release
// transactions instead; -via http has signed-in students tap hold and
// release through the server itself, timing each tap and click-to-screen),
// and reports commit-to-receive latency, message rate, and the server's
// CPU and memory per viewer.
//
// Everything runs on loopback. Without DATABASE_URL it starts a private
// PostgreSQL in a temporary folder (removed at the end) and loads the demo
// festival. Without -url it starts the server itself from -festa and stops
// it at the end with SIGTERM, which also checks that every viewer is closed
// with 1012. Results and the exact command go to stdout; see
// docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"festa/db"
	"festa/demo"
	"festa/loadtest"
	"festa/passhash"
	"festa/pgcluster"
	"festa/realtime"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "festa-bench-live:", err)
		stop()
		os.Exit(1)
	}
}

type options struct {
	festa       string
	url         string
	viewers     int
	rate        float64
	duration    time.Duration
	settle      time.Duration
	ramp        int
	performance string
	lang        string
	via         string
	// watch spreads the viewers in turn over these instances (with -url:
	// changes made on one reach the others' viewers through NOTIFY).
	watch []string
	// setup is -via http's fresh performance and its bench students.
	setup *loadtest.Setup
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("festa-bench-live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.festa, "festa", "festa", "festa binary to start as the server (ignored with -url)")
	fs.StringVar(&o.url, "url", "", "benchmark this running server (http://127.0.0.1:PORT) instead of starting one; needs DATABASE_URL")
	fs.IntVar(&o.viewers, "viewers", 5000, "WebSocket viewers to open")
	fs.Float64Var(&o.rate, "rate", 100, "seat changes per second")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "how long to drive changes and measure")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "idle time after the viewers connect, before the idle memory reading")
	fs.IntVar(&o.ramp, "ramp", 1000, "viewers opened per second")
	fs.StringVar(&o.performance, "performance", "opening", "performance slug")
	fs.StringVar(&o.lang, "lang", "ko", "viewers' Accept-Language")
	watch := fs.String("watch", "", "comma-separated base URLs of instances to spread the viewers over in turn (default: the server); e.g. -url http://127.0.0.1:8081 -watch http://127.0.0.1:8081,http://127.0.0.1:8082")
	fs.StringVar(&o.via, "via", "update", "how seats change: update (one UPDATE of performance_seats per change, the seat trigger numbering it), booking (the handlers' hold and release transactions) or http (signed-in students tapping hold and release through the server, on a fresh 600-seat performance)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	for _, u := range strings.Split(*watch, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			o.watch = append(o.watch, u)
		}
	}
	if o.viewers < 1 || o.rate <= 0 || o.duration <= 0 || o.ramp < 1 {
		return errors.New("-viewers, -rate, -d and -ramp must be positive")
	}
	if o.via != "update" && o.via != "booking" && o.via != "http" {
		return errors.New("-via must be update, booking or http")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	dbURL, cleanup, err := database(ctx, getenv, logf)
	if err != nil {
		return err
	}
	defer cleanup()
	store, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()

	if o.via == "http" {
		// Bench students with known codes, on a performance of their own:
		// the demo's students' codes are hashed and unknown here.
		o.setup, err = loadtest.Prepare(ctx, store, loadtest.SetupOptions{Students: httpSeats, Seats: httpSeats})
		if err != nil {
			return err
		}
		o.performance = o.setup.Slug
	}
	base, server, err := startServer(ctx, o, dbURL, logf)
	if err != nil {
		return err
	}
	defer server.stop()
	res, err := measure(ctx, o, store, base, server, logf)
	if err != nil {
		return err
	}
	res.print(stdout, o, args)
	return nil
}

// database returns DATABASE_URL, or starts a private cluster in a temporary
// folder with the demo festival loaded.
func database(ctx context.Context, getenv func(string) string, logf func(string, ...any)) (string, func(), error) {
	if u := getenv("DATABASE_URL"); u != "" {
		return u, func() {}, loadDemo(ctx, u, logf)
	}
	dir, err := os.MkdirTemp("", "festa-bench-pg-")
	if err != nil {
		return "", nil, err
	}
	os.Chmod(dir, 0o755)
	cluster, err := pgcluster.Start(ctx, filepath.Join(dir, "pg"), pgcluster.Options{Log: logf})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	cleanup := func() {
		cluster.Stop()
		os.RemoveAll(dir)
	}
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE DATABASE festa")
		conn.Close(ctx)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	u := cluster.URL("festa")
	if err := loadDemo(ctx, u, logf); err != nil {
		cleanup()
		return "", nil, err
	}
	return u, cleanup, nil
}

func loadDemo(ctx context.Context, url string, logf func(string, ...any)) error {
	if err := db.MigrateURL(ctx, url); err != nil {
		return err
	}
	store, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer store.Close()
	logf("loading the demo festival…")
	_, err = demo.Load(ctx, store, demo.Options{Hash: passhash.Fast})
	return err
}

// server is the festa process under test.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

func (s *server) stop() {
	if s == nil || s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

func startServer(ctx context.Context, o options, dbURL string, logf func(string, ...any)) (string, *server, error) {
	if o.url != "" {
		return strings.TrimRight(o.url, "/"), &server{}, waitHealthy(ctx, o.url)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logFile, err := os.CreateTemp("", "festa-bench-server-*.log")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(o.festa, "serve", "--no-migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "FESTA_ADDR="+addr, "FESTA_BASE_URL=http://"+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", o.festa, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	logf("server: %s serve on %s (pid %d, log %s)", o.festa, addr, cmd.Process.Pid, logFile.Name())
	if err := waitHealthy(ctx, s.base); err != nil {
		s.stop()
		return "", nil, err
	}
	return s.base, s, nil
}

func waitHealthy(ctx context.Context, base string) error {
	for range 300 {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s/healthz never answered", base)
}

// results are the figures reported.
type results struct {
	viewers, connected, dialErrors int
	fullStateBytes                 int
	changes                        int64
	changeErrors                   int64
	achievedRate                   float64
	duration                       time.Duration

	lat                              *histogram
	taps                             *histogram     // -via http: each hold or release request, sent to answered
	tapErrors                        map[string]int // -via http: refused or failed taps by kind
	tapErrorsMu                      sync.Mutex
	messages                         int64
	early                            int64
	before, idle, loaded, afterStart serverStats
	after                            serverStats
	clientCPU                        time.Duration
	clientRSS                        int64
	closeCodes                       map[string]int
}

func (r *results) print(w io.Writer, o options, args []string) {
	n := float64(r.connected)
	secs := r.duration.Seconds()
	fmt.Fprintf(w, "festa live fan-out: %d viewers of %q, %.0f seat changes/s for %v, on %d CPUs (%s)\n",
		r.connected, o.performance, o.rate, r.duration, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "command: %s\n", strings.Join(args, " "))
	fmt.Fprintf(w, "viewers connected: %d of %d (%d dial errors); first message %d bytes of HTML (sent deflated)\n", r.connected, r.viewers, r.dialErrors, r.fullStateBytes)
	if len(o.watch) > 1 {
		fmt.Fprintf(w, "viewers spread in turn over %s; the server figures below are of %s alone\n", strings.Join(o.watch, ", "), o.url)
	}
	fmt.Fprintf(w, "seat changes (via %s): %d committed (%.1f/s), %d failed\n", o.via, r.changes, r.achievedRate, r.changeErrors)
	from := "commit-to-receive"
	if o.via == "http" {
		from = "click-to-screen (from sending the tap)"
		fmt.Fprintf(w, "taps (POST hold/release through the server): p50 %v  p95 %v  p99 %v  max %v  (%d answered)%s\n",
			r.taps.quantile(.5), r.taps.quantile(.95), r.taps.quantile(.99), r.taps.max(), r.taps.count(), kinds(r.tapErrors))
	}
	fmt.Fprintf(w, "%s: p50 %v  p95 %v  p99 %v  max %v  (%d samples, %d unmatched)\n",
		from, r.lat.quantile(.5), r.lat.quantile(.95), r.lat.quantile(.99), r.lat.max(), r.lat.count(), r.early)
	fmt.Fprintf(w, "messages received: %d (%.0f/s, %.1f per viewer per second)\n", r.messages, float64(r.messages)/secs, float64(r.messages)/secs/n)
	cpu := r.after.cpu - r.afterStart.cpu
	fmt.Fprintf(w, "server CPU: %.0f%% of one core (%.1f µs per viewer per second, %.1f µs per message sent)\n",
		100*cpu/secs, 1e6*cpu/secs/n, 1e6*cpu/math.Max(1, r.after.sent-r.afterStart.sent))
	fmt.Fprintf(w, "server memory, idle: RSS %s (+%.1f KiB per viewer over %s before viewers); heap+stacks in use +%.1f KiB per viewer, of which stacks %.1f KiB; live at the last GC +%.1f KiB per viewer; %d goroutines\n",
		mib(r.idle.rss), float64(r.idle.rss-r.before.rss)/1024/n, mib(r.before.rss),
		float64(r.idle.inuse-r.before.inuse)/1024/n, float64(r.idle.stack-r.before.stack)/1024/n,
		(r.idle.live()-r.before.live())/1024/n, int(r.idle.goroutines))
	fmt.Fprintf(w, "server memory, under load: RSS %s (+%.1f KiB per viewer); heap+stacks in use +%.1f KiB per viewer\n",
		mib(r.loaded.rss), float64(r.loaded.rss-r.before.rss)/1024/n, float64(r.loaded.inuse-r.before.inuse)/1024/n)
	fmt.Fprintf(w, "server: %.0f messages sent, %.0f viewers kicked (1013), %.0f batches rendered; its commit-to-write p99 ≤ %s\n",
		r.after.sent-r.afterStart.sent, r.after.kicked, r.after.batches-r.afterStart.batches, r.after.p99)
	fmt.Fprintf(w, "load generator (this process, %d viewers' clients and the booking transactions): CPU %.0f%% of one core, RSS %s\n",
		r.connected, 100*r.clientCPU.Seconds()/secs, mib(float64(r.clientRSS)))
	if r.closeCodes != nil {
		var parts []string
		for code, k := range r.closeCodes {
			parts = append(parts, fmt.Sprintf("%s×%d", code, k))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "server stopped (SIGTERM): viewers closed with %s\n", strings.Join(parts, ", "))
	}
}

// tap sends phone's hold (or release) of label through the server, as
// the page's htmx does, timing the answer; it returns what went wrong, by
// kind ("" for nothing), and counts it.
func (r *results) tap(ctx context.Context, phone *loadtest.Client, slug, label string, hold bool) string {
	var a loadtest.Answer
	if hold {
		a, _ = phone.Hold(ctx, slug, label)
	} else {
		a, _ = phone.Release(ctx, slug, label)
	}
	if a.Err == nil {
		r.taps.add(a.Took)
	}
	kind := phone.Kind(a)
	if kind != "" {
		r.tapErrorsMu.Lock()
		r.tapErrors[kind]++
		r.tapErrorsMu.Unlock()
	}
	return kind
}

// kinds lists failed taps by kind, or nothing when none failed.
func kinds(errs map[string]int) string {
	if len(errs) == 0 {
		return ""
	}
	var parts []string
	for k, n := range errs {
		parts = append(parts, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(parts)
	return "; failed: " + strings.Join(parts, ", ")
}

// httpSeats is the size of -via http's performance, and its students: one
// per seat, each holding and releasing only their own.
const httpSeats = 600

// signIn signs in a phone per seat (n of setup's students), 32 at a time,
// each loading the performance page as a student does before tapping.
func signIn(ctx context.Context, base string, setup *loadtest.Setup, n int, logf func(string, ...any)) ([]*loadtest.Client, error) {
	logf("signing in %d students…", n)
	phones := make([]*loadtest.Client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := loadtest.NewClient(base, setup.TicketLimit)
			if err == nil {
				_, err = c.SignIn(ctx, setup.Students[i], setup.Slug)
			}
			if err != nil {
				errs <- fmt.Errorf("sign in %s: %w", setup.Students[i].No, err)
				return
			}
			phones[i] = c
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return phones, nil
}

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

// seatClock remembers, per seat, the state of its last committed change
// and when the commit returned.
type seatClock struct {
	index map[string]int
	state []atomic.Int32 // 1 held, 2 available
	at    []atomic.Int64 // unix nanoseconds of the commit
}

// stateCode numbers the two states the driver sets; 0 for any other.
func stateCode(state []byte) int32 {
	switch string(state) {
	case "held":
		return 1
	case "available":
		return 2
	}
	return 0
}

func measure(ctx context.Context, o options, store *db.Store, base string, srv *server, logf func(string, ...any)) (*results, error) {
	perf, err := store.PerformanceBySlug(ctx, o.performance)
	if err != nil {
		return nil, err
	}
	seats, _, err := store.PerformanceSeats(ctx, perf.ID)
	if err != nil {
		return nil, err
	}
	// Start with no seat held (an earlier run may have left holds).
	if _, err := store.Pool.Exec(ctx, `UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
		WHERE performance_id = $1 AND state = 'held'`, perf.ID); err != nil {
		return nil, err
	}
	var free []db.SeatState
	clock := &seatClock{index: map[string]int{}}
	for _, s := range seats {
		if s.State == "available" || s.State == "held" {
			clock.index[s.Label] = len(free)
			free = append(free, s)
		}
	}
	clock.state = make([]atomic.Int32, len(free))
	clock.at = make([]atomic.Int64, len(free))
	var students []int64
	var phones []*loadtest.Client
	if o.via == "http" {
		if phones, err = signIn(ctx, base, o.setup, len(free), logf); err != nil {
			return nil, err
		}
	} else {
		rows, _ := store.Pool.Query(ctx, `SELECT id FROM students WHERE enabled ORDER BY id LIMIT $1`, len(free))
		if students, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return nil, err
		}
		if len(students) < len(free) {
			return nil, fmt.Errorf("need %d students for %d free seats, have %d", len(free), len(free), len(students))
		}
	}

	r := &results{viewers: o.viewers, lat: newHistogram(), taps: newHistogram(), tapErrors: map[string]int{}, closeCodes: map[string]int{}}
	if r.before, err = scrape(base); err != nil {
		return nil, err
	}

	// Open the viewers.
	var (
		measuring atomic.Bool
		messages  atomic.Int64
		early     atomic.Int64
		connected atomic.Int64
		dialErrs  atomic.Int64
		fullBytes atomic.Int64
		wg        sync.WaitGroup
		codesMu   sync.Mutex
	)
	vctx, stopViewers := context.WithCancel(context.Background())
	defer stopViewers()
	ready := make(chan struct{}, o.viewers)
	watch := o.watch
	if len(watch) == 0 {
		watch = []string{base}
	}
	var wsURLs []string
	for _, u := range watch {
		wsURLs = append(wsURLs, "ws"+strings.TrimPrefix(u, "http")+"/ws/p/"+o.performance)
	}
	hdr := http.Header{"Accept-Language": {o.lang}}
	logf("opening %d viewers at %d/s…", o.viewers, o.ramp)
	tick := time.NewTicker(10 * time.Millisecond)
	perTick := max(1, o.ramp/100)
	for i := 0; i < o.viewers; {
		<-tick.C
		for j := 0; j < perTick && i < o.viewers; j, i = j+1, i+1 {
			wsURL := wsURLs[i%len(wsURLs)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				dctx, cancel := context.WithTimeout(vctx, 60*time.Second)
				// Offer compression, as browsers do: the full state comes deflated.
				c, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPHeader: hdr, CompressionMode: websocket.CompressionNoContextTakeover})
				if err != nil {
					cancel()
					dialErrs.Add(1)
					ready <- struct{}{}
					return
				}
				c.SetReadLimit(16 << 20)
				_, first, err := c.Read(dctx)
				cancel()
				if err != nil || !bytes.Contains(first, []byte(`id="occupancy"`)) {
					c.CloseNow()
					dialErrs.Add(1)
					ready <- struct{}{}
					return
				}
				fullBytes.Store(int64(len(first)))
				connected.Add(1)
				ready <- struct{}{}
				stop := context.AfterFunc(vctx, func() { c.CloseNow() })
				defer stop()
				code := view(c, clock, r.lat, &measuring, &messages, &early)
				codesMu.Lock()
				r.closeCodes[code]++
				codesMu.Unlock()
			}()
		}
	}
	tick.Stop()
	for range o.viewers {
		<-ready
	}
	r.connected, r.dialErrors, r.fullStateBytes = int(connected.Load()), int(dialErrs.Load()), int(fullBytes.Load())
	if r.connected == 0 {
		return nil, errors.New("no viewer connected")
	}
	logf("%d viewers connected; idle for %v", r.connected, o.settle)
	time.Sleep(o.settle)
	if r.idle, err = scrape(base); err != nil {
		return nil, err
	}

	// Drive the changes: seat k is held by student k, later released, round
	// and round, through the same transactions and poke as the handlers.
	notifier := realtime.NewNotifier(store, nil, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	nctx, stopNotifier := context.WithCancel(context.Background())
	defer stopNotifier()
	notifierDone := make(chan struct{})
	go func() { notifier.Run(nctx); close(notifierDone) }()
	var (
		changes, changeErrs atomic.Int64
		step                atomic.Int64
		driving             sync.WaitGroup
	)
	jobs := make(chan struct{}, 64)
	drivers := 8
	if o.via == "http" {
		drivers = 64 // a request waits on the server as well as the database
	}
	for range drivers {
		driving.Add(1)
		go func() {
			defer driving.Done()
			for range jobs {
				k := step.Add(1) - 1
				i := int(k % int64(len(free)))
				holdIt := (k/int64(len(free)))%2 == 0
				actor := db.Actor{Kind: "system", IP: "127.0.0.1", UserAgent: "festa-bench-live"}
				st := stateCode([]byte("available"))
				if holdIt {
					st = stateCode([]byte("held"))
				}
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				var err error
				switch {
				case o.via == "http":
					// Timed from the tap: the clock starts before the request
					// (click → screen), state first as view expects.
					clock.state[i].Store(st)
					clock.at[i].Store(time.Now().UnixNano())
					if kind := r.tap(cctx, phones[i], o.performance, free[i].Label, holdIt); kind != "" {
						err = errors.New(kind)
					}
				case o.via == "booking" && holdIt:
					_, err = store.Hold(cctx, perf.ID, free[i].Label, students[i], actor)
				case o.via == "booking":
					err = store.Release(cctx, perf.ID, free[i].Label, students[i], actor)
				case holdIt:
					_, err = store.Pool.Exec(cctx, `UPDATE performance_seats SET state = 'held', student_id = $3,
						held_until = now() + interval '3 minutes' WHERE performance_id = $1 AND seat_id = $2`, perf.ID, free[i].SeatID, students[i])
				default:
					_, err = store.Pool.Exec(cctx, `UPDATE performance_seats SET state = 'available', student_id = NULL,
						held_until = NULL WHERE performance_id = $1 AND seat_id = $2`, perf.ID, free[i].SeatID)
				}
				cancel()
				if err != nil {
					changeErrs.Add(1)
					continue
				}
				changes.Add(1)
				if o.via == "http" {
					continue // the server pokes its own hub, as for any tap
				}
				clock.at[i].Store(time.Now().UnixNano())
				clock.state[i].Store(st)
				notifier.Poke(perf.ID)
			}
		}()
	}
	before := cpuTime()
	if r.afterStart, err = scrape(base); err != nil {
		return nil, err
	}
	measuring.Store(true)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	driveTick := time.NewTicker(interval)
	logf("driving %.0f changes/s for %v…", o.rate, o.duration)
	for time.Since(start) < o.duration {
		<-driveTick.C
		select {
		case jobs <- struct{}{}:
		default: // the database is behind; the achieved rate says so
		}
	}
	driveTick.Stop()
	close(jobs)
	driving.Wait()
	r.duration = time.Since(start)
	time.Sleep(2 * time.Second) // let the last batches land
	measuring.Store(false)
	r.clientCPU = cpuTime() - before
	r.clientRSS = selfRSS()
	stopNotifier()
	<-notifierDone
	if r.after, err = scrape(base); err != nil {
		return nil, err
	}
	r.loaded = r.after
	r.changes, r.changeErrors = changes.Load(), changeErrs.Load()
	r.achievedRate = float64(r.changes) / r.duration.Seconds()
	r.messages, r.early = messages.Load(), early.Load()

	// Stop the server: every viewer should be told 1012.
	if srv.cmd != nil {
		logf("stopping the server…")
		srv.stop()
		waitDone := make(chan struct{})
		go func() { wg.Wait(); close(waitDone) }()
		select {
		case <-waitDone:
		case <-time.After(30 * time.Second):
			stopViewers()
			<-waitDone
		}
	} else {
		// Someone else's server: the close codes are ours, not news.
		stopViewers()
		wg.Wait()
		r.closeCodes = nil
	}
	return r, nil
}

// view reads a viewer's messages until the connection ends, recording the
// commit-to-receive latency of every seat change it carries, and returns
// the close code. Reads take no context (a cancellable one costs a
// registration per message); the viewer is stopped by closing c.
func view(c *websocket.Conn, clock *seatClock, lat *histogram, measuring *atomic.Bool, messages, early *atomic.Int64) string {
	defer c.CloseNow()
	var buf bytes.Buffer
	for {
		_, rd, err := c.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			if code := websocket.CloseStatus(err); code != -1 {
				return strconv.Itoa(int(code))
			}
			return "none"
		}
		now := time.Now().UnixNano()
		if !measuring.Load() {
			continue
		}
		messages.Add(1)
		msg := buf.Bytes()
		for {
			i := bytes.Index(msg, []byte(`id="seat-`))
			if i < 0 {
				break
			}
			msg = msg[i+len(`id="seat-`):]
			j := bytes.IndexByte(msg, '"')
			k := bytes.Index(msg, []byte(`data-state="`))
			if j < 0 || k < 0 {
				break
			}
			label := msg[:j]
			msg = msg[k+len(`data-state="`):]
			e := bytes.IndexByte(msg, '"')
			if e < 0 {
				break
			}
			seat, ok := clock.index[string(label)]
			if !ok {
				continue
			}
			// State first: the driver stores the time before the state, so a
			// matching state guarantees the time is that change's.
			if clock.state[seat].Load() != stateCode(msg[:e]) {
				early.Add(1) // seen before the driver noted its commit
				continue
			}
			at := clock.at[seat].Load()
			if at == 0 {
				early.Add(1) // seen before the driver noted its commit
				continue
			}
			lat.add(time.Duration(now - at))
		}
	}
}

// histogram counts durations in 1 ms buckets up to a minute.
type histogram struct{ b [60001]atomic.Int64 }

func newHistogram() *histogram { return &histogram{} }

func (h *histogram) add(d time.Duration) {
	ms := int(d / time.Millisecond)
	h.b[min(max(ms, 0), len(h.b)-1)].Add(1)
}

func (h *histogram) count() int64 {
	var n int64
	for i := range h.b {
		n += h.b[i].Load()
	}
	return n
}

func (h *histogram) quantile(q float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.b {
		seen += h.b[i].Load()
		if seen >= want {
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return time.Minute
}

func (h *histogram) max() time.Duration {
	for i := len(h.b) - 1; i >= 0; i-- {
		if h.b[i].Load() > 0 {
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return 0
}

// serverStats is what the server's /metrics says.
type serverStats struct {
	rss, inuse, stack, goal, cpu, goroutines float64
	sent, kicked, batches                    float64
	p99                                      string
}

// live estimates the memory the server needs: the heap that survived the
// last collection, read off the heap goal (GOGC=100: goal ≈ 2 × live heap +
// stacks), plus the stacks. Heap in use and RSS also hold garbage not yet
// collected, up to about the live heap again.
func (s serverStats) live() float64 { return (s.goal-s.stack)/2 + s.stack }

func scrape(base string) (serverStats, error) {
	var s serverStats
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	type bucket struct {
		le    string
		count float64
	}
	var buckets []bucket
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name, v := line[:sp], line[sp+1:]
		val, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.rss = val
		case "go_memstats_heap_inuse_bytes":
			s.inuse += val
		case "go_memstats_stack_inuse_bytes":
			s.inuse += val
			s.stack = val
		case "go_memstats_next_gc_bytes":
			s.goal = val
		case "process_cpu_seconds_total":
			s.cpu = val
		case "go_goroutines":
			s.goroutines = val
		case "festa_live_messages_sent_total":
			s.sent = val
		case "festa_live_viewers_kicked_total":
			s.kicked = val
		case "festa_live_batches_rendered_total":
			s.batches = val
		}
		if strings.HasPrefix(name, `festa_live_commit_to_write_seconds_bucket{le="`) {
			buckets = append(buckets, bucket{strings.TrimSuffix(strings.TrimPrefix(name, `festa_live_commit_to_write_seconds_bucket{le="`), `"}`), val})
		}
	}
	if len(buckets) > 0 {
		total := buckets[len(buckets)-1].count
		for _, b := range buckets {
			if b.count >= 0.99*total {
				s.p99 = b.le + " s"
				break
			}
		}
	}
	return s, sc.Err()
}

// cpuTime is this process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfRSS is this process's resident memory in bytes.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// Package loadtest drives festa's opening minute the way a school does:
// students signed in before sales open, viewers watching the live seat
// map, then every student tapping at the opening — some choosing a seat,
// some "best available", some trying again after someone else was faster
// — through whatever is in front (nginx, several instances). It measures
// what a student and a viewer feel, and afterwards checks in the database
// that the sale kept its promises. `festa bench spike` is its command
// line; spike_test.go runs a small spike in the normal suite.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"festa/db"
)

// Options describe a spike.
type Options struct {
	URL   string    // festa or nginx in front of it, e.g. http://127.0.0.1:8080
	Store *db.Store // the database behind URL: set-up and the final checks

	Students int
	Viewers  int
	// ViewerURLs spreads the viewers over several instances in turn
	// (default: all at URL), e.g. to watch two instances straight while
	// students book through nginx.
	ViewerURLs  []string
	Seats       int           // size of the fresh performance
	Performance string        // or the slug of an existing one to use
	OpenIn      time.Duration // from the moment everyone is signed in and watching to the opening
	TicketLimit int           // of the fresh performance; default 1

	BestFraction float64       // share of students who tap "best available"
	Retry        float64       // share who try again after losing a seat (the rest give up)
	Tries        int           // taps a student makes at most; default 5, as the booking floor
	Think        time.Duration // a student's pause before tapping again or confirming: random, up to this

	SignInConcurrency int // sign-ins in flight at once; default 32
	// Sources spreads the students' connections over this many loopback
	// addresses (127.0.0.2…), so per-address limits in front see many
	// phones. Only for a loopback URL; 0 uses the default address.
	Sources int
	PIDs    []int // processes whose CPU and memory to report (festa, nginx, postgres…)
	// FloorBin, when set, is a build of ../shared/bench/booking-floor to
	// run after festa's burst with the same students, tries and seats, on
	// FloorDB (a scratch database; default festa_bench_floor beside festa's).
	FloorBin, FloorDB string
	Waiter            Waiter // takes students through a waiting room; nil: a detour is an error
	Log               func(format string, args ...any)
}

// Report is what a spike measured and found.
type Report struct {
	Started     time.Time `json:"started"`
	CPUs        int       `json:"cpus"`
	URL         string    `json:"url"`
	Performance string    `json:"performance"`
	Seats       int       `json:"seats"`
	Students    int       `json:"students"`
	Viewers     int       `json:"viewers"`
	TicketLimit int       `json:"ticket_limit"`
	Note        string    `json:"note"`

	SignIn struct {
		OK        int            `json:"ok"`
		Failed    int            `json:"failed"`
		Seconds   float64        `json:"seconds"`
		PerSecond float64        `json:"per_second"`
		Latency   Quantiles      `json:"latency"`
		Errors    map[string]int `json:"errors"`
	} `json:"sign_in"`

	Live struct {
		Connected  int            `json:"connected"`
		DialErrors int            `json:"dial_errors"`
		Dropped    int            `json:"dropped"`
		DropCodes  map[string]int `json:"drop_codes"`
		// Missed counts (viewer, sold seat) pairs never seen taken by a
		// viewer still connected at the end.
		Missed   int       `json:"missed"`
		Messages int64     `json:"messages"`
		Lag      Quantiles `json:"click_to_screen"`
	} `json:"live"`

	Burst struct {
		Seconds          float64        `json:"seconds"` // opening → last student done
		SellOutSeconds   float64        `json:"sell_out_seconds"`
		Tickets          int            `json:"tickets"`
		TicketsPerSecond float64        `json:"tickets_per_second"`
		Requests         int            `json:"requests"`
		Hold             Quantiles      `json:"hold"` // hold and best-available taps
		Confirm          Quantiles      `json:"confirm"`
		Errors           map[string]int `json:"errors"`
		Outcomes         map[string]int `json:"outcomes"`
	} `json:"burst"`

	Floor      *FloorResult `json:"booking_floor,omitempty"`
	Processes  []Process    `json:"processes"`
	Invariants []Check      `json:"invariants"`
	OK         bool         `json:"invariants_ok"`
}

// Run prepares a performance and students, signs everyone in, opens the
// viewers, waits for the opening, lets every student book, and checks the
// database. An error means the spike could not be run; a broken invariant
// is in the report (Report.OK false).
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	r := &Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), URL: o.URL, Students: o.Students, Viewers: o.Viewers,
		Note: "bench students' codes are hashed with passhash.Fast, so sign-in measures the request path, not argon2 at production cost"}
	if err := checkFileLimit(o.Students + o.Viewers + 256); err != nil {
		return nil, err
	}
	o.Log("setting up %d students and a performance…", o.Students)
	// Sales open an hour away for now; Open brings them to OpenIn after
	// the sign-ins and viewers, however long those take.
	setup, err := Prepare(ctx, o.Store, SetupOptions{Students: o.Students, Seats: o.Seats, Performance: o.Performance,
		OpenIn: time.Hour, TicketLimit: o.TicketLimit})
	if err != nil {
		return nil, err
	}
	r.Performance, r.Seats, r.TicketLimit = setup.Slug, len(setup.Seats), setup.TicketLimit
	words, err := newRefusals(setup.TicketLimit)
	if err != nil {
		return nil, err
	}
	b := newBoard(setup.Seats)
	sp := &spike{o: o, setup: setup, words: words, board: b}

	o.Log("signing in %d students (%d at a time)…", o.Students, o.SignInConcurrency)
	if err := sp.signIn(ctx, r); err != nil {
		return nil, err
	}
	o.Log("opening %d viewers…", o.Viewers)
	bases := o.ViewerURLs
	if len(bases) == 0 {
		bases = []string{o.URL}
	}
	vs := openViewers(ctx, bases, setup.Slug, o.Viewers, b)
	defer vs.close()
	r.Live.Connected, r.Live.DialErrors = len(vs.list), vs.dialErrors
	if err := setup.Open(ctx, o.Store, o.OpenIn); err != nil {
		return nil, err
	}
	o.Log("ready; sales open in %v", time.Until(setup.SalesOpenAt).Round(100*time.Millisecond))

	// The burst, with the processes sampled on either side.
	select {
	case <-time.After(time.Until(setup.SalesOpenAt)):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	pids := append([]int{0}, o.PIDs...)
	before := make([]procSample, len(pids))
	for i, pid := range pids {
		before[i] = sampleProc(pid)
	}
	vs.measuring.Store(true)
	o.Log("sales open: %d students tap…", len(sp.students))
	sp.burst(ctx)
	for i, pid := range pids {
		r.Processes = append(r.Processes, processReport(pid, before[i], sampleProc(pid)))
	}
	sp.fill(r)

	// Let the last changes reach the screens, then read the lag.
	sold := sp.soldSeats()
	r.Live.Missed = vs.seenAll(sold, time.Now().Add(10*time.Second))
	vs.measuring.Store(false)
	vs.close()
	r.Live.Messages = vs.messages.Load()
	r.Live.DropCodes = vs.dropCodes()
	for _, n := range r.Live.DropCodes {
		r.Live.Dropped += n
	}
	r.Live.Lag = lag(vs, b)

	if r.Invariants, err = CheckInvariants(ctx, o.Store, setup.PerformanceID, sp.confirmed); err != nil {
		return nil, err
	}
	r.OK = allOK(r.Invariants)

	if o.FloorBin != "" {
		o.Log("the booking floor: %d students, %d tries, %d seats…", len(sp.students), o.Tries, len(setup.Seats))
		floorDB, err := floorDatabase(ctx, o.Store, o.FloorDB)
		if err != nil {
			return nil, err
		}
		if r.Floor, err = runFloor(ctx, o.FloorBin, floorDB, len(sp.students), o.Tries, len(setup.Seats)); err != nil {
			return nil, err
		}
		if r.Floor.Hold.P99 > 0 {
			r.Floor.HoldP99Ratio = r.Burst.Hold.P99 / r.Floor.Hold.P99
		}
	}
	return r, nil
}

func (o *Options) defaults() error {
	if o.URL == "" || o.Store == nil {
		return errors.New("loadtest: a URL and a database are needed")
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Students < 1 || o.Viewers < 0 {
		return errors.New("loadtest: students must be at least 1, viewers not negative")
	}
	if o.Performance == "" && o.Seats < 1 {
		return errors.New("loadtest: give seats (a fresh performance) or an existing performance")
	}
	if o.BestFraction < 0 || o.BestFraction > 1 || o.Retry < 0 || o.Retry > 1 {
		return errors.New("loadtest: best fraction and retry are shares between 0 and 1")
	}
	if o.Tries == 0 {
		o.Tries = 5
	}
	if o.SignInConcurrency == 0 {
		o.SignInConcurrency = 32
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Sources > 0 {
		u, err := url.Parse(o.URL)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
			return errors.New("loadtest: spreading over loopback sources needs a loopback URL (127.0.0.1)")
		}
		if o.Sources > 250 {
			return errors.New("loadtest: at most 250 loopback sources")
		}
	}
	return nil
}

// checkFileLimit makes sure this process may open need descriptors (one
// per student connection and per viewer), raising its soft limit to the
// hard one when that is enough.
func checkFileLimit(need int) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return nil
	}
	if l.Cur >= uint64(need) {
		return nil
	}
	if l.Max >= uint64(need) {
		l.Cur = uint64(need)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err == nil {
			return nil
		}
	}
	return fmt.Errorf("loadtest: needs %d open files (students + viewers + 256) but may open %d (hard limit %d): run `ulimit -n %d` as allowed, or use fewer students or viewers",
		need, l.Cur, l.Max, need)
}

// spike is one run in progress.
type spike struct {
	o        Options
	setup    *Setup
	words    *refusals
	board    *board
	students []*student

	holds, confirms samples
	errs, outcomes  counts
	requests        atomic.Int64

	mu          sync.Mutex
	confirmed   []Confirmed
	lastTicket  time.Time
	opened, end time.Time
}

type student struct {
	cred   Credential
	client *Client
}

func (sp *spike) signIn(ctx context.Context, r *Report) error {
	var lat samples
	var errs counts
	var ok atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, sp.o.SignInConcurrency)
	out := make([]*student, len(sp.setup.Students))
	start := time.Now()
	for i, cred := range sp.setup.Students {
		var source net.IP
		if sp.o.Sources > 0 {
			source = net.IPv4(127, 0, 0, byte(2+i%sp.o.Sources))
		}
		st := &student{cred: cred, client: newClient(sp.o.URL, source, sp.o.Waiter, sp.words)}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// A refused sign-in (busy gate, rate limit) is tried again a
			// little later, as a student would, three times at most.
			for attempt := range 3 {
				a, err := st.client.SignIn(ctx, cred, sp.setup.Slug)
				if a.Err == nil && a.Status != 0 {
					lat.add(a.Took)
				}
				if err == nil {
					ok.Add(1)
					out[i] = st
					return
				}
				errs.add(err.Error())
				time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	for _, st := range out {
		if st != nil {
			sp.students = append(sp.students, st)
		}
	}
	r.SignIn.OK, r.SignIn.Failed = int(ok.Load()), len(out)-int(ok.Load())
	r.SignIn.Seconds = took.Seconds()
	r.SignIn.PerSecond = float64(ok.Load()) / took.Seconds()
	r.SignIn.Latency = lat.quantiles()
	r.SignIn.Errors = errs.snapshot()
	if len(sp.students) == 0 {
		return fmt.Errorf("loadtest: nobody could sign in: %s", formatCounts(r.SignIn.Errors))
	}
	return nil
}

// burst lets every signed-in student book at once and waits for them all.
func (sp *spike) burst(ctx context.Context) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, st := range sp.students {
		wg.Go(func() {
			<-start
			sp.outcomes.add(sp.book(ctx, st))
		})
	}
	sp.opened = time.Now()
	close(start)
	wg.Wait()
	sp.end = time.Now()
}

// book is one student at the opening: tap seats (or "best available")
// until one holds, then confirm. It returns how it ended.
func (sp *spike) book(ctx context.Context, st *student) string {
	slug := sp.setup.Slug
	best := rand.Float64() < sp.o.BestFraction
	retries := rand.Float64() < sp.o.Retry
	deadline := time.Now().Add(2 * time.Minute)
	for try := 0; try < sp.o.Tries && time.Now().Before(deadline); {
		label := ""
		var a Answer
		var detour string
		if best {
			a, detour = st.client.Best(ctx, slug)
		} else {
			if label = sp.pick(); label == "" {
				return "saw it sold out"
			}
			a, detour = st.client.Hold(ctx, slug, label)
		}
		sp.requests.Add(1)
		if a.Err == nil {
			sp.holds.add(a.Took)
		}
		kind := kindOf(a, sp.words, detour, "")
		switch {
		case kind == "":
			if best {
				label = heldSeat(a.Body)
			}
			if i, ok := sp.board.index[label]; ok {
				sp.board.clicked[i].Store(a.Sent.UnixNano())
				sp.board.markTaken(i)
			}
			return sp.confirm(ctx, st)
		case strings.HasSuffix(kind, "not open"):
			// Tapped a moment early (clocks differ by milliseconds): again.
			sp.errs.add(kind)
			time.Sleep(20 * time.Millisecond)
			continue
		case strings.HasSuffix(kind, "sold out"):
			sp.errs.add(kind)
			return "told sold out"
		case strings.HasSuffix(kind, "taken"), strings.HasSuffix(kind, "busy"):
			sp.errs.add(kind)
			if i, ok := sp.board.index[label]; ok {
				sp.board.markTaken(i)
			}
			if !retries {
				return "gave up after a conflict"
			}
			// Some who lost the seat they chose let the server choose next.
			if !best && rand.Float64() < 0.3 {
				best = true
			}
		default:
			sp.errs.add(kind)
		}
		try++
		sp.think()
	}
	return "out of tries"
}

// confirm books the held seat; a lost answer (network, 5xx, 429) is tried
// again, as the page's button would be tapped again.
func (sp *spike) confirm(ctx context.Context, st *student) string {
	sp.think()
	for range 3 {
		a, detour := st.client.Confirm(ctx, sp.setup.Slug)
		sp.requests.Add(1)
		if a.Err == nil {
			sp.confirms.add(a.Took)
		}
		kind := kindOf(a, sp.words, detour, "/tickets")
		if kind == "" {
			id := strings.TrimPrefix(redirectPath(a.Redirect), "/tickets")
			id = strings.TrimPrefix(id, "/")
			sp.mu.Lock()
			sp.confirmed = append(sp.confirmed, Confirmed{StudentNo: st.cred.No, TicketID: id})
			sp.lastTicket = time.Now()
			sp.mu.Unlock()
			return "booked"
		}
		sp.errs.add("confirm " + kind)
		if a.Err == nil && a.Status < 500 && a.Status != http.StatusTooManyRequests {
			return "confirm refused"
		}
		sp.think()
	}
	return "confirm failed"
}

func (sp *spike) think() {
	if sp.o.Think > 0 {
		time.Sleep(rand.N(sp.o.Think))
	}
}

// pick chooses a seat the student's screen shows free, favouring the
// front rows as people do; "" when the screen shows none.
func (sp *spike) pick() string {
	n := len(sp.board.labels)
	if sp.board.left.Load() <= 0 {
		return ""
	}
	u := rand.Float64()
	start := int(u * u * float64(n))
	for k := range n {
		i := (start + k) % n
		if !sp.board.taken[i].Load() {
			return sp.board.labels[i]
		}
	}
	return ""
}

// soldSeats are the board indexes of the seats confirmed in the burst.
func (sp *spike) soldSeats() []int {
	var out []int
	for i := range sp.board.labels {
		if sp.board.clicked[i].Load() != 0 {
			out = append(out, i)
		}
	}
	return out
}

func (sp *spike) fill(r *Report) {
	b := &r.Burst
	b.Seconds = sp.end.Sub(sp.opened).Seconds()
	b.Tickets = len(sp.confirmed)
	if b.Tickets > 0 {
		took := sp.lastTicket.Sub(sp.opened).Seconds()
		b.TicketsPerSecond = float64(b.Tickets) / took
		if b.Tickets >= len(sp.setup.Seats) {
			b.SellOutSeconds = took
		}
	}
	b.Requests = int(sp.requests.Load())
	b.Hold, b.Confirm = sp.holds.quantiles(), sp.confirms.quantiles()
	b.Errors, b.Outcomes = sp.errs.snapshot(), sp.outcomes.snapshot()
}

// lag is click → screen: from the moment the winning hold of a seat was
// sent to the moment each viewer first drew that seat taken.
func lag(vs *viewers, b *board) Quantiles {
	var d []time.Duration
	for _, v := range vs.list {
		for i, seen := range v.seen {
			click := b.clicked[i].Load()
			if seen == 0 || click == 0 {
				continue
			}
			d = append(d, time.Duration(max(0, seen-click)))
		}
	}
	return quantilesOf(d)
}

// Print writes the report for a person, in the booking floor's terms
// where they compare (hold p50=… p95=… p99=…).
func (r *Report) Print(w interface{ Write([]byte) (int, error) }) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("festa spike: %d students, %d viewers, %d seats (%q, limit %d) at %s, on %d CPUs",
		r.Students, r.Viewers, r.Seats, r.Performance, r.TicketLimit, r.URL, r.CPUs)
	p("note: %s", r.Note)
	p("sign-in: %d ok, %d failed in %.2fs (%.0f/s); POST /login %s; errors: %s",
		r.SignIn.OK, r.SignIn.Failed, r.SignIn.Seconds, r.SignIn.PerSecond, r.SignIn.Latency, formatCounts(r.SignIn.Errors))
	p("viewers: %d connected, %d dial errors, %d dropped (%s), %d sightings missed, %d messages",
		r.Live.Connected, r.Live.DialErrors, r.Live.Dropped, formatCounts(r.Live.DropCodes), r.Live.Missed, r.Live.Messages)
	b := r.Burst
	p("burst: %d requests in %.2fs (%.0f/s); %d tickets (%.0f/s); sold out in %s",
		b.Requests, b.Seconds, float64(b.Requests)/max(b.Seconds, 1e-9), b.Tickets, b.TicketsPerSecond, sellOut(b.SellOutSeconds))
	p("hold %s", b.Hold)
	p("confirm %s", b.Confirm)
	p("click→screen %s", r.Live.Lag)
	if f := r.Floor; f != nil {
		p("booking floor, same students, tries and seats: %d requests in %.2fs; hold %s; festa's hold p99 is %.1f× the floor's",
			f.Requests, f.Seconds, f.Hold, f.HoldP99Ratio)
	}
	p("errors: %s", formatCounts(b.Errors))
	p("students: %s", formatCounts(b.Outcomes))
	for _, pr := range r.Processes {
		name := pr.Name
		if pr.PID == 0 {
			name = "load command (" + name + ")"
		}
		if pr.Error != "" {
			p("process %d %s: %s", pr.PID, name, pr.Error)
			continue
		}
		if pr.Children > 0 {
			name += fmt.Sprintf(" and %d children", pr.Children)
		}
		p("process %d %s: CPU %.0f%% of a core during the burst, RSS %.0f → %.0f MiB (peak %.0f)",
			pr.PID, name, pr.CPUPercent, pr.RSSBeforeMB, pr.RSSAfterMB, pr.PeakMB)
	}
	for _, c := range r.Invariants {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		p("%s %s: %s", mark, c.Name, c.Detail)
	}
}

func sellOut(s float64) string {
	if s == 0 {
		return "— (not sold out)"
	}
	return fmt.Sprintf("%.2fs", s)
}

package loadtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"festa/db"
	"festa/passhash"
)

// Bench students are numbered from firstBenchNo up (90000–99999): real
// student numbers are grade (1–3), class and number (see demo.Roster), so
// this range is free in a school's roster. Their names start with
// benchName, which is how Prepare recognises its own students and refuses
// to touch anyone else's.
const (
	firstBenchNo = 90000
	maxStudents  = 10000
	benchName    = "bench "
)

// Setup is what a spike runs against.
type Setup struct {
	PerformanceID int64
	Slug          string
	TicketLimit   int
	SalesOpenAt   time.Time
	Seats         []string // every seat that can be sold, in hall order
	Students      []Credential
	Created       bool // a fresh performance (false: an existing one reused)

	spec db.NewPerformance // what a fresh performance was created as
}

// Credential is a student's number and access code, as on a slip.
type Credential struct{ No, Code string }

// SetupOptions say what to create.
type SetupOptions struct {
	Students    int
	Seats       int    // size of the fresh hall
	Performance string // slug of an existing performance to use instead
	// OpenIn is when the fresh performance's sales open, from now; Open
	// moves it once everyone is ready.
	OpenIn      time.Duration
	TicketLimit int // of the fresh performance; default 1
	Now         time.Time
}

// Prepare creates a fresh performance of opts.Seats seats whose sales open
// opts.OpenIn from now (so every run starts from an empty hall), and
// opts.Students bench students with new random codes. The codes are
// hashed with passhash.Fast: sign-in then measures the request path, not
// argon2 at production cost (the report says so).
func Prepare(ctx context.Context, store *db.Store, opts SetupOptions) (*Setup, error) {
	if opts.Students < 1 || opts.Students > maxStudents {
		return nil, fmt.Errorf("loadtest: students must be 1–%d", maxStudents)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.TicketLimit == 0 {
		opts.TicketLimit = 1
	}
	s := &Setup{}
	var err error
	if opts.Performance != "" {
		err = s.reuse(ctx, store, opts.Performance)
	} else {
		err = s.create(ctx, store, opts)
	}
	if err != nil {
		return nil, err
	}
	if s.Students, err = benchStudents(ctx, store, opts.Students); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Setup) reuse(ctx context.Context, store *db.Store, slug string) error {
	p, err := store.PerformanceBySlug(ctx, slug)
	if err != nil {
		return fmt.Errorf("loadtest: performance %q: %w", slug, err)
	}
	s.PerformanceID, s.Slug, s.TicketLimit, s.SalesOpenAt = p.ID, p.Slug, p.TicketLimit, p.SalesOpenAt
	return s.loadSeats(ctx, store)
}

func (s *Setup) create(ctx context.Context, store *db.Store, opts SetupOptions) error {
	if opts.Seats < 1 || opts.Seats > 30*26*27 {
		return errors.New("loadtest: seats must be 1–21,060 (rows A–ZZ of 30)")
	}
	eventID, err := store.EnsureEvent(ctx, db.Event{Slug: "festa-bench", Name: "festa bench", TimeZone: "Asia/Seoul"})
	if err != nil {
		return err
	}
	hallID, err := store.EnsureHall(ctx, "bench-"+strconv.Itoa(opts.Seats), "Bench hall "+strconv.Itoa(opts.Seats), benchHall(opts.Seats))
	if err != nil {
		return err
	}
	starts := opts.Now.Add(7 * 24 * time.Hour)
	s.Slug = "spike-" + strconv.FormatInt(opts.Now.UnixNano(), 36)
	s.SalesOpenAt = opts.Now.Add(opts.OpenIn)
	s.TicketLimit = opts.TicketLimit
	s.Created = true
	s.spec = db.NewPerformance{
		EventID: eventID, HallID: hallID, Slug: s.Slug, Title: "Spike " + opts.Now.UTC().Format("2006-01-02 15:04:05"),
		StartsAt: starts, SalesOpenAt: s.SalesOpenAt, SalesCloseAt: starts,
		TicketLimit: opts.TicketLimit, HoldSeconds: 180,
	}
	s.PerformanceID, _, err = store.EnsurePerformance(ctx, s.spec)
	if err != nil {
		return err
	}
	return s.loadSeats(ctx, store)
}

// Open sets a fresh performance's sales to open in d, through the same
// store call as the council's form, so the opening comes when everyone is
// signed in and watching however long that took. An existing performance
// keeps its own opening.
func (s *Setup) Open(ctx context.Context, store *db.Store, d time.Duration) error {
	if !s.Created {
		return nil
	}
	spec := s.spec
	spec.SalesOpenAt = time.Now().Add(d)
	if err := store.UpdatePerformance(ctx, s.PerformanceID, spec); err != nil {
		return fmt.Errorf("loadtest: set the opening: %w", err)
	}
	s.spec, s.SalesOpenAt = spec, spec.SalesOpenAt
	return nil
}

func (s *Setup) loadSeats(ctx context.Context, store *db.Store) error {
	seats, _, err := store.PerformanceSeats(ctx, s.PerformanceID)
	if err != nil {
		return err
	}
	s.Seats = s.Seats[:0]
	for _, st := range seats {
		if st.Kind != "blocked" && st.State != "blocked" {
			s.Seats = append(s.Seats, st.Label)
		}
	}
	if len(s.Seats) == 0 {
		return errors.New("loadtest: the performance has no seat to sell")
	}
	return nil
}

// benchHall lays n seats out in rows of 30 (A1–A30, B1…, then AA, AB…).
func benchHall(n int) []db.Seat {
	seats := make([]db.Seat, 0, n)
	for i := range n {
		r, k := i/30, i%30
		row := string(rune('A' + r%26))
		if r >= 26 {
			row = string(rune('A'+r/26-1)) + row
		}
		seats = append(seats, db.Seat{Label: row + strconv.Itoa(k+1), RowLabel: row, Number: k + 1, X: k, Y: r, Kind: "standard"})
	}
	return seats
}

// benchStudents makes sure students 90000… exist with fresh random codes
// and are enabled, and returns their credentials. A student in that range
// that Prepare did not create is never touched.
func benchStudents(ctx context.Context, store *db.Store, n int) ([]Credential, error) {
	creds := make([]Credential, n)
	rows := make([]db.NewStudent, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				creds[i] = Credential{No: strconv.Itoa(firstBenchNo + i), Code: randomCode()}
				h, _ := passhash.Hash(creds[i].Code, passhash.Fast)
				rows[i] = db.NewStudent{StudentNo: creds[i].No, Name: benchName + creds[i].No, CodeHash: h}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	nos := make([]string, n)
	hashes := make([]string, n)
	for i := range rows {
		if rows[i].CodeHash == "" {
			return nil, errors.New("loadtest: hashing the bench codes failed")
		}
		nos[i], hashes[i] = rows[i].StudentNo, rows[i].CodeHash
	}
	var foreign int
	if err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM students
		WHERE student_no = ANY($1) AND left(name, length($2)) <> $2`, nos, benchName).Scan(&foreign); err != nil {
		return nil, err
	}
	if foreign > 0 {
		return nil, fmt.Errorf("loadtest: %d students numbered %d–%d are not bench students; refusing to change their codes", foreign, firstBenchNo, firstBenchNo+n-1)
	}
	if _, err := store.EnsureStudents(ctx, rows); err != nil {
		return nil, err
	}
	// Students left from an earlier run get this run's codes. (Not
	// store.SetStudentCodes: that audits a code handout per run, and this
	// is a tool's own accounts, recognised by name.)
	err := pgx.BeginFunc(ctx, store.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE students s SET code_hash = n.hash, enabled = true
			FROM unnest($1::text[], $2::text[]) AS n(no, hash)
			WHERE s.student_no = n.no AND left(s.name, length($3)) = $3`, nos, hashes, benchName)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loadtest: set bench codes: %w", err)
	}
	return creds, nil
}

// randomCode is a 10-character access code of the same alphabet as the
// demo's slips.
func randomCode() string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Package demo creates the demo festival that `festa dev` and `festa demo`
// load: 푸른숲 축제 2026 with a 600-seat main hall, an opening performance on
// sale and a night performance whose sales open later, a roster of students
// and two staff accounts. Loading is idempotent: a second run changes nothing.
//
// Access codes and staff passwords are derived from a random secret kept in
// the database (HMAC), so a later run can print the same codes again without
// storing them in the clear.
package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"festa/db"
	"festa/passhash"
)

// Options control what Load creates.
type Options struct {
	Students      int // roster size; default 1200
	AdminPassword string
	GatePassword  string
	// Hash is the cost of every hash the demo makes; by default codes are
	// hashed at passhash.Code and staff passwords at passhash.Default, as
	// the console does. Tests set passhash.Fast.
	Hash passhash.Params
	Now  time.Time // load time; default time.Now()
}

// Login is a staff account as printed for the operator.
type Login struct {
	Username string
	Password string // empty when it was changed since and is not known
	Role     string
}

// Result says what Load did and how to sign in.
type Result struct {
	StudentsAdded int
	Students      []Student
	Staff         []Login
}

// Student is a demo roster entry with its clear-text access code, as
// printed on a slip: XXXXX-XXXXX.
type Student struct {
	No, Name, Code string
}

const (
	EventSlug = "pureunsup-2026"
	HallSlug  = "main-hall"
)

// Load creates whatever part of the demo festival is missing.
func Load(ctx context.Context, store *db.Store, opts Options) (Result, error) {
	if opts.Students <= 0 {
		opts.Students = 1200
	}
	codeCost, passwordCost := opts.Hash, opts.Hash
	if opts.Hash == (passhash.Params{}) {
		codeCost, passwordCost = passhash.Code, passhash.Default
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var res Result
	secretHex, err := store.SettingOrInit(ctx, "demo_secret", func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return res, err
	}
	secret, err := hex.DecodeString(secretHex)
	if err != nil {
		return res, fmt.Errorf("demo: stored secret: %w", err)
	}

	eventID, err := store.EnsureEvent(ctx, db.Event{Slug: EventSlug, Name: "푸른숲 축제 2026", TimeZone: "Asia/Seoul"})
	if err != nil {
		return res, err
	}
	hallID, err := store.EnsureHall(ctx, HallSlug, "대강당 Main Hall", MainHall())
	if err != nil {
		return res, err
	}
	kst := time.FixedZone("KST", 9*3600)
	day := time.Date(opts.Now.In(kst).Year(), opts.Now.In(kst).Month(), opts.Now.In(kst).Day(), 0, 0, 0, 0, kst)
	openingStarts := day.AddDate(0, 0, 7).Add(17 * time.Hour)
	perfs := []db.NewPerformance{{
		EventID: eventID, HallID: hallID, Slug: "opening", Title: "개막 공연 Opening Night",
		StartsAt: openingStarts, SalesOpenAt: opts.Now.Add(-time.Minute), SalesCloseAt: openingStarts,
		TicketLimit: 1, HoldSeconds: 180,
	}, {
		EventID: eventID, HallID: hallID, Slug: "night", Title: "밤 공연 Night Concert",
		StartsAt: openingStarts.AddDate(0, 0, 1).Add(2 * time.Hour), SalesOpenAt: day.AddDate(0, 0, 2).Add(12 * time.Hour),
		SalesCloseAt: openingStarts.AddDate(0, 0, 1).Add(2 * time.Hour), TicketLimit: 1, HoldSeconds: 180,
	}}
	for _, p := range perfs {
		if _, _, err := store.EnsurePerformance(ctx, p); err != nil {
			return res, err
		}
	}

	res.Students = Roster(secret, opts.Students)
	if res.StudentsAdded, err = ensureStudents(ctx, store, res.Students, codeCost); err != nil {
		return res, err
	}
	for _, s := range []struct{ user, role, given string }{
		{"council", "council", opts.AdminPassword},
		{"gate", "gate", opts.GatePassword},
	} {
		login, err := ensureStaff(ctx, store, secret, s.user, s.role, s.given, passwordCost)
		if err != nil {
			return res, err
		}
		res.Staff = append(res.Staff, login)
	}
	return res, nil
}

func ensureStudents(ctx context.Context, store *db.Store, roster []Student, p passhash.Params) (int, error) {
	existing, err := store.StudentNumbers(ctx)
	if err != nil {
		return 0, err
	}
	var missing []Student
	for _, s := range roster {
		if !existing[s.No] {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	// Slow hashes are the point; spread them over every core.
	rows := make([]db.NewStudent, len(missing))
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				h, err := passhash.Hash(strings.ReplaceAll(missing[i].Code, "-", ""), p)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				rows[i] = db.NewStudent{StudentNo: missing[i].No, Name: missing[i].Name, CodeHash: h}
			}
		})
	}
	for i := range missing {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, fmt.Errorf("demo: hash codes: %w", err)
	default:
	}
	return store.EnsureStudents(ctx, rows)
}

func ensureStaff(ctx context.Context, store *db.Store, secret []byte, user, role, given string, p passhash.Params) (Login, error) {
	password := given
	if password == "" {
		password = derive(secret, "staff:"+user, 12)
	}
	h, err := passhash.Hash(password, p)
	if err != nil {
		return Login{}, err
	}
	created, err := store.EnsureStaff(ctx, user, h, role)
	if err != nil {
		return Login{}, err
	}
	if !created && given != "" {
		if err := store.SetStaffPassword(ctx, user, h); err != nil {
			return Login{}, err
		}
	}
	if !created && given == "" {
		stored, err := store.StaffPasswordHash(ctx, user)
		if err != nil {
			return Login{}, err
		}
		if ok, _ := passhash.Verify(stored, password); !ok {
			password = "" // changed with --admin-password/--gate-password earlier
		}
	}
	return Login{Username: user, Password: password, Role: role}, nil
}

// studentCodeLen is the length of a student's access code: 31^10 ≈ 8.2e14
// codes, so guessing one stays hopeless at the rate festa checks codes
// (README "Sign-in security"). Slips print it as XXXXX-XXXXX; the hash is
// of the 10 characters without the dash, which sign-in accepts either way.
const studentCodeLen = 10

// codeAlphabet leaves out look-alikes (0/O, 1/I/L) so codes survive being
// read aloud or copied from a slip.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

func derive(secret []byte, what string, n int) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(what))
	sum := mac.Sum(nil)
	out := make([]byte, n)
	for i := range out {
		out[i] = codeAlphabet[int(sum[i])%len(codeAlphabet)]
	}
	return string(out)
}

// Roster returns n demo students: numbers are grade (1–3), class (two
// digits) and number in class (two digits), 40 to a class, e.g. 20315.
func Roster(secret []byte, n int) []Student {
	classes := (n + 3*40 - 1) / (3 * 40)
	out := make([]Student, 0, n)
	for g := 1; g <= 3 && len(out) < n; g++ {
		for c := 1; c <= classes && len(out) < n; c++ {
			for k := 1; k <= 40 && len(out) < n; k++ {
				no := fmt.Sprintf("%d%02d%02d", g, c, k)
				code := derive(secret, "student:"+no, studentCodeLen)
				out = append(out, Student{No: no, Name: name(no), Code: code[:5] + "-" + code[5:]})
			}
		}
	}
	return out
}

var (
	surnames = []rune("김이박최정강조윤장임한오서신권황안송류홍")
	given    = []rune("민서지우현준예은하윤도연수아시원채유진주영태희건나")
)

func name(no string) string {
	h := sha256.Sum256([]byte(no))
	return string([]rune{surnames[int(h[0])%len(surnames)], given[int(h[1])%len(given)], given[int(h[2])%len(given)]})
}

// WriteCodes writes the roster as CSV student_no,name,code.
func WriteCodes(w io.Writer, students []Student) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"student_no", "name", "code"})
	for _, s := range students {
		cw.Write([]string{s.No, s.Name, s.Code})
	}
	cw.Flush()
	return cw.Error()
}

// MainHall is the 600-seat main hall: rows A–T, seats 1–30 in three blocks
// (1–8, 9–22, 23–30) split by two aisles; the sound desk blocks P–Q 13–18;
// wheelchair spaces at the ends of the back row, next to the doors.
func MainHall() []db.Seat {
	var seats []db.Seat
	for r := 0; r < 20; r++ {
		row := string(rune('A' + r))
		for n := 1; n <= 30; n++ {
			x := n - 1
			if n > 8 {
				x++
			}
			if n > 22 {
				x++
			}
			kind := "standard"
			switch {
			case (row == "P" || row == "Q") && n >= 13 && n <= 18:
				kind = "blocked"
			case row == "T" && (n <= 2 || n >= 29):
				kind = "accessible"
			}
			seats = append(seats, db.Seat{Label: fmt.Sprintf("%s%d", row, n), RowLabel: row, Number: n, X: x, Y: r, Kind: kind})
		}
	}
	return seats
}

// Logins describes how to sign in to a demo festival loaded earlier,
// without changing anything: the first demo student and the staff
// accounts whose derived passwords still work. It returns db.ErrNotFound
// when the database holds no demo.
func Logins(ctx context.Context, store *db.Store) (Result, error) {
	var res Result
	secretHex, err := store.Setting(ctx, "demo_secret")
	if err != nil {
		return res, err
	}
	secret, err := hex.DecodeString(secretHex)
	if err != nil {
		return res, fmt.Errorf("demo: stored secret: %w", err)
	}
	res.Students = Roster(secret, 1)
	for _, s := range []struct{ user, role string }{{"council", "council"}, {"gate", "gate"}} {
		password := derive(secret, "staff:"+s.user, 12)
		stored, err := store.StaffPasswordHash(ctx, s.user)
		if err != nil {
			continue
		}
		if ok, _ := passhash.Verify(stored, password); !ok {
			password = ""
		}
		res.Staff = append(res.Staff, Login{Username: s.user, Password: password, Role: s.role})
	}
	return res, nil
}

package seatpick

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// parseHall builds a hall from one string per row, front row first. Each
// character is one X position: '.' free, 'x' taken, 'a' free wheelchair
// space, 'A' taken wheelchair space, ' ' an aisle (no seat at that X). Seats
// are labelled with the row letter and X+1, so "B4" is Row 1, X 3.
func parseHall(rows ...string) []Seat {
	var seats []Seat
	for r, line := range rows {
		for x, c := range line {
			if c == ' ' {
				continue
			}
			seats = append(seats, Seat{
				Label:      label(r, x),
				Row:        r,
				X:          x,
				Free:       c == '.' || c == 'a',
				Accessible: c == 'a' || c == 'A',
			})
		}
	}
	return seats
}

func label(row, x int) string {
	return fmt.Sprintf("%c%d", 'A'+row, x+1)
}

// festivalHall is 20 rows of 30 seats, split by two aisles into blocks of 8,
// 14 and 8 seats; X runs from 0 to 31 with the aisles at X 8 and 23, so the
// centre line is at X 15.5, between A16 and A17.
const festivalRow = "........ .............. ........"

// festivalHall returns the 600-seat hall with only the given labels free, or
// every seat free when no label is given.
func festivalHall(free ...string) []Seat {
	rows := make([]string, 20)
	for i := range rows {
		rows[i] = festivalRow
	}
	seats := parseHall(rows...)
	if len(free) == 0 {
		return seats
	}
	want := map[string]bool{}
	for _, l := range free {
		want[l] = true
	}
	for i := range seats {
		seats[i].Free = want[seats[i].Label]
	}
	return seats
}

func TestBest(t *testing.T) {
	tests := []struct {
		name   string
		seats  []Seat
		opts   Options
		want   string
		wantOK bool
	}{
		{name: "no seats", seats: nil, wantOK: false},
		{name: "all taken", seats: parseHall("xxxxx", "xxAxx"), wantOK: false},
		{name: "empty row gives the centre seat", seats: parseHall("..........."), want: "A6", wantOK: true},
		{name: "empty hall gives the front seat left of the centre line", seats: festivalHall(), want: "A16", wantOK: true},
		{name: "even row ties go to the lower X", seats: parseHall("......"), want: "A3", wantOK: true},
		{name: "front row beats the same seat further back", seats: parseHall("xx.xx", "xx.xx"), want: "A3", wantOK: true},
		{
			name:   "centred seat a few rows back beats the extreme side of the front row",
			seats:  festivalHall("A1", "A32", "D16"),
			want:   "D16",
			wantOK: true,
		},
		{
			name:   "centre block beats the side block in the same row",
			seats:  festivalHall("A7", "A10"),
			want:   "A10",
			wantOK: true,
		},
		{
			// The centre seat A5 would strand A4 and A6 between taken seats.
			name:   "naive best that strands a seat is avoided",
			seats:  parseHall("..x...x.."),
			want:   "A4",
			wantOK: true,
		},
		{
			// A2 and A3 each strand the other; B2 strands B1 against the
			// row end, and B1 strands nothing.
			name:   "avoiding a hole beats a better row",
			seats:  parseHall("x..", "..."),
			want:   "B1",
			wantOK: true,
		},
		{
			// A2 and A3 tie on score and A2 would win on X, but it strands
			// A1 against the row end.
			name:   "hole rule outranks the tie-break",
			seats:  parseHall("...x"),
			want:   "A3",
			wantOK: true,
		},
		{
			// Every choice here strands the other seat; a seat is still
			// returned, the better one.
			name:   "every choice strands a seat",
			seats:  parseHall("x..", "x.."),
			want:   "A2",
			wantOK: true,
		},
		{
			name:   "filling an existing hole is fine",
			seats:  parseHall("xx.xx"),
			want:   "A3",
			wantOK: true,
		},
		{
			// A7 sits beside the aisle; A5 and A6 stay free together, so
			// the aisle strands nothing.
			name:   "aisle alone does not strand",
			seats:  parseHall("xxxx... x......"),
			want:   "A7",
			wantOK: true,
		},
		{
			// A6 would leave A7 alone between a taken seat and the aisle,
			// and A7 would leave A6 alone; A10 strands nothing.
			name:   "one free seat between a taken seat and the aisle is a hole",
			seats:  parseHall("xxxxx.. x......"),
			want:   "A10",
			wantOK: true,
		},
		{
			// A4 and A6 face each other across the aisle. They are not
			// neighbours, so taking A4 strands nothing and beats row B.
			name:   "aisles split segments",
			seats:  parseHall("xxx. .xxx", ".... ...."),
			want:   "A4",
			wantOK: true,
		},
		{
			name:   "free wheelchair space is skipped for a regular seat",
			seats:  parseHall("...a..."),
			want:   "A3",
			wantOK: true,
		},
		{
			// The wheelchair space strands nothing, the regular seats do,
			// and still the regular seat is chosen: the space is kept for
			// someone who needs it.
			name:   "regular seat that strands beats a free wheelchair space",
			seats:  parseHall("xx..xa"),
			want:   "A3",
			wantOK: true,
		},
		{
			name:   "wheelchair space when nothing else is free",
			seats:  parseHall("xxaxx", "xxxxx"),
			want:   "A3",
			wantOK: true,
		},
		{
			name:   "PreferAccessible picks the space over better seats",
			seats:  parseHall(".......", "a......"),
			opts:   Options{PreferAccessible: true},
			want:   "B1",
			wantOK: true,
		},
		{
			name:   "PreferAccessible picks the best of several spaces",
			seats:  parseHall("a.....a", "...a..."),
			opts:   Options{PreferAccessible: true},
			want:   "B4",
			wantOK: true,
		},
		{
			name:   "PreferAccessible falls back to regular seats",
			seats:  parseHall("A.....A"),
			opts:   Options{PreferAccessible: true},
			want:   "A4",
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Best(tt.seats, tt.opts)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Best() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestBestIgnoresSeatOrder checks determinism: the same hall in any order
// gives the same seat, including when mirror-image seats tie.
func TestBestIgnoresSeatOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	halls := [][]Seat{
		festivalHall(),
		festivalHall("A1", "A32", "B1", "B32"),
		parseHall("x......x", "x......x"),
	}
	for h, hall := range halls {
		want, _ := Best(hall, Options{})
		for range 50 {
			shuffled := append([]Seat(nil), hall...)
			rng.Shuffle(len(shuffled), func(i, j int) {
				shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
			})
			if got, _ := Best(shuffled, Options{}); got != want {
				t.Fatalf("hall %d: shuffled seats gave %q, in order %q", h, got, want)
			}
		}
	}
}

// TestBestDoesNotModifySeats guards the caller's slice, which Best must only
// read.
func TestBestDoesNotModifySeats(t *testing.T) {
	seats := parseHall("x..x..", ".a....")
	before := append([]Seat(nil), seats...)
	Best(seats, Options{})
	for i := range seats {
		if seats[i] != before[i] {
			t.Fatalf("seat %d changed from %+v to %+v", i, before[i], seats[i])
		}
	}
}

// TestBestFillOrder fills the festival hall one click at a time and checks
// the shape the comment at sideNum promises: no side block seat is given out
// while a seat in the centre block of rows A to C could still be taken
// without stranding anyone.
func TestBestFillOrder(t *testing.T) {
	seats := festivalHall()
	byLabel := map[string]int{}
	for i, s := range seats {
		byLabel[s.Label] = i
	}
	for click := 1; click <= len(seats); click++ {
		got, ok := Best(seats, Options{})
		if !ok {
			t.Fatalf("click %d: no seat in a hall with free seats", click)
		}
		s := &seats[byLabel[got]]
		if !s.Free {
			t.Fatalf("click %d: got taken seat %s", click, got)
		}
		if side := s.X < 8 || s.X > 23; side {
			for i := range seats {
				c := &seats[i]
				centreFront := c.Row <= 2 && c.X > 8 && c.X < 23
				if centreFront && c.Free && !createsHole(seats, c) {
					t.Fatalf("click %d: side seat %s given out while %s was free", click, got, c.Label)
				}
			}
			return
		}
		s.Free = false
	}
	t.Fatal("no side block seat was ever given out")
}

// TestBestProperties runs Best on random halls and compares it with a slow
// reference that follows the rules literally: the seat is free, in the right
// accessibility tier, strands no seat if that is avoidable, and is the best
// by exact score then Row then X.
func TestBestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260501, 7))
	var avoidedHole, forcedHole, none int
	for iter := range 1000 {
		seats := randomHall(rng)
		opts := Options{PreferAccessible: rng.IntN(4) == 0}
		got, ok := Best(seats, opts)
		want, wantOK, naiveHole := referenceBest(seats, opts)
		if got != want || ok != wantOK {
			t.Fatalf("iteration %d: Best() = %q, %v; reference %q, %v\nhall: %s",
				iter, got, ok, want, wantOK, describe(seats))
		}
		if !ok {
			none++
			continue
		}
		var picked *Seat
		for i := range seats {
			if seats[i].Label == got {
				picked = &seats[i]
			}
		}
		if picked == nil || !picked.Free {
			t.Fatalf("iteration %d: Best() = %q, which is not a free seat", iter, got)
		}
		if naiveHole {
			if createsHole(seats, picked) {
				forcedHole++
			} else {
				avoidedHole++
			}
		}
	}
	// The random halls must actually exercise the interesting cases, or the
	// properties above prove little.
	if avoidedHole < 50 || forcedHole < 10 || none < 10 {
		t.Errorf("weak coverage: %d avoided holes, %d forced holes, %d full halls",
			avoidedHole, forcedHole, none)
	}
}

// randomHall returns a small hall of up to 6 rows with random aisles, ragged
// row ends, shifted X, random occupancy and a few wheelchair spaces, in
// random order.
func randomHall(rng *rand.Rand) []Seat {
	rows := 1 + rng.IntN(6)
	width := 1 + rng.IntN(14)
	shift := rng.IntN(7) - 3
	freeP := rng.Float64()
	aisle := make([]bool, width)
	for x := range aisle {
		aisle[x] = rng.IntN(7) == 0
	}
	var seats []Seat
	for r := range rows {
		for x := range width {
			if aisle[x] || rng.IntN(20) == 0 {
				continue
			}
			seats = append(seats, Seat{
				Label:      label(r, x),
				Row:        r,
				X:          x + shift,
				Free:       rng.Float64() < freeP,
				Accessible: rng.IntN(10) == 0,
			})
		}
	}
	rng.Shuffle(len(seats), func(i, j int) { seats[i], seats[j] = seats[j], seats[i] })
	return seats
}

// referenceBest is the slow, literal version of Best. naiveHole reports that
// the best eligible seat by score alone would have stranded a seat.
func referenceBest(seats []Seat, opts Options) (label string, ok, naiveHole bool) {
	var anyAccessible, anyRegular bool
	for _, s := range seats {
		if s.Free && s.Accessible {
			anyAccessible = true
		}
		if s.Free && !s.Accessible {
			anyRegular = true
		}
	}
	wantAccessible := anyAccessible && (opts.PreferAccessible || !anyRegular)
	var eligible []*Seat
	for i := range seats {
		if seats[i].Free && seats[i].Accessible == wantAccessible {
			eligible = append(eligible, &seats[i])
		}
	}
	if len(eligible) == 0 {
		return "", false, false
	}

	minX, maxX, maxRow := seats[0].X, seats[0].X, seats[0].Row
	for _, s := range seats {
		minX, maxX, maxRow = min(minX, s.X), max(maxX, s.X), max(maxRow, s.Row)
	}
	// score = row + |x - centre| / (width/2) * rows * 3/5, in exact rationals.
	width := max(maxX-minX, 1)
	score := func(s *Seat) *big.Rat {
		d := new(big.Rat).SetFrac64(int64(2*s.X-minX-maxX), int64(width))
		d.Abs(d)
		d.Mul(d, big.NewRat(int64(3*(maxRow+1)), 5))
		return d.Add(d, new(big.Rat).SetInt64(int64(s.Row)))
	}
	better := func(a, b *Seat) bool {
		if c := score(a).Cmp(score(b)); c != 0 {
			return c < 0
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return a.X < b.X
	}

	var best, naive *Seat
	for _, s := range eligible {
		if naive == nil || better(s, naive) {
			naive = s
		}
		if createsHole(seats, s) {
			continue
		}
		if best == nil || better(s, best) {
			best = s
		}
	}
	naiveHole = createsHole(seats, naive)
	if best == nil {
		best = naive
	}
	return best.Label, true, naiveHole
}

// createsHole reports, by brute force over the whole hall, whether taking
// seat c turns some free seat into a hole that was not one before.
func createsHole(seats []Seat, c *Seat) bool {
	type pos struct{ row, x int }
	free := map[pos]bool{}
	for _, s := range seats {
		free[pos{s.Row, s.X}] = s.Free
	}
	isHole := func(s Seat) bool {
		return free[pos{s.Row, s.X}] && !free[pos{s.Row, s.X - 1}] && !free[pos{s.Row, s.X + 1}]
	}
	before := map[pos]bool{}
	for _, s := range seats {
		before[pos{s.Row, s.X}] = isHole(s)
	}
	free[pos{c.Row, c.X}] = false
	for _, s := range seats {
		if isHole(s) && !before[pos{s.Row, s.X}] {
			return true
		}
	}
	return false
}

// describe draws a hall in parseHall's notation for failure messages.
func describe(seats []Seat) string {
	minX, maxX, maxRow := seats[0].X, seats[0].X, 0
	for _, s := range seats {
		minX, maxX, maxRow = min(minX, s.X), max(maxX, s.X), max(maxRow, s.Row)
	}
	grid := make([][]byte, maxRow+1)
	for r := range grid {
		grid[r] = []byte(strings.Repeat(" ", maxX-minX+1))
	}
	c := map[[2]bool]byte{{true, false}: '.', {false, false}: 'x', {true, true}: 'a', {false, true}: 'A'}
	for _, s := range seats {
		grid[s.Row][s.X-minX] = c[[2]bool{s.Free, s.Accessible}]
	}
	var b strings.Builder
	for _, row := range grid {
		fmt.Fprintf(&b, "\n  %q", row)
	}
	return b.String()
}

// BenchmarkBest measures one click of the "best available" button on a half
// full hall: the 600-seat festival hall and a 2000-seat hall of 40 rows of 50.
func BenchmarkBest(b *testing.B) {
	halls := []struct {
		name  string
		seats []Seat
	}{
		{"600", festivalHall()},
		{"2000", parseHall(func() []string {
			rows := make([]string, 40)
			for i := range rows {
				rows[i] = strings.Repeat(".", 12) + " " + strings.Repeat(".", 26) + " " + strings.Repeat(".", 12)
			}
			return rows
		}()...)},
	}
	for _, h := range halls {
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range h.seats {
			h.seats[i].Free = rng.IntN(2) == 0
		}
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Best(h.seats, Options{})
			}
		})
	}
}

// Ranked's first seat is Best's, and it lists distinct free seats, as
// many as asked for or as are free.
func TestRankedStartsWithBest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for trial := range 200 {
		var seats []Seat
		free := 0
		for r := range 6 {
			for x := range 12 {
				if x == 5 {
					continue // an aisle
				}
				f := rng.IntN(3) > 0
				if f {
					free++
				}
				seats = append(seats, Seat{Label: fmt.Sprintf("%c%d", 'A'+r, x+1), Row: r, X: x, Free: f, Accessible: rng.IntN(20) == 0})
			}
		}
		best, ok := Best(seats, Options{})
		ranked := Ranked(seats, Options{}, 8)
		if !ok {
			if len(ranked) != 0 {
				t.Fatalf("trial %d: nothing free but Ranked gave %v", trial, ranked)
			}
			continue
		}
		if ranked[0] != best || len(ranked) != min(8, free) {
			t.Fatalf("trial %d: Ranked %v, Best %s, %d free", trial, ranked, best, free)
		}
		seen := map[string]bool{}
		for _, l := range ranked {
			if seen[l] {
				t.Fatalf("trial %d: %s twice in %v", trial, l, ranked)
			}
			seen[l] = true
			for _, s := range seats {
				if s.Label == l && !s.Free {
					t.Fatalf("trial %d: %s is taken", trial, l)
				}
			}
		}
	}
}

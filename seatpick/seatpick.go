// Package seatpick chooses the "best available" seat for one student.
//
// The picker is pure: it sees a snapshot of the hall as a slice of Seat
// values and returns a label. It does not hold or sell anything; the caller
// still has to take the seat in the database, where a conditional update
// decides who wins if two students click at the same moment. Because it runs
// on every click of the "best available" button, Best is O(n log n) in the
// number of seats and allocates one index slice per call.
package seatpick

import (
	"cmp"
	"slices"
)

// Seat is one seat as the picker sees it.
type Seat struct {
	// Label is what the student sees and what Best returns, such as "C12".
	Label string
	// Row is 0 for the front row (nearest the stage) and increases
	// backwards.
	Row int
	// X is the horizontal grid position in the hall drawing. Aisles are gaps
	// in X (X jumps from 9 to 11), so only seats with consecutive X in the
	// same row are neighbours.
	X int
	// Free reports that the seat can be taken now: it is not sold, not held
	// and not blocked.
	Free bool
	// Accessible marks a wheelchair space. Such seats are only picked when
	// the caller asks for them or when nothing else is free, so that they
	// stay available for the students who need them.
	Accessible bool
}

// Options changes how Best chooses. The zero value picks a regular seat.
type Options struct {
	// PreferAccessible makes Best choose among free wheelchair spaces first,
	// falling back to regular seats only when none is free.
	PreferAccessible bool
}

// Horizontal weight of the score, as the fraction sideNum/sideDen of the
// hall's depth in rows: a seat at the far side of the hall scores as badly as
// a centred seat that many rows further back. Scaling by the hall's own depth
// and width keeps the same shape in a classroom and in the gym.
//
// Why 3/5, the weight suggested in the design and kept after trying others:
// in a 20-row hall 30 seats wide, the extreme side seat costs 12 rows and
// each seat sideways about 0.8 of a row. Filling such a hall click by click
// (two aisles, blocks of 8, 14 and 8 seats) gives out the centre block from
// row A back to row G before the first side block seat, A8 beside the aisle,
// at click 53; the pairs left at the ends of the centre block rows are kept
// by the hole rule. At 1/3 the side blocks of row A were given out from click
// 33 while the centre block had only reached row D; at 1 the centre block
// reached row K first. A front-row side seat looks at the stage at a steep
// angle, so we lean towards the centre, but not as far as row K.
const (
	sideNum = 3
	sideDen = 5
)

// Best returns the label of the best free seat, or ok=false when none is
// free.
//
// The rules, in priority order:
//
//  1. Wheelchair spaces are only candidates when opts.PreferAccessible is set
//     (they then go first) or when no regular seat is free.
//  2. Among the candidates, a seat whose choice leaves a single free seat
//     stranded in its row segment is only chosen when every candidate does
//     that. A row segment is a maximal run of seats in one row with
//     consecutive X; aisles and row ends are its edges. A stranded seat is a
//     free seat with a non-free seat or an edge on both sides. Holes that
//     already exist do not count against any seat.
//  3. The lowest score wins: rows from the front plus the horizontal distance
//     from the hall's centre line, weighted as described at sideNum.
//  4. Ties go to the lower Row, then the lower X, so the answer depends only
//     on the hall and never on the order of seats.
//
// Best does not modify seats. If two seats share a Row and X, which is a
// caller bug, they are treated as separate segments rather than neighbours.
func Best(seats []Seat, opts Options) (label string, ok bool) {
	ranked := Ranked(seats, opts, 1)
	if len(ranked) == 0 {
		return "", false
	}
	return ranked[0], true
}

// Ranked returns the labels of the n best free seats, best first, by
// Best's rules (Best is its first). Students pressing "best available" at
// the same instant would all be offered the same seat; a caller spreads
// them over the first few of these instead.
func Ranked(seats []Seat, opts Options, n int) []string {
	if len(seats) == 0 || n <= 0 {
		return nil
	}

	// The hall's extent gives the centre line and the normalisation of the
	// score; it is computed from all seats, taken or not, so the centre does
	// not drift as the hall fills.
	minX, maxX := seats[0].X, seats[0].X
	minRow, maxRow := seats[0].Row, seats[0].Row
	for _, s := range seats[1:] {
		minX, maxX = min(minX, s.X), max(maxX, s.X)
		minRow, maxRow = min(minRow, s.Row), max(maxRow, s.Row)
	}
	sc := scorer{
		centre2: int64(minX) + int64(maxX),
		width:   max(int64(maxX)-int64(minX), 1),
		rows:    int64(maxRow) - int64(minRow) + 1,
	}

	// Sorting indices by (Row, X) puts each seat's row neighbours next to it,
	// which makes the stranding test O(1) per seat. The caller's slice is left
	// alone.
	order := make([]int32, len(seats))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		sa, sb := &seats[a], &seats[b]
		return cmp.Or(cmp.Compare(sa.Row, sb.Row), cmp.Compare(sa.X, sb.X))
	})

	type candidate struct {
		i int32
		k key
	}
	var cands []candidate
	for p, i := range order {
		s := &seats[i]
		if !s.Free {
			continue
		}
		cands = append(cands, candidate{i, key{
			tier:  tierOf(s.Accessible, opts.PreferAccessible),
			holes: strands(seats, order, p),
			score: sc.score(s.Row, s.X),
			row:   s.Row,
			x:     s.X,
		}})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		switch {
		case a.k.less(b.k):
			return -1
		case b.k.less(a.k):
			return 1
		}
		return 0
	})
	out := make([]string, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, seats[c.i].Label)
	}
	return out
}

// key orders candidate seats; smaller is better in every field, compared in
// field order.
type key struct {
	tier  int
	holes bool
	score int64
	row   int
	x     int
}

func (k key) less(o key) bool {
	if k.tier != o.tier {
		return k.tier < o.tier
	}
	if k.holes != o.holes {
		return !k.holes
	}
	if k.score != o.score {
		return k.score < o.score
	}
	if k.row != o.row {
		return k.row < o.row
	}
	return k.x < o.x
}

// tierOf returns 0 for the seats the student should get first and 1 for the
// fallback: wheelchair spaces are the fallback unless they were asked for.
func tierOf(accessible, preferAccessible bool) int {
	if accessible == preferAccessible {
		return 0
	}
	return 1
}

// scorer computes the seat score in integers, so that mirror-image seats tie
// exactly and the tie-break rule, not floating-point rounding, decides.
type scorer struct {
	centre2 int64 // minX+maxX, twice the centre line, to stay in integers.
	width   int64 // maxX-minX, at least 1.
	rows    int64 // number of rows from the front to the back.
}

// score is row + (dx/(width/2))*rows*sideNum/sideDen, where dx is the
// distance from the centre line, multiplied through by width*sideDen.
func (c scorer) score(row, x int) int64 {
	d2 := 2*int64(x) - c.centre2 // Twice the distance from the centre line.
	if d2 < 0 {
		d2 = -d2
	}
	return int64(row)*c.width*sideDen + d2*c.rows*sideNum
}

// strands reports whether taking the seat at sorted position p would leave a
// neighbour in its row segment as a single free seat. Only the two
// neighbours can change, so it looks at most two seats to each side.
func strands(seats []Seat, order []int32, p int) bool {
	// free reports whether position q exists, lies in the same segment as
	// position from (its neighbour), and is free.
	free := func(q, from int) bool {
		if q < 0 || q >= len(order) {
			return false
		}
		a, b := &seats[order[q]], &seats[order[from]]
		if a.Row != b.Row || a.X-b.X != q-from {
			return false
		}
		return a.Free
	}
	if free(p-1, p) && !free(p-2, p-1) {
		return true
	}
	return free(p+1, p) && !free(p+2, p+1)
}

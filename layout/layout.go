// Package layout turns a hall drawn as text into seats. The council pastes
// one line per row of the hall, the row nearest the stage first:
//
//	AAAA.AAAAAAAA.AAAA
//	wwAA.AAAAxxAA.AArr
//
// Any letter (or s) is a seat, '.' or a space is an aisle gap, x is a
// blocked place (the sound desk: labelled but never sold), w an accessible
// seat and r a seat reserved for guests: a real seat the ticket desk holds
// back, so students cannot take it but the council can give it out
// (db/migrations/007_ticket_desk.sql). An empty line is a cross aisle: it
// takes room on the map but no row label.
package layout

import (
	"fmt"
	"strings"
)

// Limits keep a hall small enough to draw on a phone and to set up in one
// transaction.
const (
	MaxRows    = 60
	MaxColumns = 80
	MaxSeats   = 3000
)

// Kind is what a place on the grid is.
type Kind string

// The kinds of seat; the first three are seats.kind in the database.
const (
	Standard   Kind = "standard"
	Accessible Kind = "accessible"
	Blocked    Kind = "blocked"
)

// Seat is one labelled place of the hall. Reserved seats are standard or
// accessible seats the council holds back from sale.
type Seat struct {
	Label    string
	RowLabel string
	Number   int
	X, Y     int
	Kind     Kind
	Reserved bool
}

// Options say how seats are labelled.
type Options struct {
	// StartRow is the label of the first row, a letter A–Z.
	StartRow byte
	// SkipIO leaves out the letters I and O, which read like 1 and 0.
	SkipIO bool
	// StartNumber is the number of the leftmost seat of each row, 1–900.
	StartNumber int
}

// DefaultOptions label rows from A, keep I and O and number seats from 1.
func DefaultOptions() Options { return Options{StartRow: 'A', StartNumber: 1} }

// Hall is a parsed grid.
type Hall struct {
	Seats  []Seat
	Rows   int // rows with seats
	Width  int // columns of the widest line
	Height int // lines, cross aisles included
}

// Error kinds, each with a message in the setup catalogue
// (setup.grid.error.<kind>).
const (
	ErrBadChar     = "bad_char"
	ErrTooManyRows = "too_many_rows"
	ErrTooWide     = "too_wide"
	ErrTooMany     = "too_many_seats"
	ErrEmpty       = "empty"
	ErrOptions     = "options"
)

// Error says what is wrong with a grid and where: Line and Column count
// from 1 and are 0 when the error is about the whole grid.
type Error struct {
	Kind   string
	Line   int
	Column int
	Char   rune
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "layout: " + e.Kind
	}
	if e.Kind == ErrBadChar {
		return fmt.Sprintf("layout: line %d, column %d: %s %q", e.Line, e.Column, e.Kind, e.Char)
	}
	return fmt.Sprintf("layout: line %d, column %d: %s", e.Line, e.Column, e.Kind)
}

// rowLabels returns the labels of n rows: single letters, then pairs (Z is
// followed by AA) so that a long hall still fits the label pattern.
func rowLabels(o Options, n int) []string {
	var letters []byte
	for c := byte('A'); c <= 'Z'; c++ {
		if o.SkipIO && (c == 'I' || c == 'O') {
			continue
		}
		letters = append(letters, c)
	}
	first := 0
	for i, c := range letters {
		if c == o.StartRow {
			first = i
		}
	}
	out := make([]string, 0, n)
	for i := first; len(out) < n; i++ {
		if i < len(letters) {
			out = append(out, string(letters[i]))
			continue
		}
		j := i - len(letters)
		out = append(out, string([]byte{letters[(j/len(letters))%len(letters)], letters[j%len(letters)]}))
	}
	return out
}

// Parse reads a grid. Trailing spaces and carriage returns are ignored, as
// are empty lines before the first row and after the last.
func Parse(text string, o Options) (Hall, error) {
	if o.StartRow < 'A' || o.StartRow > 'Z' || (o.SkipIO && (o.StartRow == 'I' || o.StartRow == 'O')) ||
		o.StartNumber < 1 || o.StartNumber > 900 {
		return Hall{}, &Error{Kind: ErrOptions}
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t\r")
	}
	// firstLine is the 1-based number of the first line kept, for errors.
	firstLine := 1
	for len(lines) > 0 && strings.Trim(lines[0], ". ") == "" {
		lines = lines[1:]
		firstLine++
	}
	for len(lines) > 0 && strings.Trim(lines[len(lines)-1], ". ") == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return Hall{}, &Error{Kind: ErrEmpty}
	}
	var h Hall
	type place struct {
		x    int
		kind Kind
		res  bool
	}
	var rows [][]place
	var rowY []int
	seats := 0
	for i, line := range lines {
		lineNo := firstLine + i
		var row []place
		col := 0
		for _, r := range line {
			col++
			if col > MaxColumns {
				return Hall{}, &Error{Kind: ErrTooWide, Line: lineNo, Column: col}
			}
			p := place{x: col - 1}
			switch {
			case r == '.' || r == ' ':
				continue
			case r == 'x' || r == 'X':
				p.kind = Blocked
			case r == 'w' || r == 'W':
				p.kind = Accessible
			case r == 'r' || r == 'R':
				p.kind, p.res = Standard, true
			case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
				p.kind = Standard
			default:
				return Hall{}, &Error{Kind: ErrBadChar, Line: lineNo, Column: col, Char: r}
			}
			seats++
			if seats > MaxSeats {
				return Hall{}, &Error{Kind: ErrTooMany, Line: lineNo, Column: col}
			}
			row = append(row, p)
		}
		h.Width = max(h.Width, col)
		if len(row) == 0 {
			continue
		}
		if len(rows) == MaxRows {
			return Hall{}, &Error{Kind: ErrTooManyRows, Line: lineNo, Column: 1}
		}
		rows = append(rows, row)
		rowY = append(rowY, i)
	}
	h.Height = len(lines)
	h.Rows = len(rows)
	labels := rowLabels(o, len(rows))
	h.Seats = make([]Seat, 0, seats)
	for ri, row := range rows {
		for n, p := range row {
			num := o.StartNumber + n
			h.Seats = append(h.Seats, Seat{
				Label: fmt.Sprintf("%s%d", labels[ri], num), RowLabel: labels[ri], Number: num,
				X: p.x, Y: rowY[ri], Kind: p.kind, Reserved: p.res,
			})
		}
	}
	return h, nil
}

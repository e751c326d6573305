package layout

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLabelsSeatsAndSkipsGaps(t *testing.T) {
	h, err := Parse("\n\nAA.AA\r\nwx.rs  \n\n...\nAAAA\n\n", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if h.Rows != 3 || h.Height != 5 || h.Width != 5 || len(h.Seats) != 12 {
		t.Fatalf("rows %d height %d width %d seats %d", h.Rows, h.Height, h.Width, len(h.Seats))
	}
	want := []Seat{
		{"A1", "A", 1, 0, 0, Standard, false}, {"A2", "A", 2, 1, 0, Standard, false},
		{"A3", "A", 3, 3, 0, Standard, false}, {"A4", "A", 4, 4, 0, Standard, false},
		{"B1", "B", 1, 0, 1, Accessible, false}, {"B2", "B", 2, 1, 1, Blocked, false},
		{"B3", "B", 3, 3, 1, Standard, true}, {"B4", "B", 4, 4, 1, Standard, false},
		// The cross aisle (an empty line and a line of dots) takes no label.
		{"C1", "C", 1, 0, 4, Standard, false},
	}
	for i, w := range want {
		if h.Seats[i] != w {
			t.Errorf("seat %d = %+v, want %+v", i, h.Seats[i], w)
		}
	}
}

func TestParseOptions(t *testing.T) {
	grid := strings.Repeat("AA\n", 10)
	h, err := Parse(grid, Options{StartRow: 'G', SkipIO: true, StartNumber: 101})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, s := range h.Seats {
		if s.Number == 101 {
			rows = append(rows, s.RowLabel)
		}
	}
	if got := strings.Join(rows, ""); got != "GHJKLMNPQR" {
		t.Fatalf("rows %q", got)
	}
	if h.Seats[1].Label != "G102" {
		t.Fatalf("second seat %q", h.Seats[1].Label)
	}
	// Past Z the rows take two letters.
	h, err = Parse(strings.Repeat("A\n", 30), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if h.Seats[25].Label != "Z1" || h.Seats[26].Label != "AA1" || h.Seats[29].Label != "AD1" {
		t.Fatalf("labels %q %q %q", h.Seats[25].Label, h.Seats[26].Label, h.Seats[29].Label)
	}
}

func TestParseErrors(t *testing.T) {
	wide := strings.Repeat("A", 81)
	many := strings.Repeat(strings.Repeat("A", 60)+"\n", 51)
	cases := []struct {
		name, grid string
		o          Options
		want       Error
	}{
		{"bad char", "AAAA\nAA#A", DefaultOptions(), Error{Kind: ErrBadChar, Line: 2, Column: 3, Char: '#'}},
		{"bad char after leading blank lines", "\n\nAA\nA1", DefaultOptions(), Error{Kind: ErrBadChar, Line: 4, Column: 2, Char: '1'}},
		{"hangul", "AA가", DefaultOptions(), Error{Kind: ErrBadChar, Line: 1, Column: 3, Char: '가'}},
		{"too wide", "A\n" + wide, DefaultOptions(), Error{Kind: ErrTooWide, Line: 2, Column: 81}},
		{"too many rows", strings.Repeat("A\n", 61), DefaultOptions(), Error{Kind: ErrTooManyRows, Line: 61, Column: 1}},
		{"too many seats", many, DefaultOptions(), Error{Kind: ErrTooMany, Line: 51, Column: 1}},
		{"empty", " \n...\n", DefaultOptions(), Error{Kind: ErrEmpty}},
		{"bad start row", "A", Options{StartRow: '1', StartNumber: 1}, Error{Kind: ErrOptions}},
		{"start row skipped", "A", Options{StartRow: 'I', SkipIO: true, StartNumber: 1}, Error{Kind: ErrOptions}},
		{"bad start number", "A", Options{StartRow: 'A', StartNumber: 0}, Error{Kind: ErrOptions}},
	}
	for _, c := range cases {
		_, err := Parse(c.grid, c.o)
		var e *Error
		if !errors.As(err, &e) || *e != c.want {
			t.Errorf("%s: got %v, want %+v", c.name, err, c.want)
		}
	}
}

func TestParseAtTheLimits(t *testing.T) {
	// 60 rows of 50 seats is exactly 3,000 seats; 80 columns fit.
	h, err := Parse(strings.Repeat(strings.Repeat("A", 50)+"\n", 60), DefaultOptions())
	if err != nil || len(h.Seats) != MaxSeats {
		t.Fatalf("%d seats, %v", len(h.Seats), err)
	}
	if _, err := Parse(strings.Repeat("A.", 40), DefaultOptions()); err != nil {
		t.Fatal(err)
	}
}

// FuzzParse checks that any text either fails with a located error or gives
// seats within the limits, each with a unique label and place that the
// database's label pattern accepts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"AAAA.AAAAAAAA.AAAA", "wx.r\n\nss", "", "A#", strings.Repeat("A\n", 61)} {
		f.Add(s, byte('A'), false, 1)
	}
	f.Fuzz(func(t *testing.T, grid string, start byte, skip bool, number int) {
		h, err := Parse(grid, Options{StartRow: start, SkipIO: skip, StartNumber: number})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(h.Seats) == 0 || len(h.Seats) > MaxSeats || h.Rows > MaxRows || h.Width > MaxColumns {
			t.Fatalf("limits: %d seats %d rows %d wide", len(h.Seats), h.Rows, h.Width)
		}
		labels, places := map[string]bool{}, map[[2]int]bool{}
		for _, s := range h.Seats {
			if !validLabel(s.RowLabel, s.Number) || s.Label != s.RowLabel+itoa(s.Number) {
				t.Fatalf("bad label %+v", s)
			}
			if labels[s.Label] || places[[2]int{s.X, s.Y}] {
				t.Fatalf("duplicate %+v", s)
			}
			labels[s.Label], places[[2]int{s.X, s.Y}] = true, true
		}
	})
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// validLabel is the seats table's CHECK on row_label and number.
func validLabel(row string, n int) bool {
	if len(row) < 1 || len(row) > 2 || n < 1 || n > 999 {
		return false
	}
	for i := 0; i < len(row); i++ {
		if row[i] < 'A' || row[i] > 'Z' {
			return false
		}
	}
	return true
}

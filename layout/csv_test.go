package layout

import (
	"errors"
	"strings"
	"testing"
)

func TestGridFromCSV(t *testing.T) {
	grid, err := GridFromCSV(strings.NewReader("\xef\xbb\xbfA,A,,A\r\nw, x ,,r\r\n"))
	if err != nil || grid != "AA.A\nwx.r\n" {
		t.Fatalf("%q %v", grid, err)
	}
	h, err := Parse(grid, DefaultOptions())
	if err != nil || len(h.Seats) != 6 || h.Seats[5].Label != "B3" || !h.Seats[5].Reserved {
		t.Fatalf("%+v %v", h.Seats, err)
	}
	for _, c := range []struct {
		name, in string
		want     Error
	}{
		{"two characters in a cell", "A,A\nA,AB\n", Error{Kind: ErrBadCell, Line: 2, Column: 2}},
		{"a broken quote", "A,\"A\nA", Error{Kind: ErrBadCell, Line: 2, Column: 2}},
		{"too wide", strings.Repeat("A,", 81) + "A\n", Error{Kind: ErrTooWide, Line: 1, Column: 81}},
		{"not UTF-8", "A,\xff\n", Error{Kind: ErrBadChar, Line: 1, Column: 1, Char: '\uFFFD'}},
	} {
		_, err := GridFromCSV(strings.NewReader(c.in))
		var e *Error
		if !errors.As(err, &e) || e.Kind != c.want.Kind || e.Line != c.want.Line {
			t.Errorf("%s: %v, want %+v", c.name, err, c.want)
		}
	}
}

// FuzzGridFromCSV checks that any file either fails with a located error or
// gives text that Parse accepts or refuses with a located error.
func FuzzGridFromCSV(f *testing.F) {
	f.Add("A,A,,A\nw,x,,r\n")
	f.Add("\"A\nB\",C")
	f.Fuzz(func(t *testing.T, in string) {
		grid, err := GridFromCSV(strings.NewReader(in))
		var e *Error
		if err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if _, err := Parse(grid, DefaultOptions()); err != nil && !errors.As(err, &e) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

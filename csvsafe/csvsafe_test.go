package csvsafe

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"김민준":                 "김민준",
		"C12":                 "C12",
		"=cmd|' /C calc'!A0":  "'=cmd|' /C calc'!A0",
		"+1":                  "'+1",
		"-1":                  "'-1",
		"@SUM(A1)":            "'@SUM(A1)",
		"\t=1":                "'\t=1",
		"\r=1":                "'\r=1",
		"  =1+1":              "'  =1+1",
		"\n@x":                "'\n@x",
		"＝1+1":                "'＝1+1",
		"'quoted":             "''quoted",
		"O'Brien":             "O'Brien",
		"2026-05-01 18:00:00": "2026-05-01 18:00:00",
		"a=b":                 "a=b",
		"   ":                 "   ",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
		if back := Unneutralise(Cell(in)); back != in {
			t.Errorf("Unneutralise(Cell(%q)) = %q", in, back)
		}
	}
}

// A file starts with the BOM and has CRLF line ends; Korean survives and
// a formula comes out as text.
func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write("좌석", "이름")
	w.Write("C12", "=cmd|' /C calc'!A0")
	w.Write("C13", "김, \"별명\" 민준")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := BOM + "좌석,이름\r\nC12,'=cmd|' /C calc'!A0\r\nC13,\"김, \"\"별명\"\" 민준\"\r\n"
	if buf.String() != want {
		t.Errorf("got %q\nwant %q", buf.String(), want)
	}
	var empty bytes.Buffer
	if err := NewWriter(&empty).Flush(); err != nil || empty.String() != BOM {
		t.Errorf("an empty file is %q (%v), want the BOM alone", empty.String(), err)
	}
}

// dangerous reports whether a spreadsheet would evaluate the cell.
func dangerous(cell string) bool {
	if strings.HasPrefix(cell, "'") {
		return false
	}
	return needsApostrophe(cell) && !strings.HasPrefix(cell, "'")
}

// Whatever a name holds, the file reads back (by a CSV reader) as the
// neutralised cells, none of which a spreadsheet would evaluate, and
// Unneutralise gives the name back (less the lone carriage returns a
// CRLF file cannot keep).
func FuzzWriter(f *testing.F) {
	for _, s := range []string{"", "김민준", "=cmd|' /C calc'!A0", "+1", "-x", "@x", "\t=1", "\r\n=1", " ＠x", "'", "a\"b,c\nd", "\xff=1"} {
		f.Add(s, "C12")
	}
	f.Fuzz(func(t *testing.T, name, seat string) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if err := w.Write(seat, name); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.HasPrefix(out, BOM) {
			t.Fatalf("no BOM: %q", out)
		}
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, BOM)))
		rec, err := r.Read()
		if err != nil {
			t.Fatalf("read back %q: %v", out, err)
		}
		for i, in := range []string{seat, name} {
			// A CRLF file drops lone carriage returns (encoding/csv), and a
			// reader turns CRLF inside a quoted cell into LF.
			want := strings.ReplaceAll(Cell(in), "\r", "")
			if rec[i] != want {
				t.Errorf("cell %d: wrote %q, read %q, want %q", i, in, rec[i], want)
			}
			if dangerous(rec[i]) {
				t.Errorf("cell %d: %q reads back as a formula: %q", i, in, rec[i])
			}
			if back := Unneutralise(Cell(in)); back != in {
				t.Errorf("Unneutralise(Cell(%q)) = %q", in, back)
			}
		}
	})
}

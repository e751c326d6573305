// Package csvsafe writes CSV files that open correctly in Excel and cannot
// run anything there: UTF-8 with a byte order mark (without one, Excel
// reads Korean as mojibake in the local code page), CRLF line ends, and
// every cell that a spreadsheet would take for a formula neutralised.
//
// A cell is a formula to Excel, LibreOffice and Google Sheets when it
// starts with = + - or @, and some of them skip a leading tab or carriage
// return first. Such a cell gets a leading apostrophe, which spreadsheets
// read as "this is text" (OWASP's advice for CSV injection): a student
// named =cmd|' /C calc'!A0 stays a name. The apostrophe is visible in a
// plain text editor; Unneutralise takes it off again.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// BOM is the UTF-8 byte order mark every file starts with.
const BOM = "\ufeff"

// needsApostrophe reports whether a spreadsheet could take s for a
// formula: its first character after any leading spaces and line breaks
// is = + - or @ (or their full-width forms, which East Asian versions of
// Excel may read the same way), or it starts with a tab or a carriage
// return. A cell that starts with an apostrophe gets another, so that
// Unneutralise can tell Cell's apostrophe from the cell's own.
func needsApostrophe(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '\'', '\t', '\r':
		return true
	}
	rest := strings.TrimLeft(s, " \t\r\n")
	if rest == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return strings.ContainsRune("=+-@\uff1d\uff0b\uff0d\uff20", r)
}

// Cell returns s as it is safe to write into a spreadsheet cell: s itself,
// or s after an apostrophe when a spreadsheet could take it for a formula.
func Cell(s string) string {
	if needsApostrophe(s) {
		return "'" + s
	}
	return s
}

// Unneutralise undoes Cell: it drops the apostrophe Cell added, so that
// Unneutralise(Cell(s)) == s for every s. It is for tests and tools that
// read festa's exports back, not for spreadsheets.
func Unneutralise(s string) string {
	if strings.HasPrefix(s, "'") && needsApostrophe(s[1:]) {
		return s[1:]
	}
	return s
}

// Writer writes an Excel-safe CSV file: the BOM first, then records whose
// cells all went through Cell.
type Writer struct {
	w       *csv.Writer
	out     io.Writer
	started bool
	cells   []string
}

// NewWriter returns a Writer on w. Nothing is written until the first
// record.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{w: cw, out: w}
}

// Write writes one record.
func (w *Writer) Write(record ...string) error {
	if !w.started {
		w.started = true
		if _, err := io.WriteString(w.out, BOM); err != nil {
			return err
		}
	}
	w.cells = w.cells[:0]
	for _, c := range record {
		w.cells = append(w.cells, Cell(c))
	}
	return w.w.Write(w.cells)
}

// Flush writes what is buffered and reports any error a Write or the
// flush met.
func (w *Writer) Flush() error {
	if !w.started {
		w.started = true
		if _, err := io.WriteString(w.out, BOM); err != nil {
			return err
		}
	}
	w.w.Flush()
	return w.w.Error()
}

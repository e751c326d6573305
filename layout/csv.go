package layout

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrBadCell is the kind of error for a CSV cell holding more than one
// character.
const ErrBadCell = "bad_cell"

// GridFromCSV turns a spreadsheet saved as CSV into grid text: one record
// per row of the hall, one cell per place, an empty cell an aisle and any
// other cell its one character (A, x, w, r…), so a plan drawn in a
// spreadsheet's cells pastes the same as typed text. Errors name the line
// and the cell's column.
func GridFromCSV(r io.Reader) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return "", &Error{Kind: ErrBadChar, Line: 1, Column: 1, Char: utf8.RuneError}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var b strings.Builder
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return "", &Error{Kind: ErrBadCell, Line: pe.Line, Column: pe.Column}
		}
		if err != nil {
			return "", err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) > MaxColumns {
			return "", &Error{Kind: ErrTooWide, Line: line, Column: MaxColumns + 1}
		}
		for i, cell := range rec {
			cell = strings.TrimSpace(cell)
			switch utf8.RuneCountInString(cell) {
			case 0:
				b.WriteByte('.')
			case 1:
				b.WriteString(cell)
			default:
				return "", &Error{Kind: ErrBadCell, Line: line, Column: i + 1}
			}
		}
		b.WriteByte('\n')
		if strings.Count(b.String(), "\n") > MaxRows*2 {
			return "", &Error{Kind: ErrTooManyRows, Line: line, Column: 1}
		}
	}
	return b.String(), nil
}

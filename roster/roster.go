// Package roster reads the student list a school exports: a CSV file with
// the columns student_no, name, grade and class, under English headers or
// the Korean ones school software writes (학번, 이름, 학년, 반), encoded as
// UTF-8 (with or without a byte order mark) or as CP949/EUC-KR.
//
// Parse never stops at the first bad line: it returns every good student
// and every bad line with its number and a reason code, so the console can
// show the whole picture before anything is written. Only a file that
// cannot be read as a roster at all (too large, no usable header, nothing
// in it) is an error.
//
// A student number has five digits: grade, class (two digits) and number
// in the class, so 20315 is grade 2, class 3, no. 15. The grade and class
// columns are a cross-check: when a line fills them they must agree with
// the number's digits, otherwise the line is reported (the number is the
// key the student signs in with, so a disagreement means the export is
// wrong, and guessing which column is right would seat someone in the
// wrong homeroom). Grade and class are not stored; they are always read
// back from the number.
package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// MaxBytes is the largest file Parse reads: 2 MiB holds about 60,000
// lines, far more than any school.
const MaxBytes = 2 << 20

// MaxName is the longest name in characters (the students table's CHECK).
const MaxName = 100

// Encoding names how the file's bytes are read.
type Encoding string

const (
	Auto  Encoding = ""      // valid UTF-8 is UTF-8, anything else CP949
	UTF8  Encoding = "utf-8" // UTF-8, a leading byte order mark is dropped
	CP949 Encoding = "cp949" // CP949, the superset of EUC-KR Korean Windows uses
)

// ParseEncoding reads a form value ("", "auto", "utf-8", "cp949",
// "euc-kr"); anything unknown is Auto.
func ParseEncoding(s string) Encoding {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "utf-8", "utf8":
		return UTF8
	case "cp949", "euc-kr", "euckr":
		return CP949
	}
	return Auto
}

// Errors for files that are refused as a whole.
var (
	ErrTooLarge = errors.New("roster: file larger than 2 MB")
	ErrHeader   = errors.New("roster: the first line must name the columns student_no and name (학번, 이름)")
	ErrEmpty    = errors.New("roster: no students in the file")
)

// Reason says why a line was refused; each is a catalogue key suffix
// (roster.reason.<reason>).
type Reason string

const (
	BadNumber     Reason = "bad_number"     // not five digits, or class or number 00
	GradeMismatch Reason = "grade_mismatch" // grade column disagrees with the number
	ClassMismatch Reason = "class_mismatch" // class column disagrees with the number
	Duplicate     Reason = "duplicate"      // the number appeared on an earlier line
	MissingName   Reason = "missing_name"
	NameTooLong   Reason = "name_too_long" // more than MaxName characters
	BadName       Reason = "bad_name"      // control characters in the name
	BadEncoding   Reason = "bad_encoding"  // bytes that are not text in the encoding
	WrongColumns  Reason = "wrong_columns" // fewer cells than the header names
	BadRow        Reason = "bad_row"       // not CSV (a stray quote)
)

// Reasons lists every Reason, for tests that check the catalogue.
var Reasons = []Reason{BadNumber, GradeMismatch, ClassMismatch, Duplicate, MissingName,
	NameTooLong, BadName, BadEncoding, WrongColumns, BadRow}

// Student is one good line.
type Student struct {
	Line   int    // 1-based line in the file, the header being line 1
	No     string // five digits
	Name   string // trimmed, kept exactly as written otherwise
	Grade  int
	Class  int
	Number int
}

// LineError is one bad line.
type LineError struct {
	Line      int
	No        string // the number as written, when there was one
	Reason    Reason
	FirstLine int // for Duplicate: the line that had the number first
}

// Result is a parsed file.
type Result struct {
	Encoding Encoding // the encoding used (never Auto)
	Students []Student
	Errors   []LineError
}

// OK reports whether every line was good.
func (r Result) OK() bool { return len(r.Errors) == 0 }

// columns maps header names, English and Korean, to a field.
var columns = map[string]string{
	"student_no": "no", "학번": "no",
	"name": "name", "이름": "name", "성명": "name",
	"grade": "grade", "학년": "grade",
	"class": "class", "반": "class",
}

// Parse reads a roster from r in enc. It reads at most MaxBytes and
// refuses anything larger with ErrTooLarge.
func Parse(r io.Reader, enc Encoding) (Result, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("roster: read: %w", err)
	}
	if len(raw) > MaxBytes {
		return Result{}, ErrTooLarge
	}
	text, used := decode(raw, enc)
	res := Result{Encoding: used}

	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return res, ErrHeader
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := columns[h]; ok {
			if _, dup := idx[f]; !dup {
				idx[f] = i
			}
		}
	}
	if _, ok := idx["no"]; !ok {
		return res, ErrHeader
	}
	if _, ok := idx["name"]; !ok {
		return res, ErrHeader
	}
	need := 0
	for _, i := range idx {
		need = max(need, i+1)
	}

	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return res, fmt.Errorf("roster: %w", err)
			}
			res.Errors = append(res.Errors, LineError{Line: pe.StartLine, Reason: BadRow})
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a line of spaces
		}
		if len(rec) < need {
			res.Errors = append(res.Errors, LineError{Line: line, Reason: WrongColumns})
			continue
		}
		st, reason := readLine(rec, idx)
		st.Line = line
		if reason != "" {
			res.Errors = append(res.Errors, LineError{Line: line, No: st.No, Reason: reason})
			continue
		}
		if first, ok := seen[st.No]; ok {
			res.Errors = append(res.Errors, LineError{Line: line, No: st.No, Reason: Duplicate, FirstLine: first})
			continue
		}
		seen[st.No] = line
		res.Students = append(res.Students, st)
	}
	if len(res.Students) == 0 && len(res.Errors) == 0 {
		return res, ErrEmpty
	}
	return res, nil
}

// decode turns raw into text. Bytes that are not text in the chosen
// encoding become U+FFFD, which readLine reports per line.
func decode(raw []byte, enc Encoding) (string, Encoding) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if enc == Auto {
		enc = CP949
		if utf8.Valid(raw) {
			enc = UTF8
		}
	}
	if enc == UTF8 {
		return strings.ToValidUTF8(string(raw), "\ufffd"), UTF8
	}
	// x/text's EUC-KR decoder reads the whole of CP949 (Unified Hangul
	// Code) and replaces what it cannot read with U+FFFD; it never fails.
	out, err := korean.EUCKR.NewDecoder().Bytes(raw)
	if err != nil {
		return strings.ToValidUTF8(string(raw), "\ufffd"), CP949
	}
	return string(out), CP949
}

// readLine checks one record's cells.
func readLine(rec []string, idx map[string]int) (Student, Reason) {
	var st Student
	for _, c := range rec {
		if strings.ContainsRune(c, utf8.RuneError) {
			st.No = strings.ToValidUTF8(strings.TrimSpace(rec[idx["no"]]), "")
			return st, BadEncoding
		}
	}
	st.No = strings.TrimSpace(rec[idx["no"]])
	if len(st.No) > 20 {
		st.No = st.No[:20]
	}
	if !validNumber(st.No) {
		return st, BadNumber
	}
	st.Grade = int(st.No[0] - '0')
	st.Class, _ = strconv.Atoi(st.No[1:3])
	st.Number, _ = strconv.Atoi(st.No[3:5])
	if i, ok := idx["grade"]; ok && !agrees(rec[i], st.Grade, "학년") {
		return st, GradeMismatch
	}
	if i, ok := idx["class"]; ok && !agrees(rec[i], st.Class, "반") {
		return st, ClassMismatch
	}
	st.Name = strings.TrimSpace(rec[idx["name"]])
	switch {
	case st.Name == "":
		return st, MissingName
	case utf8.RuneCountInString(st.Name) > MaxName:
		return st, NameTooLong
	case strings.IndexFunc(st.Name, unicode.IsControl) >= 0:
		return st, BadName
	}
	return st, ""
}

// validNumber reports whether no is five ASCII digits with a grade from 1,
// and a class and a number from 01.
func validNumber(no string) bool {
	if len(no) != 5 {
		return false
	}
	for i := range 5 {
		if no[i] < '0' || no[i] > '9' {
			return false
		}
	}
	return no[0] != '0' && no[1:3] != "00" && no[3:5] != "00"
}

// agrees reports whether a grade or class cell says want. An empty cell
// agrees (the number alone decides); "2", "02" and "2학년" all say 2.
func agrees(cell string, want int, suffix string) bool {
	cell = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cell), suffix))
	if cell == "" {
		return true
	}
	n, err := strconv.Atoi(cell)
	return err == nil && n == want
}

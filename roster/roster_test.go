package roster

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

func cp949(t testing.TB, s string) []byte {
	t.Helper()
	b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const korean4 = "학번,이름,학년,반\r\n20315,김민준,2,3\r\n10101,이서연,1학년,1반\r\n"

func TestParseUTF8English(t *testing.T) {
	res, err := Parse(strings.NewReader("student_no,name,grade,class\n20315,Kim Minjun,2,3\n30712,Lee,3,7\n"), Auto)
	if err != nil || !res.OK() {
		t.Fatalf("err %v, errors %+v", err, res.Errors)
	}
	if res.Encoding != UTF8 || len(res.Students) != 2 {
		t.Fatalf("got %+v", res)
	}
	s := res.Students[0]
	if s.No != "20315" || s.Name != "Kim Minjun" || s.Grade != 2 || s.Class != 3 || s.Number != 15 || s.Line != 2 {
		t.Fatalf("first student %+v", s)
	}
}

func TestParseKoreanHeaders(t *testing.T) {
	for name, file := range map[string][]byte{
		"utf-8":      []byte(korean4),
		"utf-8 bom":  append([]byte("\xef\xbb\xbf"), korean4...),
		"cp949":      cp949(t, korean4),
		"cp949 only": cp949(t, "학번,이름\r\n20315,똠방각하\r\n"), // 똠 is outside EUC-KR, inside CP949
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Parse(bytes.NewReader(file), Auto)
			if err != nil || !res.OK() {
				t.Fatalf("err %v, errors %+v", err, res.Errors)
			}
			want := UTF8
			if strings.HasPrefix(name, "cp949") {
				want = CP949
			}
			if res.Encoding != want {
				t.Fatalf("encoding %q, want %q", res.Encoding, want)
			}
			if name == "cp949 only" {
				if res.Students[0].Name != "똠방각하" {
					t.Fatalf("name %q", res.Students[0].Name)
				}
				return
			}
			if len(res.Students) != 2 || res.Students[0].Name != "김민준" || res.Students[1].No != "10101" {
				t.Fatalf("students %+v", res.Students)
			}
		})
	}
}

func TestParseChosenEncoding(t *testing.T) {
	// A CP949 file read as UTF-8 is invalid text on every Korean line.
	res, err := Parse(bytes.NewReader(cp949(t, "student_no,name\n20315,김민준\n")), UTF8)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Reason != BadEncoding || res.Errors[0].Line != 2 {
		t.Fatalf("errors %+v", res.Errors)
	}
	if ParseEncoding("EUC-KR") != CP949 || ParseEncoding("utf8") != UTF8 || ParseEncoding("x") != Auto {
		t.Fatal("ParseEncoding")
	}
}

func TestParseLineErrors(t *testing.T) {
	file := strings.Join([]string{
		"student_no,name,grade,class",
		"20315,김민준,2,3",
		"2031,짧은번호,2,3",                              // 3 bad number
		"20315,두번째,2,3",                              // 4 duplicate of line 2
		"20316,,2,3",                                 // 5 missing name
		"20317,이름,1,3",                               // 6 grade mismatch
		"20318,이름,2,4",                               // 7 class mismatch
		"20319," + strings.Repeat("가", 101) + ",2,3", // 8 too long
		"20320",                        // 9 wrong columns
		"2a320,이름,2,3",                 // 10 bad number
		"00101,이름,,",                   // 11 grade 0
		"20320,=cmd|' /C calc'!A0,2,3", // 12 formula: kept as text
		"20321,\"tab\tname\",2,3",      // 13 control character
	}, "\n") + "\n"
	res, err := Parse(strings.NewReader(file), Auto)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]Reason{3: BadNumber, 4: Duplicate, 5: MissingName, 6: GradeMismatch, 7: ClassMismatch,
		8: NameTooLong, 9: WrongColumns, 10: BadNumber, 11: BadNumber, 13: BadName}
	got := map[int]Reason{}
	for _, e := range res.Errors {
		got[e.Line] = e.Reason
		if e.Reason == Duplicate && e.FirstLine != 2 {
			t.Errorf("duplicate first line %d", e.FirstLine)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %+v", res.Errors)
	}
	for line, r := range want {
		if got[line] != r {
			t.Errorf("line %d: %q, want %q", line, got[line], r)
		}
	}
	if len(res.Students) != 2 || res.Students[1].Name != "=cmd|' /C calc'!A0" {
		t.Fatalf("students %+v", res.Students)
	}
}

func TestParseRefusedFiles(t *testing.T) {
	big := "student_no,name\n" + strings.Repeat("20315,김민준\n", MaxBytes/10)
	for name, c := range map[string]struct {
		file string
		err  error
	}{
		"too large":     {big, ErrTooLarge},
		"wrong columns": {"id,fullname\n20315,김민준\n", ErrHeader},
		"empty":         {"", ErrHeader},
		"header only":   {"학번,이름\n", ErrEmpty},
	} {
		if _, err := Parse(strings.NewReader(c.file), Auto); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
}

func TestParseStrayQuote(t *testing.T) {
	res, err := Parse(strings.NewReader("student_no,name\n20315,\"open\n20316,ok\n"), Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("a stray quote went unreported: %+v", res)
	}
}

// FuzzParse checks that no input panics, that every good student obeys
// the rules, and that numbers are unique.
func FuzzParse(f *testing.F) {
	f.Add([]byte(korean4), "")
	f.Add(cp949(f, korean4), "cp949")
	f.Add([]byte("student_no,name,grade,class\n20315,\"a,\"\"b\",2,3\n"), "utf-8")
	f.Add([]byte("학번,이름\n\xff\xfe,x\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, enc string) {
		res, err := Parse(bytes.NewReader(data), ParseEncoding(enc))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range res.Students {
			if !validNumber(s.No) || seen[s.No] {
				t.Fatalf("bad or repeated number %q", s.No)
			}
			seen[s.No] = true
			if s.Name == "" || len([]rune(s.Name)) > MaxName || strings.ContainsRune(s.Name, '\ufffd') {
				t.Fatalf("bad name %q", s.Name)
			}
		}
		for _, e := range res.Errors {
			if e.Line < 1 || e.Reason == "" {
				t.Fatalf("bad line error %+v", e)
			}
		}
	})
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := NewCode()
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
		for _, r := range CodeSecret(c) {
			if !strings.ContainsRune(CodeAlphabet, r) {
				t.Fatalf("code %q has %q", c, r)
			}
		}
	}
}

// BenchmarkParse10k reads a 10,000-line CP949 roster with Korean headers.
func BenchmarkParse10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("학번,이름,학년,반\r\n")
	for g := 1; g <= 5; g++ {
		for c := 1; c <= 40; c++ {
			for n := 1; n <= 50; n++ {
				fmt.Fprintf(&sb, "%d%02d%02d,김민준%d,%d,%d\r\n", g, c, n, n, g, c)
			}
		}
	}
	file := cp949(b, sb.String())
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		res, err := Parse(bytes.NewReader(file), Auto)
		if err != nil || len(res.Students) != 10000 {
			b.Fatal(err, len(res.Students))
		}
	}
}

package i18n

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Both catalogues hold exactly the same message ids.
func TestCataloguesMatch(t *testing.T) {
	ko, err := Keys("ko")
	if err != nil {
		t.Fatal(err)
	}
	en, err := Keys("en")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ko)
	slices.Sort(en)
	for _, k := range ko {
		if !slices.Contains(en, k) {
			t.Errorf("%q is in ko.json but not in en.json", k)
		}
	}
	for _, k := range en {
		if !slices.Contains(ko, k) {
			t.Errorf("%q is in en.json but not in ko.json", k)
		}
	}
}

// Every message id the code asks for exists. The scan finds literal ids
// passed to t(ctx, "…"), tr(c, "…"), fail(…, "…") and .T("…").
func TestEveryUsedIDExists(t *testing.T) {
	ko, _ := Keys("ko")
	known := map[string]bool{}
	for _, k := range ko {
		known[k] = true
	}
	use := regexp.MustCompile(`(?:\bt\(ctx, |\btr\(c, |\bfail\([^,]+, |\.T\()"([a-z_]+\.[a-z0-9_.]+)"`)
	root := ".."
	used := 0
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) || strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			used++
			if !known[m[1]] {
				t.Errorf("%s uses message %q, which the catalogue lacks", path, m[1])
			}
		}
		return nil
	})
	if used < 10 {
		t.Fatalf("found only %d message uses; the scan is broken", used)
	}
}

func TestLocalizer(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Localizer("en").T("home.seats_left", "capacity", 600); got != "seats left of 600" {
		t.Errorf("en: %q", got)
	}
	if got := b.Localizer("xx").Lang(); got != "ko" {
		t.Errorf("unsupported language falls back to %q, want ko", got)
	}
	if got := b.Localizer("ko").T("no.such.id"); got != "⟦no.such.id⟧" {
		t.Errorf("missing id renders %q", got)
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ cookie, accept, want string }{
		{"", "", "ko"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "fr-FR,en;q=0.5", "en"},
		{"", "fr-FR", "ko"},
		{"ko", "en-US", "ko"},
		{"en", "ko-KR", "en"},
		{"zz", "en", "en"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: "lang", Value: c.cookie})
		}
		r.Header.Set("Accept-Language", c.accept)
		if got := Negotiate(r); got != c.want {
			t.Errorf("cookie %q accept %q: got %q, want %q", c.cookie, c.accept, got, c.want)
		}
	}
}

// A message without arguments is translated once per language and kept;
// the kept one is the same text, every language keeps its own, and an id
// the catalogue lacks is not kept (ids made from data cannot grow it).
func TestPlainMessagesAreKeptPerLanguage(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ko, en := b.Localizer("ko"), b.Localizer("en")
	if b.Localizer("ko") != ko || b.Localizer("xx") != ko {
		t.Error("a language's Localizer is not shared")
	}
	const id = "booking.sold_out"
	first, again := ko.T(id), ko.T(id)
	if first == "" || strings.HasPrefix(first, "⟦") || first != again {
		t.Errorf("ko %q then %q", first, again)
	}
	if en.T(id) == first {
		t.Errorf("English shares Korean's kept text %q", first)
	}
	if got := ko.T("no.such.message"); got != "⟦no.such.message⟧" {
		t.Errorf("missing message: %q", got)
	}
	n := 0
	ko.plain.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d messages kept, want 1 (the missing one is not)", n)
	}
}

// Every message with arguments reads the same through its kept shape as
// through go-i18n's template, the first time and after, in each language.
func TestShapesPrintAsTheTemplatesDo(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	files, _ := fs.Glob(localeFiles, "locales/*.json")
	for _, f := range files {
		data, _ := fs.ReadFile(localeFiles, f)
		for _, m := range regexp.MustCompile(`{{\.(\w+)}}`).FindAllStringSubmatch(string(data), -1) {
			names[m[1]] = true
		}
	}
	var args []any
	n := 0
	for name := range names {
		if name == "count" {
			continue
		}
		n++
		if n%2 == 0 {
			args = append(args, name, n*7) // numbers print as the template prints them
		} else {
			args = append(args, name, "<"+name+"> & 'x'") // and text is not escaped
		}
	}
	checked := 0
	for _, lang := range Languages {
		l := b.Localizer(lang)
		ids, err := Keys(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			want, _ := l.localize(id, args...)
			if got := l.T(id, args...); got != want {
				t.Errorf("%s %s: first %q, template %q", lang, id, got, want)
			}
			if got := l.T(id, args...); got != want {
				t.Errorf("%s %s: kept %q, template %q", lang, id, got, want)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d messages checked", checked)
	}
}

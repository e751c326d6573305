package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// placeholder finds a message's template variables ({{.seat}}).
var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// Every message renders in both languages, with every variable it uses
// filled; a message that counts ({{.count}}, or plural forms) renders for
// 1 and for 2, since a language whose count of 1 has a plural form of its
// own ("one" in English) fails without it and shows ⟦id⟧ on screen.
func TestEveryMessageRendersForOneAndTwo(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		files, err := fs.Glob(localeFiles, "locales/*."+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		l := b.Localizer(lang)
		checked := 0
		for _, f := range files {
			raw, _ := localeFiles.ReadFile(f)
			var msgs map[string]json.RawMessage
			if err := json.Unmarshal(raw, &msgs); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for id, m := range msgs {
				text := string(m)
				var args []any
				for _, v := range placeholder.FindAllStringSubmatch(text, -1) {
					if v[1] != "count" {
						args = append(args, v[1], "«"+v[1]+"»")
					}
				}
				counts := []any{nil}
				if strings.Contains(text, ".count") || strings.HasPrefix(text, "{") {
					counts = []any{1, 2}
				}
				for _, n := range counts {
					a := args
					if n != nil {
						a = append(append([]any{}, args...), "count", n)
					}
					got := l.T(id, a...)
					checked++
					if strings.Contains(got, "⟦") || strings.Contains(got, "<no value>") {
						t.Errorf("%s %s (count %v) renders %q", lang, id, n, got)
					}
					if n != nil && strings.Contains(text, ".count") && !strings.Contains(got, fmt.Sprint(n)) {
						t.Errorf("%s %s (count %v) renders %q, without the count", lang, id, n, got)
					}
				}
			}
		}
		if checked < 50 {
			t.Errorf("%s: only %d renders checked; the scan is broken", lang, checked)
		}
	}
}

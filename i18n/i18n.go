// Package i18n is festa's message catalogue: Korean first, English second.
// Every user-facing string goes through a Localizer, so a missing
// translation is a failing test, not a surprise on the night. Messages live
// in locales/{feature}.{lang}.json, one file per feature and language.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// Languages lists the supported languages, default first.
var Languages = []string{"ko", "en"}

// Bundle holds the parsed catalogues and a Localizer per language. Build
// it once and share it.
type Bundle struct {
	b    *goi18n.Bundle
	locs map[string]*Localizer
}

// New parses the embedded catalogues.
func New() (*Bundle, error) {
	b := goi18n.NewBundle(language.Korean)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	entries, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range entries {
		if _, err := b.LoadMessageFileFS(localeFiles, name); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
	}
	out := &Bundle{b: b, locs: make(map[string]*Localizer, len(Languages))}
	for _, lang := range Languages {
		out.locs[lang] = &Localizer{lang: lang, l: goi18n.NewLocalizer(b, lang)}
	}
	return out, nil
}

// Localizer translates for one language. It is safe for concurrent use.
type Localizer struct {
	lang string
	l    *goi18n.Localizer
	// plain keeps each message without arguments once translated: id →
	// string. go-i18n matches the language and runs a text/template for
	// every call, and a booking answer draws dozens of strings (an eighth
	// of a tap's CPU in BenchmarkHoldRelease before).
	plain sync.Map
	// shapes keeps each message with arguments (but no count) cut around
	// them: id → shape. A seat map prints a seat's name 600 times.
	shapes sync.Map
}

// Localizer returns the Localizer for lang ("ko" or "en"; anything else
// gets Korean), shared by every request in that language.
func (b *Bundle) Localizer(lang string) *Localizer {
	if !Supported(lang) {
		lang = Languages[0]
	}
	return b.locs[lang]
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Lang is the language code, for <html lang>.
func (l *Localizer) Lang() string { return l.lang }

// T translates id. args are key/value pairs for the message template
// ("seat", "C12"); a "count" argument also selects the plural form. A
// missing message renders as ⟦id⟧ so it is visible on screen and in tests.
func (l *Localizer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
		s, ok := l.localize(id)
		if ok {
			// Only catalogue messages: an id made from data that names
			// none must not grow the map.
			l.plain.Store(id, s)
		}
		return s
	}
	if _, ok := arg(args, "count"); ok {
		// The count picks the plural form: go-i18n's rules decide.
		s, _ := l.localize(id, args...)
		return s
	}
	sh, ok := l.shapes.Load(id)
	if !ok {
		var found bool
		if sh, found = l.shape(id, args); !found {
			s, _ := l.localize(id, args...)
			return s
		}
		l.shapes.Store(id, sh)
	}
	return sh.(shape).fill(args)
}

// shape is a message whose arguments are only printed ({{.key}}, as every
// message of the catalogue has them): its text cut around them, for
// filling in without running a template. text[i] comes before keys[i];
// the last text ends it.
type shape struct {
	text []string
	keys []string
}

// marker brackets a key in the text a shape is cut from.
const marker = "\x00"

// shape translates id once with each argument replaced by its marked key,
// and cuts the result there; false for an id the catalogue lacks.
func (l *Localizer) shape(id string, args []any) (shape, bool) {
	marked := make([]any, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		key := argKey(args[i])
		marked = append(marked, key, marker+key+marker)
	}
	s, ok := l.localize(id, marked...)
	if !ok || strings.Contains(s, "<no value>") {
		// Missing from the catalogue, or printing a key this call lacks:
		// go-i18n answers those itself.
		return shape{}, false
	}
	parts := strings.Split(s, marker)
	// literal, key, literal, key, …, literal
	var sh shape
	for i, p := range parts {
		if i%2 == 0 {
			sh.text = append(sh.text, p)
		} else {
			sh.keys = append(sh.keys, p)
		}
	}
	return sh, true
}

// fill prints args into the shape as text/template prints them.
func (sh shape) fill(args []any) string {
	var b strings.Builder
	for i, key := range sh.keys {
		b.WriteString(sh.text[i])
		v, ok := arg(args, key)
		if !ok {
			v = "<no value>" // what the template printed for a missing key
		}
		fmt.Fprint(&b, v)
	}
	b.WriteString(sh.text[len(sh.text)-1])
	return b.String()
}

// arg is the value of key among the key/value pairs args; the last pair
// wins, as it did in the template's data.
func arg(args []any, key string) (v any, ok bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if argKey(args[i]) == key {
			v, ok = args[i+1], true
		}
	}
	return v, ok
}

// argKey is a key of T's arguments as a name ("seat"; anything else is
// printed).
func argKey(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return fmt.Sprint(k)
}

// localize translates through go-i18n; false for an id the catalogue
// lacks.
func (l *Localizer) localize(id string, args ...any) (string, bool) {
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			key := argKey(args[i])
			data[key] = args[i+1]
			if key == "count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.l.Localize(cfg)
	if err != nil {
		return "⟦" + id + "⟧", false
	}
	return s, true
}

// Negotiate picks the language for a request: an explicit choice (the
// "lang" cookie) wins, then the browser's Accept-Language, then Korean.
func Negotiate(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil && Supported(c.Value) {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err == nil {
		for _, t := range tags {
			base, _ := t.Base()
			if Supported(strings.ToLower(base.String())) {
				return base.String()
			}
		}
	}
	return Languages[0]
}

type ctxKey struct{}

// WithLocalizer stores l in ctx for templates.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// Lookup returns the Localizer in ctx, if any.
func Lookup(ctx context.Context) (*Localizer, bool) {
	l, ok := ctx.Value(ctxKey{}).(*Localizer)
	return l, ok
}

// FromContext returns the request's Localizer. It panics when none was set:
// rendering without a language is a wiring bug.
func FromContext(ctx context.Context) *Localizer {
	l, ok := ctx.Value(ctxKey{}).(*Localizer)
	if !ok {
		panic("i18n: no Localizer in context")
	}
	return l
}

// Keys returns every message id of lang's catalogue, for tests. A
// language's catalogue is every file locales/{feature}.{lang}.json; an id
// defined in two files is an error.
func Keys(lang string) ([]string, error) {
	files, err := fs.Glob(localeFiles, "locales/*."+lang+".json")
	if err != nil {
		return nil, err
	}
	var keys []string
	seen := map[string]string{}
	for _, f := range files {
		b, err := localeFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for k := range m {
			if other, dup := seen[k]; dup {
				return nil, fmt.Errorf("message %q is in both %s and %s", k, other, f)
			}
			seen[k] = f
			keys = append(keys, k)
		}
	}
	return keys, nil
}

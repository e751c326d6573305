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

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// Languages lists the supported languages, default first.
var Languages = []string{"ko", "en"}

// Bundle holds the parsed catalogues. Build it once and share it.
type Bundle struct {
	b *goi18n.Bundle
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
	return &Bundle{b: b}, nil
}

// Localizer translates for one language.
type Localizer struct {
	lang string
	l    *goi18n.Localizer
}

// Localizer returns a Localizer for lang ("ko" or "en"; anything else gets
// Korean).
func (b *Bundle) Localizer(lang string) *Localizer {
	if !Supported(lang) {
		lang = Languages[0]
	}
	return &Localizer{lang: lang, l: goi18n.NewLocalizer(b.b, lang)}
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
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			key := fmt.Sprint(args[i])
			data[key] = args[i+1]
			if key == "count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.l.Localize(cfg)
	if err != nil {
		return "⟦" + id + "⟧"
	}
	return s
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

// Package components holds festa's templ views. Each live region is one
// component, rendered the same way on the page and over the WebSocket (with
// an oob flag), so a live update can never drift from a fresh page load.
package components

import (
	"context"
	"strconv"
	"time"

	"festa/i18n"
)

// Assets resolves a static file to its content-hashed URL.
type Assets interface {
	URL(name string) string
}

// Page is what every full page needs from the request: language, CSRF
// token, who is signed in, and where the static files live.
type Page struct {
	Title     string
	Lang      string
	CSRF      string
	Path      string // the current path, for the language switch's return
	Assets    Assets
	Student   *Viewer
	Staff     *Viewer
	ServerNow time.Time
}

// Viewer is the signed-in person, as the header shows them.
type Viewer struct {
	Name string
	ID   string // student number or staff username
}

// t translates id with the request's Localizer.
func t(ctx context.Context, id string, args ...any) string {
	return i18n.FromContext(ctx).T(id, args...)
}

func itoa(n int) string { return strconv.Itoa(n) }

func otherLang(lang string) string {
	if lang == "en" {
		return "ko"
	}
	return "en"
}

// kst is Korea time; the festival's clocks are shown in it whatever the
// viewer's phone says.
var kst = time.FixedZone("KST", 9*60*60)

// when formats an instant in Korea time for lang.
func when(lang string, at time.Time) string {
	at = at.In(kst)
	if lang == "en" {
		return at.Format("Mon 2 Jan, 15:04") + " KST"
	}
	wd := []string{"일", "월", "화", "수", "목", "금", "토"}[at.Weekday()]
	return at.Format("1월 2일 (") + wd + at.Format(") 15:04")
}

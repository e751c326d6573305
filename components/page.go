// Package components holds festa's templ views. Each live region is one
// component, rendered the same way on the page and over the WebSocket (with
// an oob flag), so a live update can never drift from a fresh page load.
package components

import (
	"context"
	"strconv"
	"sync/atomic"
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
	// QuestionsLive is set while the signed-in student waits for an
	// answer to a question: the page opens the questions socket, so the
	// answer's arrival shows wherever they are (QuestionNoticeLive).
	QuestionsLive bool
	// QuestionsWaiting counts the questions nobody has answered yet, for
	// the console's navigation; only council pages read it.
	QuestionsWaiting int
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

// festivalZone is the festival's time zone (events.time_zone): its clocks
// are shown in it whatever the viewer's phone says. festa serves one
// festival per deployment, so the server sets it when it starts and again
// when the council changes it (handlers/admin_setup.go); until then it is
// Korea time.
var festivalZone atomic.Pointer[time.Location]

var kst = time.FixedZone("KST", 9*60*60)

// SetZone makes loc the zone festa shows and reads times in.
func SetZone(loc *time.Location) { festivalZone.Store(loc) }

// Zone is the festival's time zone.
func Zone() *time.Location {
	if z := festivalZone.Load(); z != nil {
		return z
	}
	return kst
}

// when formats an instant in the festival's zone for lang.
func when(lang string, at time.Time) string {
	at = at.In(Zone())
	if lang == "en" {
		return at.Format("Mon 2 Jan, 15:04 MST")
	}
	wd := []string{"일", "월", "화", "수", "목", "금", "토"}[at.Weekday()]
	return at.Format("1월 2일 (") + wd + at.Format(") 15:04")
}

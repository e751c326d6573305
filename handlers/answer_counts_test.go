package handlers_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"festa/apptest"
)

// occupancyOf reads the counts a booking answer draws.
var occupancyOf = regexp.MustCompile(`id="occupancy"[^>]*data-sold="(\d+)"[^>]*data-held="(\d+)"[^>]*data-available="(\d+)"`)

// watchOpening opens a live seat map of "opening" on app for the rest of
// the test and waits for its whole hall, so the instance's live map holds
// the hall from then on (and, with LiveCatchUp long, learns of changes
// only from NOTIFY).
func watchOpening(t *testing.T, app *apptest.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+"/ws/p/opening", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	if _, _, err := conn.Read(ctx); err != nil { // the whole hall
		t.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				return
			}
		}
	}()
}

// A booking answer counts the hall this instance already holds (the live
// map's, or a shared recent reading) with the seats it read itself laid
// over it, so it counts the student's own taps, whichever way the hall was
// known: watched live here (the live map catches up with a tap a window
// after it, usually after the answer is drawn) or not watched at all (the
// reading is up to 200 ms old). Other students' taps inside that window
// reach the counts with the socket's next batch.
func TestAnswerCountsTheOwnTapOverTheHallInMemory(t *testing.T) {
	for _, watched := range []bool{false, true} {
		name := "unwatched"
		if watched {
			name = "watched"
		}
		t.Run(name, func(t *testing.T) {
			app := apptest.Start(t, apptest.Options{Students: 3, LiveCatchUp: time.Hour})
			if watched {
				watchOpening(t, app)
			}
			counts := func(body string) string {
				m := occupancyOf.FindStringSubmatch(body)
				if m == nil {
					t.Fatalf("no occupancy in the answer:\n%.300s", body)
				}
				return m[1] + " sold, " + m[2] + " held, " + m[3] + " available"
			}
			a := app.NewClient(t)
			a.SignIn(app.Demo.Students[0].No)
			if status, body := a.Post("/p/opening/hold", seat("D7"), true); status != 200 || counts(body) != "0 sold, 1 held, 587 available" {
				t.Fatalf("hold: %d, %s", status, counts(body))
			}
			// Moving the hold frees the first seat in the same answer.
			if status, body := a.Post("/p/opening/hold", seat("E1"), true); status != 200 || counts(body) != "0 sold, 1 held, 587 available" {
				t.Fatalf("moved hold: %d, %s", status, counts(body))
			}
			// A refusal counts the same way: P13 is the sound desk.
			if status, body := a.Post("/p/opening/hold", seat("P13"), true); status != 409 || counts(body) != "0 sold, 1 held, 587 available" {
				t.Fatalf("refused hold: %d, %s", status, counts(body))
			}
			if status, body := a.Post("/p/opening/release", seat("E1"), true); status != 200 || counts(body) != "0 sold, 0 held, 588 available" {
				t.Fatalf("release: %d, %s", status, counts(body))
			}
			if status, body := a.Post("/p/opening/hold", seat("E2"), true); status != 200 || counts(body) != "0 sold, 1 held, 587 available" {
				t.Fatalf("hold again: %d, %s", status, counts(body))
			}
		})
	}
}

// "Best available" on a hall this instance knows only from a moment ago,
// in which the best seats have since been taken out of sale (here behind
// its back, in SQL, with no NOTIFY and no catch-up): the student, who never
// named those seats, gets another one, not "that seat cannot be booked".
func TestBestAvailableSkipsSeatsBlockedSinceTheHallWasRead(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3, LiveCatchUp: time.Hour})
	watchOpening(t, app)
	// The two best seats (TestBestAvailablePicksACentreSeat), which
	// "best available" tries first.
	app.Exec(t, `UPDATE performance_seats ps SET state = 'blocked' FROM seats s, performances p
		WHERE s.id = ps.seat_id AND p.id = ps.performance_id AND p.slug = 'opening' AND s.label IN ('A15', 'A16')`)

	a := app.NewClient(t)
	a.SignIn(app.Demo.Students[0].No)
	status, body := a.Post("/p/opening/best", nil, true)
	if status != 200 {
		t.Fatalf("best available past seats blocked since: %d %.300s", status, body)
	}
	var label string
	app.Store.Pool.QueryRow(t.Context(), `SELECT s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id WHERE ps.state = 'held'`).Scan(&label)
	if label == "" || label == "A15" || label == "A16" {
		t.Errorf("best available held %q, want a seat other than the blocked A15 and A16", label)
	}
}

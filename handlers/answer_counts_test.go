package handlers_test

import (
	"context"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"sync"
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

// At the opening a crowd presses "best available" in the same instant,
// all shown the same free seats. On one instance each must be sent to a
// different seat at once: none queued behind another's hold of the same
// seat, refused and sent round again (festa_best_available_conflicts_total
// stays 0; before seat claims, everyone went for A15 first and most were
// refused at least once), nobody told "busy", and the two best seats of
// the hall among theirs.
func TestBestAvailableCrowdOnOneInstanceGetsDifferentSeatsAtOnce(t *testing.T) {
	const n = 24
	app, statuses, bodies := crowdTaps(t, n, "/p/opening/best", nil)
	for i := range n {
		if statuses[i] != 200 {
			t.Errorf("a student of the crowd was answered %d %.300s", statuses[i], bodies[i])
		}
	}
	var held, students int
	var best bool
	app.Store.Pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT ps.student_id), count(*) FILTER (WHERE s.label IN ('A15', 'A16')) = 2
		FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id WHERE ps.state = 'held'`).Scan(&held, &students, &best)
	if held != n || students != n || !best {
		t.Errorf("%d seats held by %d students, A15 and A16 among them: %v; want %d by %d, with the two best", held, students, best, n, n)
	}
	if got := apptest.Metric(t, app.Registry, "festa_best_available_conflicts_total"); got != 0 {
		t.Errorf("%v tries of best available found their seat taken by the crowd on the same instance, want 0", got)
	}
}

// crowdTaps starts an app with n students, signs them all in and has them
// post path with form in the same instant; it returns the app and each
// student's answer.
func crowdTaps(t *testing.T, n int, path string, form url.Values) (app *apptest.App, statuses []int, bodies []string) {
	t.Helper()
	app = apptest.Start(t, apptest.Options{Students: n})
	var clients []*apptest.Client
	for _, s := range app.Demo.Students {
		c := app.NewClient(t)
		c.SignIn(s.No)
		clients = append(clients, c)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	statuses, bodies = make([]int, n), make([]string, n)
	for i, c := range clients {
		form := maps.Clone(form) // Post adds the student's own CSRF token
		wg.Go(func() {
			<-start
			statuses[i], bodies[i] = c.Post(path, form, true)
		})
	}
	close(start)
	wg.Wait()
	return app, statuses, bodies
}

// A crowd taps the same seat in the same instant on one instance. One
// holds it; every other is told plainly that someone was faster, and
// changes nothing (the seat's claim, counted per tap in flight, is then
// settled by every one of them; see TestSeatClaimsSpreadBestAvailable).
func TestCrowdTappingOneSeatGetsOneHoldAndPlainRefusals(t *testing.T) {
	const n = 24
	app, statuses, bodies := crowdTaps(t, n, "/p/opening/hold", url.Values{"seat": {"C7"}})
	won := 0
	for i := range n {
		switch {
		case statuses[i] == 200:
			won++
		case statuses[i] != 409 || !strings.Contains(bodies[i], "방금 다른 사람이 C7 좌석을 잡았어요"):
			t.Errorf("a tap that lost C7 was answered %d %.300s", statuses[i], bodies[i])
		}
	}
	if won != 1 {
		t.Errorf("%d taps held C7, want exactly one", won)
	}
	var held int
	app.Store.Pool.QueryRow(t.Context(), `SELECT count(*) FROM performance_seats WHERE state = 'held'`).Scan(&held)
	if held != 1 {
		t.Errorf("%d seats held after the crowd tapped C7, want 1", held)
	}
}

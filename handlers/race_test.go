package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"festa/apptest"
	"festa/db"
)

// 500 students race for 50 seats through the real handlers. The database
// must end with exactly 50 tickets, no seat twice, nobody over the limit,
// and every success a student saw matched by a ticket (and vice versa).
func TestRaceForFiftySeats(t *testing.T) {
	const students, rows, perRow = 500, 5, 10
	app := apptest.Start(t, apptest.Options{Students: students})
	ctx := context.Background()
	var seats []db.Seat
	for r := range rows {
		for n := 1; n <= perRow; n++ {
			row := string(rune('A' + r))
			seats = append(seats, db.Seat{Label: fmt.Sprintf("%s%d", row, n), RowLabel: row, Number: n, X: n - 1, Y: r, Kind: "standard"})
		}
	}
	hall, err := app.Store.EnsureHall(ctx, "race-hall", "Race hall", seats)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := app.Store.FirstEvent(ctx)
	now := time.Now()
	if _, _, err := app.Store.EnsurePerformance(ctx, db.NewPerformance{EventID: ev.ID, HallID: hall, Slug: "race", Title: "Race",
		StartsAt: now.Add(24 * time.Hour), SalesOpenAt: now.Add(-time.Minute), SalesCloseAt: now.Add(time.Hour), TicketLimit: 1, HoldSeconds: 180}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	won := map[string]string{} // ticket id -> student number
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range app.Demo.Students {
		c := app.NewClient(t)
		c.SignIn(s.No)
		wg.Go(func() {
			<-start
			for range 40 {
				// Half the students click a seat of their own choosing,
				// half press "best available".
				path, form := "/p/race/best", map[string][]string{}
				if s.No[len(s.No)-1]%2 == 0 {
					path = "/p/race/hold"
					form["seat"] = []string{seats[(int(s.No[3]-'0')*10+int(s.No[4]-'0'))%len(seats)].Label}
				}
				status, body := c.Post(path, form, true)
				if status == http.StatusConflict && (strings.Contains(body, "남은 좌석이 없어요") || strings.Contains(body, "방금 다른 사람이")) && path == "/p/race/hold" {
					path = "/p/race/best" // their seat is gone; take the best one left
					status, body = c.Post(path, nil, true)
				}
				if status == http.StatusConflict && strings.Contains(body, "남은 좌석이 없어요") {
					return
				}
				if status != http.StatusOK {
					continue
				}
				resp, _ := c.Do(htmxPostNoT(app, c, "/p/race/confirm"))
				if m := ticketLink.FindStringSubmatch(resp.Header.Get("HX-Redirect")); m != nil {
					mu.Lock()
					won[m[1]] = s.No
					mu.Unlock()
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()

	if n := app.Count(t, `SELECT count(*) FROM tickets WHERE status = 'active'`); n != 50 {
		t.Errorf("%d active tickets, want 50", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM (SELECT seat_id FROM tickets WHERE status = 'active' GROUP BY performance_id, seat_id HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d seats sold twice", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM (SELECT student_id FROM tickets WHERE status = 'active' GROUP BY performance_id, student_id HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d students over the limit", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM performance_seats ps JOIN performances p ON p.id = ps.performance_id WHERE p.slug = 'race' AND ps.state <> 'sold'`); n != 0 {
		t.Errorf("%d race seats not sold", n)
	}
	rows2, _ := app.Store.Pool.Query(ctx, `SELECT t.id::text, s.student_no FROM tickets t JOIN students s ON s.id = t.student_id`)
	inDB := map[string]string{}
	for rows2.Next() {
		var id, no string
		rows2.Scan(&id, &no)
		inDB[id] = no
	}
	if len(inDB) != len(won) {
		t.Errorf("%d tickets in the database, %d confirmations seen by students", len(inDB), len(won))
	}
	for id, no := range won {
		if inDB[id] != no {
			t.Errorf("student %s was told ticket %s, the database says %q", no, id, inDB[id])
		}
	}
}

func htmxPostNoT(app *apptest.App, c *apptest.Client, path string) *http.Request {
	req, _ := http.NewRequest("POST", app.URL+path, strings.NewReader("_csrf="+c.Token()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return req
}

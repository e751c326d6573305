package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/handlers"
)

// sessionRow is the one session row of client c (by its cookie).
type sessionRow struct {
	token  string
	expiry time.Time
	xmin   string
}

func readSession(t *testing.T, app *apptest.App, c *apptest.Client) sessionRow {
	t.Helper()
	var token string
	for _, ck := range c.Cookies() {
		if ck.Name == "festa_session" {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("no festa_session cookie")
	}
	r := sessionRow{token: token}
	if err := app.Store.Pool.QueryRow(context.Background(),
		`SELECT expiry, xmin::text FROM sessions WHERE token = $1`, token).Scan(&r.expiry, &r.xmin); err != nil {
		t.Fatalf("session row: %v", err)
	}
	return r
}

// ageSession rewrites the session's stored deadline (and values, through
// edit) as scs would have written them earlier, so a test can stand days
// after the sign-in without waiting for them.
func ageSession(t *testing.T, app *apptest.App, row sessionRow, deadline time.Time, edit func(map[string]any)) {
	t.Helper()
	ctx := context.Background()
	var data []byte
	if err := app.Store.Pool.QueryRow(ctx, `SELECT data FROM sessions WHERE token = $1`, row.token).Scan(&data); err != nil {
		t.Fatal(err)
	}
	_, values, err := handlers.SessionCodec{}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(values)
	}
	data, err = handlers.SessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	app.Exec(t, `UPDATE sessions SET data = $2, expiry = $3 WHERE token = $1`, row.token, data, deadline)
}

// A student signed in days before the opening is still signed in when
// sales open, and using festa pushes the session forward; but an ordinary
// request writes nothing to the sessions table (no write per tap).
func TestStudentSessionLastsThroughTheSale(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	no := app.Demo.Students[0].No
	c := app.NewClient(t)
	c.SignIn(no)

	first := readSession(t, app, c)
	if left := time.Until(first.expiry); left < 13*24*time.Hour {
		t.Fatalf("a fresh student session ends in %v; it must last the days between homeroom and the sale", left)
	}
	if status, _ := c.Get("/tickets"); status != http.StatusOK {
		t.Fatalf("GET /tickets: %d", status)
	}
	if again := readSession(t, app, c); again.xmin != first.xmin {
		t.Errorf("a page view rewrote the session row (xmin %s → %s): a database write per request", first.xmin, again.xmin)
	}

	// Five days later (nine days left of the deadline) the student opens
	// the seat map: still signed in, and the session is pushed forward.
	ageSession(t, app, first, time.Now().Add(9*24*time.Hour), nil)
	if status, body := c.Get("/tickets"); status != http.StatusOK || strings.Contains(body, `action="/login"`) {
		t.Fatalf("a session signed in five days ago no longer works: %d", status)
	}
	if renewed := readSession(t, app, c); time.Until(renewed.expiry) < 13*24*time.Hour {
		t.Errorf("a used session was not renewed: ends in %v", time.Until(renewed.expiry))
	}

	// A session whose deadline has passed is over.
	ageSession(t, app, readSession(t, app, c), time.Now().Add(-time.Minute), nil)
	if status, _ := c.Get("/tickets"); status != http.StatusSeeOther {
		t.Fatalf("an expired session still reached /tickets: %d", status)
	}
}

// A staff sign-in lasts a working day even though the session would live
// longer: a gate phone left signed in overnight must sign in again.
func TestStaffSignInEndsAfterTheDay(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	c := gateStaff(t, app, "council")
	if status, _ := c.Get("/admin"); status != http.StatusOK {
		t.Fatalf("council console: %d", status)
	}
	row := readSession(t, app, c)
	ageSession(t, app, row, row.expiry, func(v map[string]any) {
		v["staff_since"] = time.Now().Add(-13 * time.Hour).Unix()
	})
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/admin", nil)
	resp, _ := c.Do(req)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login") {
		t.Fatalf("a 13-hour-old staff sign-in still opens the console: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

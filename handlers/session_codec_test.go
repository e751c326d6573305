package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"festa/apptest"
)

// Sessions are written in festa's tagged JSON, and a session written
// before it, in scs's gob, still signs its student in: nobody is signed
// out when an instance with the new codec starts.
func TestSessionsAreJSONAndOldGobSessionsStillWork(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	ctx := context.Background()
	c := app.NewClient(t)
	c.SignIn(app.Demo.Students[0].No)
	var data []byte
	if err := app.Store.Pool.QueryRow(ctx, `SELECT data FROM sessions ORDER BY expiry DESC LIMIT 1`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`{"festa":1,`)) || !bytes.Contains(data, []byte(`"student_id":["i","`)) {
		t.Errorf("a new session is stored as %.80q", data)
	}
	if status, body := c.Get("/tickets"); status != http.StatusOK || !strings.Contains(body, `action="/logout"`) {
		t.Errorf("signed in with the JSON session: %d", status)
	}

	// A gob session, as an instance before this codec wrote it.
	st := app.Demo.Students[1]
	var id int64
	if err := app.Store.Pool.QueryRow(ctx, `SELECT id FROM students WHERE student_no = $1`, st.No).Scan(&id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour)
	old, err := scs.GobCodec{}.Encode(deadline, map[string]any{
		"student_id": id, "student_no": st.No, "name": st.Name, "questions_live": false,
	})
	if err != nil {
		t.Fatal(err)
	}
	const token = "an-old-gob-session-token-0123456789abcdef"
	if _, err := app.Store.Pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)`, token, old, deadline); err != nil {
		t.Fatal(err)
	}
	g := app.NewClient(t)
	u, _ := url.Parse(app.URL)
	g.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "festa_session", Value: token, Path: "/"}})
	if status, body := g.Get("/p/opening"); status != http.StatusOK || !strings.Contains(body, `action="/logout"`) {
		t.Fatalf("signed in with the old gob session: %d", status)
	}
	if status, body := g.Post("/p/opening/hold", seat("D7"), true); status != http.StatusOK {
		t.Fatalf("hold with the old gob session: %d %.200s", status, body)
	}
	var holder int64
	if err := app.Store.Pool.QueryRow(ctx, `SELECT ps.student_id FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		JOIN performances p ON p.id = ps.performance_id WHERE p.slug = 'opening' AND s.label = 'D7'`).Scan(&holder); err != nil || holder != id {
		t.Errorf("D7 held by %d (%v), want the gob session's student %d", holder, err, id)
	}
}

package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"festa/db"
	"festa/db/dbtest"
)

// Page views counted in the seconds before serve stops are written when
// it stops, not lost with the in-memory counter (they would otherwise
// wait for the next flush, which never comes).
func TestServeWritesPageViewsWhenItStops(t *testing.T) {
	url := dbtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"festa", "serve"}, getenv(map[string]string{"DATABASE_URL": url, "FESTA_ADDR": "127.0.0.1:0"}), &out, &errb)
	}()
	var addr string
	for i := 0; i < 100 && addr == ""; i++ {
		time.Sleep(50 * time.Millisecond)
		for _, l := range strings.Split(errb.String(), "\n") {
			if i := strings.Index(l, "addr="); i >= 0 && strings.Contains(l, "serving") {
				addr = strings.Fields(l[i+5:])[0]
			}
		}
	}
	if addr == "" {
		t.Fatalf("server did not start: %s", errb.String())
	}
	for range 3 {
		resp, err := http.Get("http://" + addr + "/login")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /login: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	store, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var views int
	if err := store.Pool.QueryRow(context.Background(), `SELECT coalesce(sum(views), 0) FROM page_views WHERE kind = 'login'`).Scan(&views); err != nil {
		t.Fatal(err)
	}
	if views != 3 {
		t.Errorf("%d sign-in page views written, want 3", views)
	}
}

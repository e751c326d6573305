package main

import (
	"context"
	"net/http"
	"testing"

	"festa/db"
	"festa/db/dbtest"
)

// Page views counted in the seconds before serve stops are written when
// it stops, not lost with the in-memory counter (they would otherwise
// wait for the next flush, which never comes).
func TestServeWritesPageViewsWhenItStops(t *testing.T) {
	url := dbtest.URL(t)
	addr, stop := startServe(t, url)
	for range 3 {
		resp, err := http.Get("http://" + addr + "/login")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /login: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	stop()
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

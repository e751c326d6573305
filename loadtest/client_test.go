package loadtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// queueWaiter stands in for a waiting room's client: it polls the queue
// page it was sent to until the page lets it through.
type queueWaiter struct{ waits atomic.Int32 }

func (w *queueWaiter) Wait(ctx context.Context, c *Client, to string) error {
	w.waits.Add(1)
	for range 10 {
		if a := c.Get(ctx, to); a.Status == http.StatusOK {
			return nil
		}
	}
	return errors.New("still queued")
}

// TestDetourGoesThroughTheWaiter checks the slot a waiting room plugs
// into: a hold answered with HX-Redirect to a queue page is handed to the
// Waiter and sent again once it returns; without a Waiter it is an error
// of its own kind.
func TestDetourGoesThroughTheWaiter(t *testing.T) {
	var holds, polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/p/show/hold":
			if holds.Add(1) == 1 {
				w.Header().Set("HX-Redirect", "/queue/show?ticket=7")
				return
			}
			w.Write([]byte(`<button id="seat-A1" data-seat="A1" data-state="mine">1</button>`))
		case "/queue/show":
			if polls.Add(1) < 3 {
				w.WriteHeader(http.StatusAccepted) // still waiting
				return
			}
		}
	}))
	defer srv.Close()
	words := &refusals{}
	ctx := context.Background()

	w := &queueWaiter{}
	c := newClient(srv.URL, nil, w, words)
	a, detour := c.Hold(ctx, "show", "A1")
	if detour != "" || a.Status != http.StatusOK || heldSeat(a.Body) != "A1" {
		t.Fatalf("with a waiter: status %d, detour %q, held %q", a.Status, detour, heldSeat(a.Body))
	}
	if w.waits.Load() != 1 || holds.Load() != 2 || polls.Load() != 3 {
		t.Errorf("waits %d, holds %d, polls %d; want 1, 2, 3", w.waits.Load(), holds.Load(), polls.Load())
	}

	holds.Store(0)
	a, detour = newClient(srv.URL, nil, nil, words).Hold(ctx, "show", "A1")
	if detour != "detour /queue" || kindOf(a, words, detour, "") != "detour /queue" {
		t.Errorf("without a waiter: detour %q, kind %q", detour, kindOf(a, words, detour, ""))
	}
}

package handlers

import (
	"testing"
	"time"
)

// claimedCount counts the performance's seats claimed at now.
func claimedCount(c *seatClaims, perf int64, now time.Time) int {
	n := 0
	for k, e := range c.m {
		if k.perf == perf && e.claimed(now) {
			n++
		}
	}
	return n
}

func TestSeatClaimsSpreadBestAvailable(t *testing.T) {
	var c seatClaims
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ranked := []string{"A15", "A16", "A14"}

	if got := c.pick(1, ranked, 1, now); got != "A15" {
		t.Fatalf("first pick %q, want the best seat A15", got)
	}
	if got := c.pick(1, ranked, 1, now); got != "A16" {
		t.Fatalf("second pick %q, want A16: A15 is claimed", got)
	}
	if got := c.pick(2, ranked, 1, now); got != "A15" {
		t.Fatalf("another performance's pick %q, want A15: claims are per performance", got)
	}
	c.claim(1, "A14", now) // a student tapped it
	if got := c.pick(1, ranked, 1, now); got != "A15" {
		t.Fatalf("pick when every seat is claimed %q, want the best regardless of claims", got)
	}
	c.settle(1, "A15", now, true) // the extra pick above
	if n := claimedCount(&c, 1, now); n != 3 {
		t.Fatalf("%d live claims, want 3", n)
	}
	c.settle(1, "A16", now, false) // refused: the student's limit
	if got := c.pick(1, ranked, 1, now); got != "A16" {
		t.Fatalf("pick after a refusal for the student's own reason %q, want A16 again", got)
	}

	later := now.Add(claimFor)
	if n := claimedCount(&c, 1, later); n != 3 {
		t.Fatalf("%d claims live after claimFor with their holds unanswered, want 3", n)
	}
	for _, l := range []string{"A15", "A16", "A14"} {
		c.settle(1, l, now, true) // held, or taken by someone else
	}
	if n := claimedCount(&c, 1, later.Add(-time.Millisecond)); n != 3 {
		t.Fatalf("%d claims live just before claimFor after their holds, want 3", n)
	}
	if n := claimedCount(&c, 1, later); n != 0 {
		t.Fatalf("%d claims live claimFor after their holds, want 0", n)
	}
	if got := c.pick(1, ranked, 1, later); got != "A15" {
		t.Fatalf("pick after the claims ran out %q, want A15", got)
	}
	if len(c.m) != 2 {
		t.Errorf("%d claims kept after the sweep, want the new one and performance 2's (in flight)", len(c.m))
	}
	c.settle(1, "A15", later, true)
	c.freed(1, "A15") // given back
	if got := c.pick(1, ranked, 1, later); got != "A15" {
		t.Fatalf("pick after the seat was given back %q, want A15 at once", got)
	}
}

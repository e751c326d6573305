package db

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The database's guards raise with a festa: HINT; each must reach the
// handlers as its sentinel, or the student sees a 500 instead of words.
func TestMapRaised(t *testing.T) {
	for hint, want := range map[string]error{
		"festa:limit":        ErrLimit,
		"festa:seat_taken":   ErrSeatTaken,
		"festa:hold_expired": ErrHoldExpired,
		"festa:checked_in":   ErrCheckedIn,
	} {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "P0001", Hint: hint})
		if got := mapRaised(err); !errors.Is(got, want) {
			t.Errorf("hint %s: got %v, want %v", hint, got, want)
		}
	}
	other := &pgconn.PgError{Code: "23505", Hint: "festa:limit"}
	if got := mapRaised(other); got != error(other) {
		t.Errorf("a unique violation became %v", got)
	}
}

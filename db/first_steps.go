package db

import (
	"context"
	"fmt"
)

// FirstSteps is how far a school has come in setting festa up, for the
// console's checklist on a fresh database: each field is one cheap look
// (existence checks and one pass over the students).
type FirstSteps struct {
	Event       bool // the festival is named
	Hall        bool // a hall is drawn
	Performance bool // a performance is scheduled
	Students    int  // enabled students on the roster
	WithoutCode int  // of them, those not yet given an access code
	SalesOpened bool // some performance's sales have opened
}

// FirstSteps reads the checklist's state.
func (s *Store) FirstSteps(ctx context.Context) (FirstSteps, error) {
	var f FirstSteps
	err := s.Pool.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM events),
			EXISTS (SELECT 1 FROM halls),
			EXISTS (SELECT 1 FROM performances),
			count(*) FILTER (WHERE enabled)::int,
			count(*) FILTER (WHERE enabled AND code_hash = '')::int,
			EXISTS (SELECT 1 FROM performances WHERE sales_open_at <= now())
		FROM students`).Scan(&f.Event, &f.Hall, &f.Performance, &f.Students, &f.WithoutCode, &f.SalesOpened)
	if err != nil {
		return f, fmt.Errorf("db: first steps: %w", err)
	}
	return f, nil
}

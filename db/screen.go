package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The projection screen (/screen/{performance}) and its display keys.
// Everything here is what a hall may see on a projector: counts, door
// names and seat labels. No query in this file reads a student's name or
// number.

// ScreenStats is what the projection screen shows besides the seats.
type ScreenStats struct {
	// Sales is the sales state by the database's clock: soon, open,
	// paused or closed (booking's Sales* names).
	Sales        string
	PauseMessage string
	CheckedIn    int
	Gates        []GateAdmissions // most admissions first, then by name
	Recent       []ScreenEvent    // newest first
}

// GateAdmissions is how many tickets of a performance one door let in.
type GateAdmissions struct {
	Gate  string
	Count int
}

// ScreenEvent is one line of the screen's ticker: a seat sold, given back
// or moved, or a ticket let in at a door. It names a seat, never a person.
type ScreenEvent struct {
	At   time.Time
	Kind string // sold, cancelled, moved, checked_in
	Seat string
	Gate string // the door, for checked_in
}

// screenTicker is how many events the ticker shows.
const screenTicker = 8

// ScreenStats reads the screen's counts and ticker for a performance in
// one statement (one snapshot). The ticker's sales come from the audit
// log (confirm and cancel, by students or the ticket desk, and the desk's
// guest tickets and moves, each move once, at the seat it moved to); its
// admissions from check_ins.
func (s *Store) ScreenStats(ctx context.Context, performanceID int64) (ScreenStats, error) {
	var st ScreenStats
	var gates []string
	var counts []int32
	var ats []time.Time
	var kinds, seats, doors []string
	err := s.Pool.QueryRow(ctx, `
		WITH p AS (
			SELECT CASE WHEN now() < sales_open_at THEN 'soon'
			            WHEN now() >= sales_close_at THEN 'closed'
			            WHEN paused THEN 'paused' ELSE 'open' END AS sales,
			       pause_message
			  FROM performances WHERE id = $1),
		g AS (
			SELECT c.gate, count(*)::int AS n
			  FROM check_ins c JOIN tickets t ON t.id = c.ticket_id
			 WHERE t.performance_id = $1
			 GROUP BY c.gate),
		ev AS (
			(SELECT a.at, CASE a.action WHEN 'cancel' THEN 'cancelled' WHEN 'move' THEN 'moved' ELSE 'sold' END AS kind,
			        a.seat_label AS seat, '' AS gate
			   FROM audit_log a
			  WHERE a.performance_id = $1 AND a.seat_label IS NOT NULL
			    AND (a.action IN ('confirm', 'cancel', 'issue_guest')
			         OR (a.action = 'move' AND a.after->>'state' = 'sold'))
			  ORDER BY a.at DESC LIMIT $2)
			UNION ALL
			(SELECT c.checked_in_at, 'checked_in', s.label, c.gate
			   FROM check_ins c JOIN tickets t ON t.id = c.ticket_id JOIN seats s ON s.id = t.seat_id
			  WHERE t.performance_id = $1
			  ORDER BY c.checked_in_at DESC LIMIT $2)),
		recent AS (SELECT * FROM ev ORDER BY at DESC, seat LIMIT $2)
		SELECT p.sales, p.pause_message,
		       coalesce((SELECT sum(n)::int FROM g), 0),
		       coalesce((SELECT array_agg(gate ORDER BY n DESC, gate) FROM g), '{}'),
		       coalesce((SELECT array_agg(n ORDER BY n DESC, gate) FROM g), '{}'),
		       coalesce((SELECT array_agg(at ORDER BY at DESC, seat) FROM recent), '{}'),
		       coalesce((SELECT array_agg(kind ORDER BY at DESC, seat) FROM recent), '{}'),
		       coalesce((SELECT array_agg(seat ORDER BY at DESC, seat) FROM recent), '{}'),
		       coalesce((SELECT array_agg(gate ORDER BY at DESC, seat) FROM recent), '{}')
		  FROM p`, performanceID, screenTicker).
		Scan(&st.Sales, &st.PauseMessage, &st.CheckedIn, &gates, &counts, &ats, &kinds, &seats, &doors)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("db: screen stats: %w", err)
	}
	for i := range gates {
		st.Gates = append(st.Gates, GateAdmissions{Gate: gates[i], Count: int(counts[i])})
	}
	for i := range ats {
		st.Recent = append(st.Recent, ScreenEvent{At: ats[i], Kind: kinds[i], Seat: seats[i], Gate: doors[i]})
	}
	return st, nil
}

// DisplayKey is a display key as the console lists it. The key itself is
// never stored; Hint is its last four characters.
type DisplayKey struct {
	ID         int64
	Label      string
	Hint       string
	CreatedBy  string // the staff member's username; "" when unknown
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Live reports whether the key still opens the screen.
func (k DisplayKey) Live() bool { return k.RevokedAt == nil }

// DisplayKeys lists a performance's display keys, live ones first, newest
// first within each.
func (s *Store) DisplayKeys(ctx context.Context, performanceID int64) ([]DisplayKey, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT k.id, k.label, k.hint, coalesce(st.username, ''), k.created_at, k.last_used_at, k.revoked_at
		FROM display_keys k LEFT JOIN staff st ON st.id = k.created_by
		WHERE k.performance_id = $1
		ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id DESC`, performanceID)
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DisplayKey, error) {
		var k DisplayKey
		err := row.Scan(&k.ID, &k.Label, &k.Hint, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: display keys: %w", err)
	}
	return keys, nil
}

// NewDisplayKey is a key to store: its SHA-256, its last four characters
// and the console's label for it.
type NewDisplayKey struct {
	Hash  []byte
	Hint  string
	Label string
}

// CreateDisplayKey stores a new display key for the performance and
// records it in the audit log ('screen_key_create').
func (s *Store) CreateDisplayKey(ctx context.Context, performanceID int64, k NewDisplayKey, a Actor) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		id, err = insertDisplayKey(ctx, tx, performanceID, k, a)
		if err != nil {
			return err
		}
		return auditKey(ctx, tx, a, "screen_key_create", performanceID, nil, map[string]any{"key_id": id, "label": k.Label, "hint": k.Hint})
	})
	if err != nil {
		return 0, fmt.Errorf("db: create display key: %w", err)
	}
	return id, nil
}

// revokeLiveKey marks a live key of the performance revoked and returns its
// label and hint, or ErrNotFound when keyID is not one.
func revokeLiveKey(ctx context.Context, tx pgx.Tx, performanceID, keyID int64) (label, hint string, err error) {
	err = tx.QueryRow(ctx, `UPDATE display_keys SET revoked_at = now()
		WHERE id = $1 AND performance_id = $2 AND revoked_at IS NULL
		RETURNING label, hint`, keyID, performanceID).Scan(&label, &hint)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return label, hint, err
}

// RotateDisplayKey revokes a live key of the performance and stores its
// successor under the same label, in one transaction ('screen_key_rotate').
// It returns ErrNotFound when keyID is not a live key of the performance.
func (s *Store) RotateDisplayKey(ctx context.Context, performanceID, keyID int64, k NewDisplayKey, a Actor) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		label, hint, err := revokeLiveKey(ctx, tx, performanceID, keyID)
		if err != nil {
			return err
		}
		k.Label = label
		if id, err = insertDisplayKey(ctx, tx, performanceID, k, a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE display_keys SET rotated_to = $1 WHERE id = $2`, id, keyID); err != nil {
			return err
		}
		return auditKey(ctx, tx, a, "screen_key_rotate", performanceID,
			map[string]any{"key_id": keyID, "label": label, "hint": hint},
			map[string]any{"key_id": id, "label": label, "hint": k.Hint})
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return 0, err
		}
		return 0, fmt.Errorf("db: rotate display key: %w", err)
	}
	return id, nil
}

// RevokeDisplayKey stops a live key of the performance from opening the
// screen ('screen_key_revoke'). It returns ErrNotFound when keyID is not a
// live key of the performance.
func (s *Store) RevokeDisplayKey(ctx context.Context, performanceID, keyID int64, a Actor) error {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		label, hint, err := revokeLiveKey(ctx, tx, performanceID, keyID)
		if err != nil {
			return err
		}
		return auditKey(ctx, tx, a, "screen_key_revoke", performanceID,
			map[string]any{"key_id": keyID, "label": label, "hint": hint}, map[string]any{"revoked": true})
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("db: revoke display key: %w", err)
	}
	return nil
}

// DisplayKeyOpens reports whether a key with this SHA-256 is a live key of
// the performance, and notes its use (at most once a minute, so a screen
// that reconnects often writes little).
func (s *Store) DisplayKeyOpens(ctx context.Context, performanceID int64, hash []byte) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, `WITH k AS (
			SELECT id, last_used_at FROM display_keys
			 WHERE key_hash = $1 AND performance_id = $2 AND revoked_at IS NULL),
		touched AS (
			UPDATE display_keys d SET last_used_at = now() FROM k
			 WHERE d.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute'))
		SELECT EXISTS (SELECT 1 FROM k)`, hash, performanceID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("db: display key: %w", err)
	}
	return ok, nil
}

func insertDisplayKey(ctx context.Context, tx pgx.Tx, performanceID int64, k NewDisplayKey, a Actor) (int64, error) {
	var id int64
	var by *int64
	if a.Kind == "staff" && a.ID != 0 {
		by = &a.ID
	}
	err := tx.QueryRow(ctx, `INSERT INTO display_keys (performance_id, key_hash, label, hint, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, performanceID, k.Hash, k.Label, k.Hint, by).Scan(&id)
	return id, err
}

// auditKey writes a display key's audit row. The key's hint and label are
// recorded, never the key.
func auditKey(ctx context.Context, tx pgx.Tx, a Actor, action string, performanceID int64, before, after map[string]any) error {
	args := actorArgs(a)
	_, err := tx.Exec(ctx, `SELECT festa_audit($1, $2, $3, $4, NULL, $5, $6, $7, $8)`,
		args[0], args[1], action, performanceID, args[2], args[3], before, after)
	return err
}

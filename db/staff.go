package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Staff accounts: `festa staff add` and the council console's staff page
// (handlers/admin_staff.go). Every change writes one audit row in the same
// transaction; the audit row never holds a password or its hash. The last
// enabled council account cannot be disabled or demoted: the trigger
// staff_keep_council refuses it (ErrLastCouncil) and the change is undone.

var (
	// ErrStaffExists means the username is taken; nothing was written.
	ErrStaffExists = errors.New("staff username taken")
	// ErrLastCouncil means the change would leave no enabled council
	// account; nothing was written.
	ErrLastCouncil = errors.New("the last enabled council account must stay")
)

// StaffAccount is a staff account as the console lists it (never its
// password hash).
type StaffAccount struct {
	ID        int64
	Username  string
	Role      string // council or gate
	Enabled   bool
	CreatedAt time.Time
}

// staffSnapshot is a staff account as the audit log records it.
type staffSnapshot struct {
	Username        string `json:"username"`
	Role            string `json:"role"`
	Enabled         bool   `json:"enabled"`
	PasswordChanged bool   `json:"password_changed,omitempty"`
}

// StaffAccounts lists every staff account, council first, then by name.
func (s *Store) StaffAccounts(ctx context.Context) ([]StaffAccount, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT id, username, role, enabled, created_at FROM staff
		ORDER BY role = 'council' DESC, username`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StaffAccount, error) {
		var a StaffAccount
		return a, r.Scan(&a.ID, &a.Username, &a.Role, &a.Enabled, &a.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("db: staff accounts: %w", err)
	}
	return out, nil
}

// CreateStaff adds an enabled account with an already hashed password and
// returns it; a taken username is ErrStaffExists. The username and role
// must pass the table's CHECKs (callers validate first, to say why).
func (s *Store) CreateStaff(ctx context.Context, username, role, passwordHash string, a Actor) (StaffAccount, error) {
	var acc StaffAccount
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO staff (username, password_hash, role) VALUES ($1, $2, $3)
			RETURNING id, username, role, enabled, created_at`, username, passwordHash, role).
			Scan(&acc.ID, &acc.Username, &acc.Role, &acc.Enabled, &acc.CreatedAt)
		if pgCode(err) == "23505" { // unique_violation
			return ErrStaffExists
		}
		if err != nil {
			return err
		}
		return staffAudit(ctx, tx, a, "staff_add", nil, &staffSnapshot{Username: acc.Username, Role: acc.Role, Enabled: true})
	})
	if errors.Is(err, ErrStaffExists) {
		return acc, err
	}
	if err != nil {
		return acc, fmt.Errorf("db: create staff: %w", err)
	}
	return acc, nil
}

// SetStaffEnabled enables or disables account id. Disabling the last
// enabled council account is ErrLastCouncil.
func (s *Store) SetStaffEnabled(ctx context.Context, id int64, enabled bool, a Actor) (StaffAccount, error) {
	action := "staff_disable"
	if enabled {
		action = "staff_enable"
	}
	return s.changeStaff(ctx, id, action, a, `enabled = $2`, false, enabled)
}

// SetStaffRole makes account id council or gate. Demoting the last
// enabled council account is ErrLastCouncil.
func (s *Store) SetStaffRole(ctx context.Context, id int64, role string, a Actor) (StaffAccount, error) {
	return s.changeStaff(ctx, id, "staff_role", a, `role = $2`, false, role)
}

// ResetStaffPassword replaces account id's password hash.
func (s *Store) ResetStaffPassword(ctx context.Context, id int64, passwordHash string, a Actor) (StaffAccount, error) {
	return s.changeStaff(ctx, id, "staff_password", a, `password_hash = $2`, true, passwordHash)
}

// changeStaff applies set ($1 is the id, $2 the value) to one account and
// audits it, in one transaction; the row lock keeps before and after
// honest when two council members act on the same account.
func (s *Store) changeStaff(ctx context.Context, id int64, action string, a Actor, set string, password bool, value any) (StaffAccount, error) {
	var acc StaffAccount
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var before staffSnapshot
		err := tx.QueryRow(ctx, `SELECT username, role, enabled FROM staff WHERE id = $1 FOR NO KEY UPDATE`, id).
			Scan(&before.Username, &before.Role, &before.Enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `UPDATE staff SET `+set+` WHERE id = $1
			RETURNING id, username, role, enabled, created_at`, id, value).
			Scan(&acc.ID, &acc.Username, &acc.Role, &acc.Enabled, &acc.CreatedAt)
		if pgCode(err) == "FS001" {
			return ErrLastCouncil
		}
		if err != nil {
			return err
		}
		after := staffSnapshot{Username: acc.Username, Role: acc.Role, Enabled: acc.Enabled, PasswordChanged: password}
		return staffAudit(ctx, tx, a, action, &before, &after)
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrLastCouncil) {
		return StaffAccount{}, err
	}
	if err != nil {
		return StaffAccount{}, fmt.Errorf("db: %s: %w", action, err)
	}
	return acc, nil
}

// staffAudit appends the audit row of a staff change (no performance).
func staffAudit(ctx context.Context, tx pgx.Tx, a Actor, action string, before, after *staffSnapshot) error {
	var b, af *string
	for _, p := range []struct {
		snap *staffSnapshot
		out  **string
	}{{before, &b}, {after, &af}} {
		if p.snap != nil {
			j, _ := json.Marshal(p.snap)
			s := string(j)
			*p.out = &s
		}
	}
	act := actorArgs(a)
	_, err := tx.Exec(ctx, `SELECT festa_audit($1, $2, $3, NULL, NULL, $4, $5, $6::jsonb, $7::jsonb)`,
		act[0], act[1], action, act[2], act[3], b, af)
	return err
}

// Session is one stored sign-in session (the scs layout: its token and
// the codec's encoding of its values).
type Session struct {
	Token string
	Data  []byte
}

// LiveSessions returns every unexpired session. The console reads them to
// end a staff account's sessions when it is disabled, re-roled or given a
// new password: the session keeps the role it signed in with, so without
// this a disabled account would stay signed in until its session expired.
func (s *Store) LiveSessions(ctx context.Context) ([]Session, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT token, data FROM sessions WHERE expiry > now()`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var se Session
		return se, r.Scan(&se.Token, &se.Data)
	})
	if err != nil {
		return nil, fmt.Errorf("db: live sessions: %w", err)
	}
	return out, nil
}

// DeleteSessions ends the sessions with these tokens.
func (s *Store) DeleteSessions(ctx context.Context, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	if _, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE token = ANY($1)`, tokens); err != nil {
		return fmt.Errorf("db: delete sessions: %w", err)
	}
	return nil
}

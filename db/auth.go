package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrThrottled means a sign-in was refused unchecked because a failure
// budget (see LoginLimit) is spent; the functions returning it also say how
// long until it frees.
var ErrThrottled = errors.New("db: too many failed sign-ins")

// StudentCredentials is what signing a student in needs.
type StudentCredentials struct {
	ID       int64
	No       string
	Name     string
	CodeHash string
	Enabled  bool
}

// StudentCredentials returns the student with number no, or ErrNotFound.
func (s *Store) StudentCredentials(ctx context.Context, no string) (StudentCredentials, error) {
	var st StudentCredentials
	err := s.Pool.QueryRow(ctx, `SELECT id, student_no, name, code_hash, enabled FROM students WHERE student_no = $1`, no).
		Scan(&st.ID, &st.No, &st.Name, &st.CodeHash, &st.Enabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("db: student credentials: %w", err)
	}
	return st, nil
}

// StaffCredentials is what signing a staff member in needs.
type StaffCredentials struct {
	ID           int64
	Username     string
	Role         string // council or gate
	PasswordHash string
	Enabled      bool
}

// StaffCredentials returns the staff account username, or ErrNotFound.
func (s *Store) StaffCredentials(ctx context.Context, username string) (StaffCredentials, error) {
	var st StaffCredentials
	err := s.Pool.QueryRow(ctx, `SELECT id, username, role, password_hash, enabled FROM staff WHERE username = $1`, username).
		Scan(&st.ID, &st.Username, &st.Role, &st.PasswordHash, &st.Enabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("db: staff credentials: %w", err)
	}
	return st, nil
}

// LoginLimit is a failure budget: at most Max failed sign-ins per Window
// for Key. Windows are fixed: the first failure opens one, and it ends
// Window later however many failures follow. Windows must not exceed
// loginSweepAge.
type LoginLimit struct {
	Key    string
	Max    int
	Window time.Duration
}

// LoginAttempt is one sign-in and the two budgets it draws on: the account
// (a student number or staff username), strict, and the client's address,
// shared by everyone behind one NAT.
type LoginAttempt struct {
	Account LoginLimit
	Client  LoginLimit
	At      time.Time // the app's clock, so every instance and test agrees
}

// loginSweepAge is how long a failure row outlives the start of its
// window before FailLogin's sweep deletes it; it must exceed every window.
const loginSweepAge = time.Hour

// BeginLogin admits a sign-in attempt, or refuses it with ErrThrottled and
// the time until the spent budget frees.
//
// The client's budget is only read, so the many successful sign-ins of a
// school behind one address never queue on its row (concurrent failures may
// overshoot it a little). The account's budget is strict: the attempt is
// counted as a failure before the secret is checked, in one conditional
// statement, so parallel guesses at one number cannot slip past the limit
// together; SucceedLogin takes the count back.
func (s *Store) BeginLogin(ctx context.Context, a LoginAttempt) (time.Duration, error) {
	var failures int
	var start time.Time
	err := s.Pool.QueryRow(ctx, `SELECT failures, window_start FROM login_failures
		WHERE key = $1 AND window_start > $2`, a.Client.Key, a.At.Add(-a.Client.Window)).Scan(&failures, &start)
	switch {
	case err == nil && failures >= a.Client.Max:
		return loginWait(start, a.Client.Window, a.At), ErrThrottled
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return 0, fmt.Errorf("db: begin login: %w", err)
	}
	// The account's count goes up only while it is under the limit, so a
	// refused attempt changes nothing.
	cutoff := a.At.Add(-a.Account.Window)
	err = s.Pool.QueryRow(ctx, `INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			window_start = CASE WHEN f.window_start <= $3 THEN excluded.window_start ELSE f.window_start END,
			failures     = CASE WHEN f.window_start <= $3 THEN 1 ELSE f.failures + 1 END
		WHERE f.window_start <= $3 OR f.failures < $4
		RETURNING failures`, a.Account.Key, a.At, cutoff, a.Account.Max).Scan(&failures)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("db: begin login: %w", err)
	}
	// Spent. Should a success have deleted the row in between, start is
	// zero and the wait is the one-second minimum.
	err = s.Pool.QueryRow(ctx, `SELECT window_start FROM login_failures WHERE key = $1`, a.Account.Key).Scan(&start)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("db: begin login: %w", err)
	}
	return loginWait(start, a.Account.Window, a.At), ErrThrottled
}

// FailLogin settles an admitted attempt whose secret was wrong: the
// account's count already holds it (BeginLogin), the client's gains it.
// When that opens a new client window, rows long dead are swept, so the
// table stays as small as recent failures.
func (s *Store) FailLogin(ctx context.Context, a LoginAttempt) error {
	failures, err := s.countLoginFailure(ctx, a.Client, a.At)
	if err != nil {
		return fmt.Errorf("db: fail login: %w", err)
	}
	if failures == 1 {
		if _, err := s.Pool.Exec(ctx, `DELETE FROM login_failures WHERE window_start < $1`, a.At.Add(-loginSweepAge)); err != nil {
			return fmt.Errorf("db: sweep login failures: %w", err)
		}
	}
	return nil
}

// SucceedLogin settles an admitted attempt whose secret was right: the
// account's failures are forgotten. The client's count is left alone.
func (s *Store) SucceedLogin(ctx context.Context, a LoginAttempt) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, a.Account.Key); err != nil {
		return fmt.Errorf("db: succeed login: %w", err)
	}
	return nil
}

// countLoginFailure adds one failure to l's key, opening a new window when
// the last one has ended, and returns the count in the window.
func (s *Store) countLoginFailure(ctx context.Context, l LoginLimit, at time.Time) (int, error) {
	var failures int
	err := s.Pool.QueryRow(ctx, `INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			window_start = CASE WHEN f.window_start <= $3 THEN excluded.window_start ELSE f.window_start END,
			failures     = CASE WHEN f.window_start <= $3 THEN 1 ELSE f.failures + 1 END
		RETURNING failures`, l.Key, at, at.Add(-l.Window)).Scan(&failures)
	return failures, err
}

// loginWait is the time from at until the window that started at start ends;
// never less than a second, so "try again in 0 seconds" cannot happen.
func loginWait(start time.Time, window time.Duration, at time.Time) time.Duration {
	return max(start.Add(window).Sub(at), time.Second)
}

package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrThrottled means a sign-in was refused unchecked because one of the
// device's failure budgets (see LoginAttempt) is spent; BeginLogin also
// says how long until it frees.
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

// LoginAttempt is one sign-in and what it is counted against. Only budgets
// that belong to the device making the attempt can refuse it, so nobody can
// spend another person's: the account on this device, strict, and this
// device across accounts. The client's address, shared by a whole school
// behind one NAT address, is only counted (Max is not used), which tells
// a flooding address apart.
type LoginAttempt struct {
	Account LoginLimit // this account from this device
	Device  LoginLimit // this device, whatever account
	Client  LoginLimit // this client address: counted, never refuses
	At      time.Time  // the app's clock, so every instance and test agrees
}

// loginSweepAge is how long a failure row outlives the start of its
// window before FailLogin's sweep deletes it; it must exceed every window.
const loginSweepAge = time.Hour

// BeginLogin admits a sign-in attempt, or refuses it with ErrThrottled and
// the time until the spent budget frees. Either way it returns the client
// address's failures in its current window.
//
// The attempt is counted as a failure of both the account and the device
// before the secret is checked, in one statement (festa_begin_login, all
// or nothing, in key order), so parallel guesses cannot slip past a limit
// together; SucceedLogin takes the counts back. A refused attempt changes
// nothing.
func (s *Store) BeginLogin(ctx context.Context, a LoginAttempt) (wait time.Duration, clientFailures int, err error) {
	var w *time.Duration
	err = s.Pool.QueryRow(ctx, `SELECT wait, client_failures FROM festa_begin_login($1, $2, $3, $4, $5, $6)`,
		[]string{a.Account.Key, a.Device.Key}, []int{a.Account.Max, a.Device.Max},
		[]time.Duration{a.Account.Window, a.Device.Window}, a.Client.Key, a.Client.Window, a.At).Scan(&w, &clientFailures)
	if err != nil {
		return 0, 0, fmt.Errorf("db: begin login: %w", err)
	}
	if w != nil {
		return max(*w, time.Second), clientFailures, ErrThrottled
	}
	return 0, clientFailures, nil
}

// FailLogin settles an admitted attempt whose secret was wrong: the
// account's and device's counts already hold it (BeginLogin), the client's
// gains it. It returns the client's failures in the current window. When
// that opens a new client window, rows long dead are swept, so the table
// stays as small as recent failures.
func (s *Store) FailLogin(ctx context.Context, a LoginAttempt) (int, error) {
	failures, err := s.countLoginFailure(ctx, a.Client, a.At)
	if err != nil {
		return 0, fmt.Errorf("db: fail login: %w", err)
	}
	if failures == 1 {
		if _, err := s.Pool.Exec(ctx, `DELETE FROM login_failures WHERE window_start < $1`, a.At.Add(-loginSweepAge)); err != nil {
			return 0, fmt.Errorf("db: sweep login failures: %w", err)
		}
	}
	return failures, nil
}

// SucceedLogin settles an admitted attempt whose secret was right: the
// account's failures on this device are forgotten, and the device gets
// back the one failure BeginLogin counted (a shared library computer that
// many students sign in on is not throttled for their successes). The
// client's count is left alone. Each statement touches one row, so this
// cannot deadlock with festa_begin_login.
func (s *Store) SucceedLogin(ctx context.Context, a LoginAttempt) error {
	if _, err := s.Pool.Exec(ctx, `WITH gone AS (DELETE FROM login_failures WHERE key = $1 AND failures <= 1)
		UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 1`, a.Device.Key); err != nil {
		return fmt.Errorf("db: succeed login: %w", err)
	}
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

// Package db owns festa's PostgreSQL access: the connection pool, the
// embedded migrations and every SQL statement the application runs. Callers
// get plain Go values and sentinel errors; no SQL leaves this package.
package db

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Sentinel errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
)

// Store is the application's handle on the database.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects a pool to url and checks that the server answers. The pool
// holds up to max(16, 4 × cores) connections unless url sets
// pool_max_conns: bookings of different seats run in parallel in the
// database (migration 012), and pgx's default of max(4, cores) left a
// 2-core instance's taps queueing for a connection while PostgreSQL idled
// (the spike load command's runs, docs/BENCHMARKS.md). Two instances at 16
// stay well inside PostgreSQL's default 100 connections.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: connect to %s: %w", describe(cfg.ConnConfig), err)
	}
	return &Store{Pool: pool}, nil
}

// Close releases every connection.
func (s *Store) Close() { s.Pool.Close() }

// Ping reports whether the database answers; /healthz uses it.
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Migrations returns the embedded migration files, for tools (such as the
// test database template) that need to fingerprint them.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrationFiles, "migrations")
	return sub
}

// Migrate applies every pending migration on conn. tern runs each file in its
// own transaction and holds a PostgreSQL advisory lock for the whole run, so
// several instances starting at once migrate exactly once.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	if err := m.LoadMigrations(Migrations()); err != nil {
		return fmt.Errorf("db: migrate: load: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

// MigrateURL opens one connection to url, migrates and closes it.
func MigrateURL(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("db: migrate: connect: %w", err)
	}
	defer conn.Close(context.Background())
	return Migrate(ctx, conn)
}

// Migrate applies pending migrations using one of the pool's connections.
func (s *Store) Migrate(ctx context.Context) error {
	c, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	defer c.Release()
	return Migrate(ctx, c.Conn())
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// hint returns the HINT of a PostgreSQL error, or "".
func hint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Hint
	}
	return ""
}

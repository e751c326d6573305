// Package dbtest gives each test its own migrated PostgreSQL database,
// cloned from a template (pgtestdb), on a real server: the one named by
// FESTA_TEST_DATABASE_URL or DATABASE_URL, or else a private cluster this
// package starts for the test binary and stops when it exits. Tests never
// skip for want of a database.
//
// Packages that use it call dbtest.Main from TestMain so the private
// cluster is stopped at the end.
package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb uses
	"github.com/peterldowns/pgtestdb"

	"festa/db"
	"festa/pgcluster"
)

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error
	cluster    *pgcluster.Cluster
	clusterDir string
)

// Main runs the package's tests and stops the private cluster afterwards.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
		os.RemoveAll(clusterDir)
	}
	os.Exit(code)
}

// ServerURL returns the URL of the server tests use, starting a private
// cluster on first use when no URL is configured.
func ServerURL(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() {
		for _, k := range []string{"FESTA_TEST_DATABASE_URL", "DATABASE_URL"} {
			if v := os.Getenv(k); v != "" {
				serverURL = v
				return
			}
		}
		clusterDir, serverErr = os.MkdirTemp("", "festa-test-pg-")
		if serverErr != nil {
			return
		}
		// The server may run as another user (see pgcluster); let it in.
		if serverErr = os.Chmod(clusterDir, 0o755); serverErr != nil {
			return
		}
		cluster, serverErr = pgcluster.Start(context.Background(), filepath.Join(clusterDir, "pg"), pgcluster.Options{Ephemeral: true})
		if serverErr == nil {
			serverURL = cluster.URL("postgres")
		}
	})
	if serverErr != nil {
		t.Fatalf("dbtest: no PostgreSQL for tests: %v", serverErr)
	}
	return serverURL
}

// URL returns the connection string of a fresh, migrated database that is
// dropped when the test ends (kept, and logged, when it fails).
func URL(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(ServerURL(t))
	if err != nil {
		t.Fatalf("dbtest: bad server URL: %v", err)
	}
	pw, _ := u.User.Password()
	conf := pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       u.Port(),
		User:       u.User.Username(),
		Password:   pw,
		Database:   dbName(u),
		Options:    "sslmode=disable",
		// Servers here are slow to drop a database a leaked connection still
		// holds; force it, since each test's database is its own.
		ForceTerminateConnections: true,
	}
	if conf.Port == "" {
		conf.Port = "5432"
	}
	return pgtestdb.Custom(t, conf, migrator{}).URL()
}

// New returns a Store on a fresh, migrated database, closed at cleanup.
func New(t testing.TB) *db.Store {
	t.Helper()
	store, err := db.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(store.Close)
	return store
}

func dbName(u *url.URL) string {
	if len(u.Path) > 1 {
		return u.Path[1:]
	}
	return "postgres"
}

// migrator builds pgtestdb's template with festa's own migrations; its hash
// covers every migration file, so a changed schema gets a new template.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(db.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(db.Migrations(), path)
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	return db.MigrateURL(ctx, conf.URL())
}

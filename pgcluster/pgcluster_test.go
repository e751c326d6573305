package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartReuseStop(t *testing.T) {
	root, err := os.MkdirTemp("", "festa-pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	os.Chmod(root, 0o755)
	ctx := context.Background()
	dir := filepath.Join(root, "pg")

	c, err := Start(ctx, dir, Options{Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	again, err := Start(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("reuse: %v", err)
	}
	if again.Port != c.Port {
		t.Errorf("reused cluster moved from port %d to %d", c.Port, again.Port)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
		t.Fatal("server still answers after Stop")
	}
	// A stopped cluster starts again on the same port with its data.
	third, err := Start(ctx, dir, Options{Ephemeral: true})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if third.Port != c.Port {
		t.Errorf("restart moved the port")
	}
}

func TestFindBinaries(t *testing.T) {
	if _, err := findBinaries("/nonexistent", "/nonexistent"); !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("got %v, want ErrNoBinaries", err)
	}
	if ErrNoBinaries.Error() == "" || !contains(ErrNoBinaries.Error(), "apt-get install postgresql") {
		t.Errorf("the error does not name the package: %q", ErrNoBinaries)
	}
	fake := t.TempDir()
	bin := filepath.Join(fake, "17", "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "initdb"), nil, 0o755)
	old := filepath.Join(fake, "9", "bin")
	os.MkdirAll(old, 0o755)
	os.WriteFile(filepath.Join(old, "initdb"), nil, 0o755)
	if got, err := findBinaries("/nonexistent", fake); err != nil || got != bin {
		t.Errorf("got %q, %v; want the newest version %q", got, err, bin)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

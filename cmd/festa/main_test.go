package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, cmd := range []string{"dev", "serve", "migrate", "demo", "keygen"} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"festa", cmd, "--help"}, getenv(nil), &out, &errb); err != nil {
			t.Errorf("%s --help: %v", cmd, err)
		}
		if !strings.Contains(out.String(), "Usage: festa "+cmd) {
			t.Errorf("%s --help printed %q", cmd, out.String())
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"festa", "--help"}, getenv(nil), &out, &out); err != nil || !strings.Contains(out.String(), "festa dev") {
		t.Errorf("festa --help: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"festa", "frobnicate"}, getenv(nil), &out, &out); err == nil {
		t.Error("an unknown command succeeded")
	}
}

func TestKeygenPrintsAUsableKey(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"festa", "keygen", "--id", "k1"}, getenv(nil), &out, &out); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	if !strings.HasPrefix(line, "k1:") || len(line) != len("k1:")+64 {
		t.Fatalf("keygen printed %q", line)
	}
}

// The real binary: a wrong DATABASE_URL gives exit status 1 and one line.
func TestBadDatabaseURLIsOneLine(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "festa")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"serve"}, {"migrate"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL=postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Fatalf("%v: exit %v, want status 1", args, err)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "festa: ") {
			t.Errorf("%v: stderr is %q, want one line", args, stderr.String())
		}
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "DATABASE_URL is not set") {
		t.Errorf("serve without DATABASE_URL: %v %q", err, stderr.String())
	}
}

// A bad FESTA_TRUSTED_PROXIES stops serve and dev with one clear error
// before anything is started (DATABASE_URL points nowhere: reaching it
// would be a different error).
func TestBadTrustedProxiesIsOneClearError(t *testing.T) {
	for _, cmd := range []string{"serve", "dev"} {
		for _, bad := range []string{"nginx.local", "10.0.0.0/33", "10.0.0.1,,fe80::1%eth0"} {
			env := getenv(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", "FESTA_TRUSTED_PROXIES": bad})
			var out bytes.Buffer
			err := run(context.Background(), []string{"festa", cmd}, env, &out, &out)
			if err == nil || !strings.Contains(err.Error(), "FESTA_TRUSTED_PROXIES") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s with FESTA_TRUSTED_PROXIES=%q: %v", cmd, bad, err)
			}
		}
	}
}

// serve migrates, answers /healthz, and stops cleanly when its context ends.
func TestServeMigratesAndShutsDown(t *testing.T) {
	addr, stop := startServe(t, dbtest.URL(t))
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	stop()
}

// startServe runs `festa serve` against the database at url on a free
// port and returns its address once it is serving; stop ends it and fails
// the test unless it stops cleanly within 15 s.
func startServe(t *testing.T, url string) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"festa", "serve"}, getenv(map[string]string{"DATABASE_URL": url, "FESTA_ADDR": "127.0.0.1:0"}), &out, &errb)
	}()
	for i := 0; i < 100 && addr == ""; i++ {
		time.Sleep(50 * time.Millisecond)
		for _, l := range strings.Split(errb.String(), "\n") {
			if i := strings.Index(l, "addr="); i >= 0 && strings.Contains(l, "serving") {
				addr = strings.Fields(l[i+5:])[0]
			}
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("server did not start: %s", errb.String())
	}
	return addr, func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
}

// lockedBuffer is a bytes.Buffer safe to read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

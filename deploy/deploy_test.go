package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"festa/deploy"
)

// nginxOrSkip returns the nginx binary; without one the test skips, except
// in CI, where the test command installs nginx and a skip would hide that
// it did not.
func nginxOrSkip(t *testing.T) string {
	t.Helper()
	bin, err := deploy.FindNginx()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("skipping: %v (the test command installs it: task deps)", err)
	}
	return bin
}

// The rendered config passes `nginx -t` with and without the brotli
// module, loads the module only when asked, and names every instance.
func TestConfigPassesNginxCheck(t *testing.T) {
	bin := nginxOrSkip(t)
	for _, brotli := range []bool{false, true} {
		n, err := deploy.NewNginx(t.TempDir(), "127.0.0.1:18080", []string{"127.0.0.1:18081", "127.0.0.1:18082"})
		if err != nil {
			t.Fatal(err)
		}
		n.BrotliModule = ""
		if brotli {
			if _, err := os.Stat(deploy.BrotliModule); err != nil {
				t.Logf("no brotli module on this machine; checked without it only")
				continue
			}
			n.BrotliModule = deploy.BrotliModule
		}
		if err := n.Write(); err != nil {
			t.Fatal(err)
		}
		if err := n.Check(bin); err != nil {
			t.Fatalf("brotli %v: %v", brotli, err)
		}
		conf, err := os.ReadFile(n.ConfPath())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"server 127.0.0.1:18081 ", "server 127.0.0.1:18082 ", "listen 127.0.0.1:18080;", "proxy_read_timeout 75s;"} {
			if !strings.Contains(string(conf), want) {
				t.Errorf("config lacks %q", want)
			}
		}
		if got := strings.Contains(string(conf), "load_module"); got != brotli {
			t.Errorf("brotli %v: load_module present %v", brotli, got)
		}
		if page, err := os.ReadFile(filepath.Join(n.RunDir, "html", "429.html")); err != nil || !strings.Contains(string(page), `lang="ko"`) {
			t.Errorf("429 page not written: %v", err)
		}
	}
}

// A value that would end a directive or open a block is refused before
// anything is written, so a typo in --instances cannot inject config.
func TestConfigRefusesValuesThatBreakOut(t *testing.T) {
	for _, up := range []string{"127.0.0.1:1; include /etc/passwd", "a{b", "", "x y", "$host"} {
		n, err := deploy.NewNginx(t.TempDir(), "8080", []string{up})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Config(); err == nil {
			t.Errorf("upstream %q accepted", up)
		}
	}
	if _, err := deploy.NewNginx(t.TempDir(), "8080", nil); err == nil {
		t.Error("no instances accepted")
	}
}

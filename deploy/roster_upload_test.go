package deploy_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"festa/deploy"
)

// Behind nginx, a 10 MB roster file still reaches festa, which refuses it
// on its own roster page (handlers/roster_limit.go); any other body that
// large is refused by nginx before festa sees it.
func TestNginxPassesOversizedRosterToFesta(t *testing.T) {
	bin := nginxOrSkip(t)
	// A stand-in for festa: it reads the body through and says how much
	// arrived.
	festa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "festa read %d", n)
	}))
	defer festa.Close()
	front := "127.0.0.1:" + freePorts(t, 1)[0]
	n, err := deploy.NewNginx(t.TempDir(), front, []string{festa.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Write(); err != nil {
		t.Fatal(err)
	}
	cmd := n.Command(bin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("nginx:\n%s", stderr.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", front); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start listening on %s", front)
		}
	}

	big := bytes.Repeat([]byte("30101,김하늘\n"), 10<<20/17)
	post := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Post("http://"+front+path, "text/csv", bytes.NewReader(big))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := post("/admin/students/import"); status != http.StatusOK || body != fmt.Sprintf("festa read %d", len(big)) {
		t.Errorf("roster upload through nginx: %d %.200q, want festa to read all %d bytes", status, body, len(big))
	}
	if status, body := post("/admin/students/codes"); status != http.StatusRequestEntityTooLarge || strings.Contains(body, "festa read") {
		t.Errorf("another path: %d %.200q, want nginx's 413", status, body)
	}
}

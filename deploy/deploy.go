// Package deploy puts nginx in front of festa: it renders the configuration
// in nginx/festa.conf.tmpl (static-file cache, gzip and brotli, WebSocket
// proxying, load balancing over several `festa serve` instances, request
// limits with the 429 page nginx/429.html) into a private run dir and
// builds the command that runs Debian's nginx from there, in the
// foreground, without root. `festa stack` uses it; so can a deployment
// that renders the file once and copies it.
package deploy

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// files holds the template and the 429 page; never written.
//
//go:embed nginx/festa.conf.tmpl nginx/429.html
var files embed.FS

// BrotliModule is where Debian's libnginx-mod-http-brotli-filter puts the
// module; the config loads it only when the file is there.
const BrotliModule = "/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so"

// ErrNoNginx means no nginx binary was found.
var ErrNoNginx = errors.New("nginx not found: install it (Debian: apt-get install nginx) or put it on PATH")

// Nginx is one nginx in front of festa. The zero value is not usable; fill
// it with NewNginx and change fields before Write.
type Nginx struct {
	// RunDir is the absolute folder nginx runs from: nginx.conf, the pid,
	// logs/, tmp/, cache/, html/429.html and conf.d/ (extra locations).
	RunDir string
	// Listen is nginx's listen directive: "8080", "127.0.0.1:8080".
	Listen string
	// Upstreams are the festa instances' host:port.
	Upstreams []string
	// BrotliModule is the module to load, or "" for gzip only.
	BrotliModule string
	// WorkerUser is nginx's user directive, or "" for none. Set when
	// running as root, whose workers would otherwise be "nobody" and
	// could not read the private run dir.
	WorkerUser string
	// MimeTypes is the mime.types file to include.
	MimeTypes string
}

// NewNginx describes an nginx run from runDir, listening on listen, in
// front of upstreams, with brotli when this machine has the module.
func NewNginx(runDir, listen string, upstreams []string) (Nginx, error) {
	abs, err := filepath.Abs(runDir)
	if err != nil {
		return Nginx{}, fmt.Errorf("nginx: run dir: %w", err)
	}
	if len(upstreams) == 0 {
		return Nginx{}, errors.New("nginx: no festa instance to send requests to")
	}
	n := Nginx{RunDir: abs, Listen: listen, Upstreams: upstreams, MimeTypes: "/etc/nginx/mime.types"}
	if _, err := os.Stat(BrotliModule); err == nil {
		n.BrotliModule = BrotliModule
	}
	if os.Geteuid() == 0 {
		n.WorkerUser = "root"
	}
	return n, nil
}

// Config renders nginx.conf.
func (n Nginx) Config() ([]byte, error) {
	for _, s := range append([]string{n.RunDir, n.Listen, n.MimeTypes}, n.Upstreams...) {
		// A value is pasted into the config as is: refuse what would end a
		// directive or open a block.
		if s == "" || strings.ContainsAny(s, " \t\n;{}#\"'$") {
			return nil, fmt.Errorf("nginx: %q cannot go into the config", s)
		}
	}
	tmpl, err := template.ParseFS(files, "nginx/festa.conf.tmpl")
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, n); err != nil {
		return nil, fmt.Errorf("nginx: render: %w", err)
	}
	return buf.Bytes(), nil
}

// ConfPath is where Write puts nginx.conf.
func (n Nginx) ConfPath() string { return filepath.Join(n.RunDir, "nginx.conf") }

// Write creates the run dir's folders and writes nginx.conf and the 429
// page. It keeps anything already in conf.d/ and the cache.
func (n Nginx) Write() error {
	conf, err := n.Config()
	if err != nil {
		return err
	}
	for _, d := range []string{"logs", "tmp", "cache", "html", "conf.d"} {
		if err := os.MkdirAll(filepath.Join(n.RunDir, d), 0o755); err != nil {
			return fmt.Errorf("nginx: %w", err)
		}
	}
	page, err := files.ReadFile("nginx/429.html")
	if err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	if err := os.WriteFile(filepath.Join(n.RunDir, "html", "429.html"), page, 0o644); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	if err := os.WriteFile(n.ConfPath(), conf, 0o644); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	return nil
}

// FindNginx returns the nginx binary: from PATH, else Debian's
// /usr/sbin/nginx (not on an ordinary user's PATH).
func FindNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", ErrNoNginx
}

// Command returns the command running nginx (the binary bin) in the
// foreground from the run dir, with its error log on stderr. Stop it with
// SIGQUIT (finish open requests) or SIGTERM (at once).
func (n Nginx) Command(bin string) *exec.Cmd {
	return exec.Command(bin, n.args()...)
}

// Check runs `nginx -t` on the written config and returns its complaint.
func (n Nginx) Check(bin string) error {
	out, err := exec.Command(bin, append(n.args(), "-t", "-q")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

func (n Nginx) args() []string {
	return []string{"-p", n.RunDir + "/", "-c", n.ConfPath(), "-e", "stderr"}
}

// Package pgcluster runs a private PostgreSQL cluster from the server
// binaries already on the machine (initdb, pg_ctl). `festa dev` keeps one
// under ./.festa/ and tests start a throwaway one, so neither depends on a
// system-wide server.
//
// initdb and postgres refuse to run as root. When festa runs as root the
// cluster is created and started as an unprivileged user instead ("postgres"
// when that account exists, else "nobody"), and the data directory is handed
// to that user.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries means no initdb/pg_ctl was found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian: apt-get install postgresql) or put them on PATH")

// Options tune a cluster. The zero value is a durable cluster suitable for
// `festa dev`.
type Options struct {
	// Ephemeral turns off fsync and friends: for test clusters whose data
	// may be lost on a crash.
	Ephemeral bool
	// Log, when set, receives progress lines ("initialising…").
	Log func(format string, args ...any)
}

// Cluster is a running private server.
type Cluster struct {
	Dir  string // the folder holding data/, port and server.log
	Port int
	// Reused is true when Start found the server already running (someone
	// else started it, and may still need it).
	Reused bool
	bin    string
	cred   *syscall.Credential
}

// URL returns the connection string for database name on the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// FindBinaries returns the folder that holds initdb and pg_ctl: from PATH
// first, else the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	return findBinaries(os.Getenv("PATH"), "/usr/lib/postgresql")
}

func findBinaries(path, libRoot string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, "initdb")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		dir := filepath.Dir(p)
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir = filepath.Dir(real)
		}
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(libRoot, "*", "bin"))
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start creates the cluster in dir if it does not exist yet, and starts it
// unless it is already running (then it is reused). The port is chosen once
// and remembered in dir/port.
func Start(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = unprivileged(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	// The unprivileged server must be able to reach its data directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.chown(dir); err != nil { // for server.log
		return nil, err
	}
	data := c.dataDir()
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		logf("creating a private PostgreSQL cluster in %s", data)
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if c.Port, err = c.choosePort(); err != nil {
		return nil, err
	}
	if c.running(ctx) {
		logf("reusing the running private PostgreSQL on port %d", c.Port)
		c.Reused = true
		return c, nil
	}
	args := []string{"start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", c.serverOptions(opts)}
	if out, err := c.command(ctx, "pg_ctl", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgcluster: pg_ctl start failed (see %s): %s", filepath.Join(dir, "server.log"), lastLine(out, err))
	}
	logf("private PostgreSQL listening on 127.0.0.1:%d", c.Port)
	return c, nil
}

// Stop shuts the server down quickly (open sessions are rolled back).
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.command(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %s", lastLine(out, err))
	}
	return nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) initdb(ctx context.Context) error {
	data := c.dataDir()
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.chown(data); err != nil {
		return err
	}
	out, err := c.command(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions").CombinedOutput()
	if err != nil {
		os.RemoveAll(data)
		return fmt.Errorf("pgcluster: initdb failed: %s", lastLine(out, err))
	}
	return nil
}

func (c *Cluster) serverOptions(opts Options) string {
	o := []string{
		"-p " + strconv.Itoa(c.Port),
		"-c listen_addresses=127.0.0.1",
		"-c unix_socket_directories=''",
		"-c max_connections=300",
		"-c shared_buffers=128MB",
	}
	if opts.Ephemeral {
		o = append(o, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	return strings.Join(o, " ")
}

// choosePort returns the remembered port, or picks a free one and remembers it.
func (c *Cluster) choosePort() (int, error) {
	file := filepath.Join(c.Dir, "port")
	if b, err := os.ReadFile(file); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: pick a port: %w", err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := os.WriteFile(file, []byte(strconv.Itoa(p)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("pgcluster: %w", err)
	}
	return p, nil
}

func (c *Cluster) running(ctx context.Context) bool {
	return c.command(ctx, "pg_ctl", "status", "-D", c.dataDir()).Run() == nil
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	cmd.Dir = c.Dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// The server must outlive a cancelled context only when pg_ctl itself
	// detaches it, which it does; Setpgid keeps a terminal's Ctrl-C from
	// reaching the postmaster directly, so `festa dev` stops it in order.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	return cmd
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("pgcluster: hand %s to the server user: %w", path, err)
	}
	return nil
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgcluster: running as root and no unprivileged user (postgres or nobody) to run PostgreSQL as")
}

func lastLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return err.Error()
}

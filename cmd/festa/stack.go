package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"festa/db"
	"festa/deploy"
)

// stackProxies is FESTA_TRUSTED_PROXIES for the stack's instances: nginx
// connects to them from loopback, and only its X-Forwarded-For is believed.
const stackProxies = "127.0.0.1"

func runStack(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "stack", "Run festa as in production on one machine: the dev database (as 'festa dev'),\n"+
		"two 'festa serve' instances and nginx in front of them (deploy/nginx), run from ./.festa/nginx.\nCtrl-C stops it all.")
	listen := fs.String("listen", "8080", "nginx's listen address (port, or host:port)")
	instances := fs.String("instances", "127.0.0.1:8081,127.0.0.1:8082", "the festa instances' addresses, comma-separated")
	students := fs.Int("students", 1200, "demo roster size on first start")
	if err := parse(fs, args); err != nil {
		return err
	}
	addrs := splitList(*instances)
	listenAddr := *listen
	if !strings.Contains(listenAddr, ":") {
		listenAddr = ":" + listenAddr
	}
	for _, a := range append([]string{listenAddr}, addrs...) {
		if err := portFree(a); err != nil {
			return fmt.Errorf("stack: %s is taken (another festa stack or dev?): %w", a, err)
		}
	}
	nginxBin, err := deploy.FindNginx()
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	proxy, err := deploy.NewNginx(filepath.Join(devDir, "nginx"), *listen, addrs)
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	if err := proxy.Write(); err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	if err := proxy.Check(nginxBin); err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}

	url, stopDatabase, err := devDatabase(ctx, e, true)
	if err != nil {
		return err
	}
	defer stopDatabase()
	if err := prepareStackDatabase(ctx, e, url, *students); err != nil {
		return err
	}

	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("stack: --listen: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening everywhere: check it on loopback
	}
	baseURL := e.get("FESTA_BASE_URL", "http://localhost:"+port)
	var out sync.Mutex // the children's lines on the shared stdout and stderr
	var procs []*child
	defer func() { stopChildren(e, procs) }()
	procs, err = startInstances(ctx, e, &out, self, addrs, url, baseURL)
	if err != nil {
		return err
	}
	// nginx goes first on the way down (see stopChildren): SIGQUIT lets it
	// finish the requests it has, then the instances drain.
	p, err := startChild(e, &out, "nginx", proxy.Command(nginxBin), syscall.SIGQUIT)
	if err != nil {
		return err
	}
	procs = append([]*child{p}, procs...)
	if err := waitHealthy(ctx, p, "http://"+net.JoinHostPort(host, port)+"/healthz"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nfesta stack is running: nginx on %s in front of %s\n  home        %s/\n  seat map    %s/p/opening\n  staff       %s/staff/login\n  demo codes  %s\n  nginx       %s (access log in logs/)\nPress Ctrl-C to stop.\n\n",
		*listen, strings.Join(addrs, " and "), baseURL, baseURL, baseURL, filepath.Join(devDir, "demo-codes.csv"), proxy.RunDir)

	// Run until Ctrl-C or until any process ends by itself.
	exited := make(chan *child, len(procs))
	for _, p := range procs {
		go func() { <-p.done; exited <- p }()
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(e.stdout, "stopping nginx, the instances and the database…")
		return nil
	case p := <-exited:
		return fmt.Errorf("stack: %s stopped by itself: %v", p.name, p.err)
	}
}

// startInstances starts one `festa serve` (the running binary, self) per
// address on the database url, trusting X-Forwarded-For from nginx only,
// and waits until each answers /healthz. It returns those it started, even
// on error, so the caller stops them.
func startInstances(ctx context.Context, e env, out *sync.Mutex, self string, addrs []string, url, baseURL string) ([]*child, error) {
	var procs []*child
	for i, addr := range addrs {
		name := fmt.Sprintf("festa-%c", 'a'+i)
		cmd := exec.Command(self, "serve", "--no-migrate")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "FESTA_ADDR="+addr,
			"FESTA_TRUSTED_PROXIES="+stackProxies, "FESTA_BASE_URL="+baseURL)
		p, err := startChild(e, out, name, cmd, syscall.SIGTERM)
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
	}
	for i, addr := range addrs {
		if err := waitHealthy(ctx, procs[i], "http://"+addr+"/healthz"); err != nil {
			return procs, err
		}
	}
	return procs, nil
}

// prepareStackDatabase migrates the database and loads the demo festival
// into an empty one, as `festa dev` does; the instances start with
// --no-migrate, so they do not race each other to migrate.
func prepareStackDatabase(ctx context.Context, e env, url string, students int) error {
	store, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	return loadDemoIfEmpty(ctx, e, store, students)
}

// child is a process the stack started and stops.
type child struct {
	name string
	cmd  *exec.Cmd
	stop syscall.Signal // its graceful-stop signal
	done chan struct{}  // closed when it has exited; err is then set
	err  error
}

// startChild starts cmd in its own process group, so Ctrl-C in the
// terminal reaches only the stack, which then stops its children in order.
// Its output goes to the stack's, each line prefixed with name.
func startChild(e env, out *sync.Mutex, name string, cmd *exec.Cmd, stop syscall.Signal) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, stderr := prefixLines(e.stdout, out, name), prefixLines(e.stderr, out, name)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("stack: start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, stop: stop, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		stdout.Close()
		stderr.Close()
		close(c.done)
	}()
	return c, nil
}

// stopChildren stops each process in order with its graceful signal,
// killing one that has not exited after 15 s.
func stopChildren(e env, procs []*child) {
	for _, p := range procs {
		select {
		case <-p.done:
			continue
		default:
		}
		p.cmd.Process.Signal(p.stop)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			fmt.Fprintf(e.stderr, "festa: %s did not stop within 15 s; killing it\n", p.name)
			p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// waitHealthy polls url until it answers 200, the process exits, or 60 s
// pass.
func waitHealthy(ctx context.Context, p *child, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stack: %s did not answer %s within 60 s (last: %v)", p.name, url, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("stack: %s exited while starting: %v", p.name, p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// prefixLines returns a writer that copies whole lines to w, each starting
// with "name | "; mu is shared by the children writing to one output, so
// their lines never interleave mid-line. Close the writer when the child
// has exited.
func prefixLines(w io.Writer, mu *sync.Mutex, name string) io.WriteCloser {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintf(w, "%-7s | %s\n", name, sc.Text())
			mu.Unlock()
		}
		io.Copy(io.Discard, pr) // a line longer than 1 MB: drop the rest
	}()
	return pw
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// portFree reports whether nothing listens on addr yet: the stack checks
// its addresses before starting anything, so a second stack fails at once
// with a clear line.
func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

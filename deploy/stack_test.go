package deploy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/html"

	"festa/apptest"
	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/deploy"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// guard bounds every wait; a failure guard, not a measurement.
const guard = 20 * time.Second

// The production shape on one machine, through the real `festa stack`
// command (a built binary): nginx in front of two `festa serve` processes
// on one database. A student books through nginx; a hold made on instance
// A reaches a viewer on instance B; a socket through nginx outlives 60 s of
// silence and still gets the next change; a flood of sign-ins from one
// address gets nginx's Korean 429 page while other addresses go on; hashed
// static files come back cached for a year and compressed; festa records
// the address nginx saw, not one the client made up; and SIGTERM stops
// nginx and both instances.
func TestStackThroughNginx(t *testing.T) {
	nginxOrSkip(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "festa")
	if out, err := exec.Command("go", "build", "-o", bin, "festa/cmd/festa").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	databaseURL := dbtest.URL(t)
	ports := freePorts(t, 3)
	front, a, b := "127.0.0.1:"+ports[0], "127.0.0.1:"+ports[1], "127.0.0.1:"+ports[2]

	var out syncBuffer
	stack := exec.Command(bin, "stack", "--listen", front, "--instances", a+","+b, "--students", "60")
	stack.Dir = dir
	stack.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "FESTA_BASE_URL=")
	stack.Stdout, stack.Stderr = &out, &out
	if err := stack.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- stack.Wait() }()
	t.Cleanup(func() {
		if stack.ProcessState == nil {
			stack.Process.Signal(syscall.SIGTERM)
			<-exited
		}
		if t.Failed() {
			t.Logf("festa stack output:\n%s", out.String())
		}
	})
	waitFor(t, exited, &out, "festa stack is running", 90*time.Second)

	store, err := db.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s := &stackUnderTest{
		t: t, front: "http://" + front, a: "http://" + a, b: "http://" + b,
		students: readCodes(t, filepath.Join(dir, ".festa", "demo-codes.csv")), store: store, log: &out,
	}

	t.Run("booking through nginx, seen on the other instance", s.booking)
	t.Run("static files cached and compressed", s.static)
	t.Run("sign-in flood gets the Korean 429 page", s.tooManyRequests)
	t.Run("socket through nginx survives 60 s idle", s.idleSocket)

	stack.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("festa stack exited with %v after SIGTERM", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("festa stack still running 40 s after SIGTERM")
	}
	for _, addr := range []string{front, a, b} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the stack stopped", addr)
		}
	}
}

type stackUnderTest struct {
	t           *testing.T
	front, a, b string // base URLs: nginx and the two instances
	students    []demo.Student
	store       *db.Store
	log         *syncBuffer
	handedOut   int // demo students signed in so far
	mu          sync.Mutex
}

// client signs in the next demo student at base, through the real form,
// its connections made from the loopback address from (so nginx sees a
// client address of its own) and carrying a made-up X-Forwarded-For, which
// nginx must replace.
func (s *stackUnderTest) client(t *testing.T, base, from string) *apptest.Client {
	s.mu.Lock()
	st := s.students[s.handedOut]
	s.handedOut++
	s.mu.Unlock()
	app := &apptest.App{URL: base, Demo: demo.Result{Students: []demo.Student{st}}}
	c := app.NewClient(t)
	c.HTTP.Transport = fromAddress(from)
	c.SignIn(st.No)
	return c
}

func (s *stackUnderTest) booking(t *testing.T) {
	viewerB := dialViewer(t, s.b+"/ws/p/opening")
	viewerB.waitState(t, "D6", "available")

	// Through nginx: hold and confirm, as a phone would.
	buyer := s.client(t, s.front, "127.0.0.2")
	if status, body := buyer.Post("/p/opening/hold", url.Values{"seat": {"D5"}}, true); status != http.StatusOK {
		t.Fatalf("hold D5 through nginx: %d\n%s", status, body)
	}
	if status, body := buyer.Post("/p/opening/confirm", nil, true); status != http.StatusOK {
		t.Fatalf("confirm D5 through nginx: %d\n%s", status, body)
	}
	var tickets int
	if err := s.store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM tickets t JOIN seats s ON s.id = t.seat_id
		JOIN performances p ON p.id = t.performance_id WHERE s.label = 'D5' AND p.slug = 'opening'`).Scan(&tickets); err != nil {
		t.Fatal(err)
	}
	if tickets != 1 {
		t.Fatalf("D5 has %d tickets after a confirm through nginx, want 1", tickets)
	}
	viewerB.waitState(t, "D5", "sold")

	// The client address festa records is the one nginx saw (127.0.0.2),
	// not the X-Forwarded-For the client sent, nor nginx's own 127.0.0.1.
	var ips []string
	rows, err := s.store.Pool.Query(context.Background(), `SELECT DISTINCT a.ip FROM audit_log a JOIN performances p ON p.id = a.performance_id
		WHERE a.seat_label = 'D5' AND a.actor_kind = 'student' AND p.slug = 'opening'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ip string
		rows.Scan(&ip)
		ips = append(ips, ip)
	}
	if rows.Err() != nil || len(ips) != 1 || ips[0] != "127.0.0.2" {
		t.Errorf("audit log addresses of D5's hold and confirm: %q (%v), want only 127.0.0.2", ips, rows.Err())
	}
	if !strings.Contains(s.log.String(), `uri=/p/opening/confirm status=200`) || strings.Contains(s.log.String(), "remote_ip="+spoofedAddress) {
		t.Errorf("festa's request log should show the confirm and never the client's made-up address %s", spoofedAddress)
	}
	if !regexp.MustCompile(`uri=/p/opening/hold status=200 .*remote_ip=127\.0\.0\.2`).MatchString(s.log.String()) {
		t.Errorf("festa's request log does not show the hold from remote_ip=127.0.0.2")
	}

	// A hold made on instance A reaches the viewer on instance B: the
	// change crosses PostgreSQL's NOTIFY.
	holderA := s.client(t, s.a, "127.0.0.1")
	if status, body := holderA.Post("/p/opening/hold", url.Values{"seat": {"D6"}}, true); status != http.StatusOK {
		t.Fatalf("hold D6 on instance A: %d\n%s", status, body)
	}
	viewerB.waitState(t, "D6", "held")
}

var hashedCSS = regexp.MustCompile(`/static/css/app\.[0-9a-f]{10}\.css`)

func (s *stackUnderTest) static(t *testing.T) {
	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: guard}
	get := func(path, encoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.front+path, nil)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}

	resp, page := get("/", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("home page through nginx with Accept-Encoding: gzip came back %q", resp.Header.Get("Content-Encoding"))
	}
	page = gunzip(t, page)
	css := hashedCSS.Find(page)
	if css == nil {
		t.Fatalf("no hashed app.css link on the home page")
	}
	if _, err := os.Stat(deploy.BrotliModule); err == nil {
		if resp, _ := get("/", "br, gzip"); resp.Header.Get("Content-Encoding") != "br" {
			t.Errorf("brotli module installed but the home page came back %q to a browser accepting br", resp.Header.Get("Content-Encoding"))
		}
	}

	var cached []byte
	for i, want := range []string{"", "HIT"} {
		resp, body := get(string(css), "gzip, br")
		if i == 1 && resp.Header.Get("X-Cache-Status") != want {
			t.Errorf("second fetch of %s: X-Cache-Status %q, want HIT", css, resp.Header.Get("X-Cache-Status"))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want a year and immutable", css, cc)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: Content-Encoding %q, want gzip", css, resp.Header.Get("Content-Encoding"))
		}
		// With its length known nginx sends the cached file whole, not
		// chunked (the difference is measured in BENCHMARKS.md).
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("%s: Content-Length %d for %d bytes", css, resp.ContentLength, len(body))
		}
		if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("%s through the cache sets cookies %q", css, c)
		}
		cached = gunzip(t, body)
	}
	// A client that takes no gzip gets the same file, from a plain copy
	// cached beside the gzip one.
	for _, want := range []string{"MISS", "HIT"} {
		resp, body := get(string(css), "")
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, cached) || len(body) < 1000 {
			t.Errorf("%s without gzip: Content-Encoding %q, %d bytes (gzip's unpacked: %d)", css, resp.Header.Get("Content-Encoding"), len(body), len(cached))
		}
		if got := resp.Header.Get("X-Cache-Status"); got != want {
			t.Errorf("%s without gzip: X-Cache-Status %q, want %s", css, got, want)
		}
	}
}

func (s *stackUnderTest) tooManyRequests(t *testing.T) {
	// One address (127.0.0.3) sends 400 sign-ins at once: more than the
	// burst of 200, so nginx refuses some before festa sees them.
	flood := &http.Client{Transport: fromAddress("127.0.0.3"), Timeout: guard}
	var mu sync.Mutex
	var refused []*http.Response
	var bodies []string
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 40 {
		wg.Go(func() {
			for range jobs {
				req, _ := http.NewRequest(http.MethodPost, s.front+"/login", strings.NewReader("student_no=10101&code=AAAAA-AAAAA"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := flood.Do(req)
				if err != nil {
					t.Error(err)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					mu.Lock()
					refused = append(refused, resp)
					bodies = append(bodies, string(body))
					mu.Unlock()
				}
			}
		})
	}
	for i := range 400 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(refused) == 0 {
		t.Fatal("400 sign-ins at once from one address: none refused with 429")
	}
	for _, want := range []string{`<html lang="ko">`, "요청이 너무 많아요", "잠시 후 다시 시도해 주세요", "Too many requests"} {
		if !strings.Contains(bodies[0], want) {
			t.Errorf("nginx's 429 page lacks %q:\n%s", want, bodies[0])
		}
	}
	if ct := refused[0].Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(ct, "utf-8") {
		t.Errorf("429 page Content-Type %q", ct)
	}
	if refused[0].Header.Get("Retry-After") == "" {
		t.Error("429 page has no Retry-After")
	}
	// Reading the sign-in page is not limited, and the limit is per
	// address: the next school's students sign in as usual.
	if resp, err := flood.Get(s.front + "/login"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /login from the flooding address: %v %v", resp.StatusCode, err)
	}
	next := s.client(t, s.front, "127.0.0.4")
	if status, _ := next.Get("/"); status != http.StatusOK {
		t.Errorf("a student from another address after the flood: home page %d", status)
	}
}

func (s *stackUnderTest) idleSocket(t *testing.T) {
	viewer := dialViewer(t, s.front+"/ws/p/opening")
	viewer.waitState(t, "D7", "available")
	time.Sleep(62 * time.Second) // longer than nginx's default proxy_read_timeout
	if err := viewer.err(); err != nil {
		t.Fatalf("the socket through nginx ended while idle: %v", err)
	}
	c := s.client(t, s.front, "127.0.0.1")
	if status, body := c.Post("/p/opening/hold", url.Values{"seat": {"D7"}}, true); status != http.StatusOK {
		t.Fatalf("hold D7: %d\n%s", status, body)
	}
	viewer.waitState(t, "D7", "held")
}

// viewer is a WebSocket reader keeping the latest data-state of each seat
// it was sent. It reads all the time, as a browser does, which also
// answers the server's pings.
type viewer struct {
	mu      sync.Mutex
	states  map[string]string
	changed chan struct{}
	readErr error
}

func dialViewer(t *testing.T, wsURL string) *viewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(wsURL, "http"), &websocket.DialOptions{
		HTTPHeader: http.Header{"Accept-Language": {"ko"}},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	c.SetReadLimit(8 << 20)
	t.Cleanup(func() { c.CloseNow() })
	v := &viewer{states: map[string]string{}, changed: make(chan struct{}, 1)}
	go func() {
		for {
			_, msg, err := c.Read(context.Background())
			v.mu.Lock()
			if err != nil {
				v.readErr = err
			} else {
				seatStates(msg, v.states)
			}
			v.mu.Unlock()
			select {
			case v.changed <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return v
}

func (v *viewer) err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.readErr
}

func (v *viewer) waitState(t *testing.T, label, want string) {
	t.Helper()
	deadline := time.After(guard)
	for {
		v.mu.Lock()
		got, err := v.states[label], v.readErr
		v.mu.Unlock()
		if got == want {
			return
		}
		if err != nil {
			t.Fatalf("waiting for %s to be %s (last %q): socket ended: %v", label, want, got, err)
		}
		select {
		case <-v.changed:
		case <-deadline:
			t.Fatalf("seat %s did not become %s within %s (last %q)", label, want, guard, got)
		}
	}
}

// seatStates records every seat-<label> element's data-state in msg.
func seatStates(msg []byte, into map[string]string) {
	z := html.NewTokenizer(bytes.NewReader(msg))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			var id, state string
			_, more := z.TagName()
			for more {
				var k, val []byte
				k, val, more = z.TagAttr()
				switch string(k) {
				case "id":
					id = string(val)
				case "data-state":
					state = string(val)
				}
			}
			if label, ok := strings.CutPrefix(id, "seat-"); ok && state != "" {
				into[label] = state
			}
		}
	}
}

// spoofedAddress is the X-Forwarded-For every test client sends; nginx
// must replace it with the address it sees.
const spoofedAddress = "203.0.113.9"

// fromAddress is a transport whose connections start from the loopback
// address from (Linux answers on all of 127/8) and whose requests carry a
// made-up X-Forwarded-For.
func fromAddress(from string) http.RoundTripper {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return spoofXFF{&http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

type spoofXFF struct{ next http.RoundTripper }

func (s spoofXFF) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", spoofedAddress)
	return s.next.RoundTrip(r)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readCodes(t *testing.T, path string) []demo.Student {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 10 {
		t.Fatalf("demo codes %s: %d lines, %v", path, len(recs), err)
	}
	var out []demo.Student
	for _, r := range recs[1:] {
		out = append(out, demo.Student{No: r[0], Name: r[1], Code: r[2]})
	}
	return out
}

// freePorts returns n ports nothing listens on (held open together, so
// they differ, then released for the stack).
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var lns []net.Listener
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// waitFor waits until the process's output contains want.
func waitFor(t *testing.T, exited chan error, out *syncBuffer, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("festa stack exited (%v) before %q:\n%s", err, want, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s:\n%s", want, limit, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer the stack's output goroutines write to
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package browsertest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// WebKit drives Debian's WebKitGTK (MiniBrowser, the engine of Safari)
// through WebKitWebDriver, the W3C WebDriver server of the
// webkit2gtk-driver package, on a private Xvfb display. It is a small
// hand-written client (net/http and encoding/json): the Go WebDriver
// libraries are either unmaintained or drive Chrome's DevTools protocol,
// and the dozen commands festa's tests need are each one HTTP request.
//
// Every method fails the test on error, like Run. Each WebKit has its own
// display, driver and browser with an ephemeral profile (MiniBrowser in
// automation mode keeps no cookies or storage), all stopped at test
// cleanup.
//
// WebKitGTK has no device emulation: a phone is a narrow window, with a
// device scale factor of 1, mouse input and a desktop user agent. Its
// Accept-Language follows the browser's C library locale, which a bare
// Debian machine does not have for Korean, so pages that must be in Korean
// are reached through festa's language switch (/lang/ko), which sets the
// "lang" cookie.
type WebKit struct {
	t       testing.TB
	base    string // the session's URL: http://127.0.0.1:port/session/id
	client  *http.Client
	timeout time.Duration
	log     *syncBuffer
}

// WebKitOptions shape the WebKit window.
type WebKitOptions struct {
	// Width and Height are the window's size; default 1280×900. The
	// browser's toolbar takes about 20 px of the height (see Viewport).
	Width, Height int
	// Timeout bounds every wait and every command; default 20 s.
	Timeout time.Duration
}

// webkitPackages is what a Debian machine installs to run these tests.
const webkitPackages = "apt-get install webkit2gtk-driver xvfb xauth"

// webElement is the W3C key under which a command returns an element.
const webElement = "element-6066-11e4-a52e-4f735466cecf"

// FindWebKitDriver returns the path of WebKitWebDriver: $FESTA_WEBKITDRIVER,
// then PATH, then WebKitGTK's library folder.
func FindWebKitDriver() (string, error) {
	if p := os.Getenv("FESTA_WEBKITDRIVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	if p, err := exec.LookPath("WebKitWebDriver"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.*/WebKitWebDriver")
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", errors.New("WebKitWebDriver is neither on PATH nor under /usr/lib/*/webkit2gtk-4.*/")
}

// NewWebKit starts Xvfb, WebKitWebDriver and a browser session with a
// window of the given size; everything is stopped at test cleanup. A
// missing driver or Xvfb fails the test (it never skips), naming the
// packages to install.
func NewWebKit(t testing.TB, opts WebKitOptions) *WebKit {
	t.Helper()
	w, err := startWebKit(t, opts)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return w
}

// startWebKit is NewWebKit returning its error; what it started is stopped
// at t's cleanup even when it fails.
func startWebKit(t testing.TB, opts WebKitOptions) (*WebKit, error) {
	if opts.Width == 0 {
		opts.Width = 1280
	}
	if opts.Height == 0 {
		opts.Height = 900
	}
	if opts.Timeout == 0 {
		opts.Timeout = 20 * time.Second
	}
	driver, err := FindWebKitDriver()
	if err != nil {
		return nil, fmt.Errorf("WebKit driver not found (Debian: %s): %v", webkitPackages, err)
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		return nil, fmt.Errorf("Xvfb not found (Debian: %s): %v", webkitPackages, err)
	}
	log := &syncBuffer{}
	home, err := browserHome(t.TempDir())
	if err != nil {
		return nil, err
	}
	display, err := startXvfb(t, xvfb, log)
	if err != nil {
		return nil, err
	}
	env := append(home, "DISPLAY="+display, "GDK_BACKEND=x11", "WAYLAND_DISPLAY=")
	url, err := startDriver(t, driver, env, log)
	if err != nil {
		return nil, err
	}
	w := &WebKit{t: t, client: &http.Client{Timeout: opts.Timeout + 10*time.Second}, timeout: opts.Timeout, log: log}
	// The browser writes the page's console to its standard output, which
	// ends up in failure messages.
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{
			"args": []string{"--automation", "--enable-write-console-messages-to-stdout=true"},
		},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := w.do(http.MethodPost, url+"/session", caps, &created); err != nil {
		return nil, fmt.Errorf("WebKit: new session: %v%s", err, log.tail())
	}
	w.base = url + "/session/" + created.SessionID
	t.Cleanup(func() {
		// Closing the session quits the browser while the driver still
		// waits for it, so no process outlives the test.
		w.do(http.MethodDelete, w.base, nil, nil)
	})
	if err := w.do(http.MethodPost, w.base+"/window/rect", map[string]int{"width": opts.Width, "height": opts.Height}, nil); err != nil {
		return nil, fmt.Errorf("WebKit: window size: %v", err)
	}
	return w, nil
}

// toolbarCSS shrinks MiniBrowser's toolbar, whose buttons and address
// entry otherwise keep its window at least 447 px wide, so a window can be
// as narrow as a phone (390 px). GTK style sheets style only the browser's
// own widgets: WebKitGTK draws a page's form controls itself (a page's
// buttons, inputs and selects measured the same with and without it).
const toolbarCSS = `entry, button, toolitem, toolbar, image, label {
	min-width: 0; min-height: 0; padding: 0; margin: 0; border-width: 0;
	font-size: 1px; -gtk-icon-transform: scale(0.1);
}
`

// browserHome makes dir the browser's configuration, cache and data
// folders, with the toolbar style sheet, and returns the environment that
// says so: nothing of the user's, nothing left behind.
func browserHome(dir string) ([]string, error) {
	config := filepath.Join(dir, "config")
	if err := os.MkdirAll(filepath.Join(config, "gtk-3.0"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(config, "gtk-3.0", "gtk.css"), []byte(toolbarCSS), 0o644); err != nil {
		return nil, err
	}
	return []string{
		"XDG_CONFIG_HOME=" + config,
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
	}, nil
}

// startXvfb starts a virtual X display; Xvfb picks a free display number
// itself (-displayfd) and tells it through a pipe, so parallel test
// processes never collide.
func startXvfb(t testing.TB, path string, log io.Writer) (string, error) {
	r, wr, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	cmd := exec.Command(path, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{wr}
	cmd.Stdout, cmd.Stderr = log, log
	p, err := start(cmd)
	wr.Close()
	if err != nil {
		return "", fmt.Errorf("start Xvfb (Debian: %s): %v", webkitPackages, err)
	}
	t.Cleanup(p.stop)
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			return "", fmt.Errorf("Xvfb did not start: %q%s", n, tailOf(log))
		}
		return ":" + n, nil
	case <-time.After(15 * time.Second):
		return "", fmt.Errorf("Xvfb gave no display in 15 s%s", tailOf(log))
	}
}

// startDriver runs WebKitWebDriver on a free local port with env added to
// its environment (and its browser's), and waits until it answers.
func startDriver(t testing.TB, path string, env []string, log io.Writer) (string, error) {
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		cmd := exec.Command(path, "--port="+strconv.Itoa(port), "--host=local")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = log, log
		p, err := start(cmd)
		if err != nil {
			return "", fmt.Errorf("start WebKitWebDriver (Debian: %s): %v", webkitPackages, err)
		}
		t.Cleanup(p.stop)
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		err = waitReady(url, p.exited)
		if err == nil {
			return url, nil
		}
		// Another process may have taken the port between freePort and the
		// driver's bind; try another one.
		if attempt == 2 {
			return "", fmt.Errorf("WebKitWebDriver: %v%s", err, tailOf(log))
		}
	}
}

func waitReady(url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited at start")
		default:
		}
		resp, err := http.Get(url + "/status")
		if err == nil {
			var st struct {
				Value struct {
					Ready bool `json:"ready"`
				} `json:"value"`
			}
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Value.Ready {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not ready in 15 s")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// proc is a process started here, in a process group of its own, with
// the browser processes it starts in turn.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been waited for
}

func start(cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Output goes through pipes that the browser's own processes inherit;
	// do not wait for them forever if one escapes the process group.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop ends the process group, politely first.
func (p *proc) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// WebDriverError is an error answered by the driver: Code is the W3C error
// code, like "no such element".
type WebDriverError struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *WebDriverError) Error() string {
	return fmt.Sprintf("webdriver %d %s: %s", e.Status, e.Code, e.Message)
}

// do sends one WebDriver command and decodes the answer's "value" into out.
func (w *WebKit) do(method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("webdriver %s %s: status %d, %v", method, url, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &WebDriverError{Status: resp.StatusCode}
		json.Unmarshal(env.Value, e)
		return e
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

// cmd runs a session command, failing the test on error.
func (w *WebKit) cmd(method, path string, body, out any) {
	w.t.Helper()
	if err := w.do(method, w.base+path, body, out); err != nil {
		w.t.Fatalf("browsertest: WebKit %s %s: %v%s", method, path, err, w.log.tail())
	}
}

// Navigate loads url and waits for its load event.
func (w *WebKit) Navigate(url string) {
	w.t.Helper()
	w.cmd(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// URL returns the current page's URL.
func (w *WebKit) URL() string {
	w.t.Helper()
	var u string
	w.cmd(http.MethodGet, "/url", nil, &u)
	return u
}

// Eval runs script (a function body: use return) with args, and decodes
// what it returns into out (nil to ignore it). Elements cannot be passed
// or returned; pass selectors.
func (w *WebKit) Eval(out any, script string, args ...any) {
	w.t.Helper()
	if args == nil {
		args = []any{}
	}
	w.cmd(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// eval is Eval returning its error.
func (w *WebKit) eval(out any, script string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return w.do(http.MethodPost, w.base+"/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// WaitUntil polls script (a function body) until it returns a truthy
// value, and fails the test with what after the timeout.
func (w *WebKit) WaitUntil(what, script string, args ...any) {
	w.t.Helper()
	var last error
	for deadline := time.Now().Add(w.timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ok bool
		if last = w.eval(&ok, "return !!(function(){"+script+"}).apply(null, arguments)", args...); last == nil && ok {
			return
		}
	}
	if last != nil {
		w.t.Fatalf("browsertest: WebKit: waiting for %s: %v%s", what, last, w.log.tail())
	}
	w.t.Fatalf("browsertest: WebKit: timed out after %v waiting for %s (page %s)%s", w.timeout, what, w.URL(), w.log.tail())
}

// visibleJS is true when the element matching arguments[0] exists, has a
// box and is not hidden by visibility.
const visibleJS = `var el = document.querySelector(arguments[0]);
	return !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";`

// WaitVisible waits until an element matching css is shown.
func (w *WebKit) WaitVisible(css string) {
	w.t.Helper()
	w.WaitUntil(css+" to be visible", visibleJS, css)
}

// Visible reports whether an element matching css is shown now.
func (w *WebKit) Visible(css string) bool {
	w.t.Helper()
	var ok bool
	w.Eval(&ok, visibleJS, css)
	return ok
}

// find returns the id of the first element matching css.
func (w *WebKit) find(css string) (string, error) {
	var el map[string]string
	if err := w.do(http.MethodPost, w.base+"/element", map[string]string{"using": "css selector", "value": css}, &el); err != nil {
		return "", err
	}
	return el[webElement], nil
}

// onElement waits for a visible element matching css and runs f on it,
// again while the page is still changing under it (an element replaced by
// a swap, covered for a moment, not yet interactable).
func (w *WebKit) onElement(css, what string, f func(id string) error) {
	w.t.Helper()
	w.WaitVisible(css)
	var err error
	for deadline := time.Now().Add(w.timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var id string
		if id, err = w.find(css); err == nil {
			if err = f(id); err == nil {
				return
			}
		}
		var we *WebDriverError
		if !errors.As(err, &we) {
			break
		}
		switch we.Code {
		case "no such element", "stale element reference", "element not interactable", "element click intercepted":
			continue
		}
		break
	}
	w.t.Fatalf("browsertest: WebKit: %s %s: %v%s", what, css, err, w.log.tail())
}

// Click clicks the element matching css the way a user would: WebDriver
// scrolls it into view and clicks its middle with the mouse, and refuses
// when something else covers that point.
func (w *WebKit) Click(css string) {
	w.t.Helper()
	w.onElement(css, "click", func(id string) error {
		return w.do(http.MethodPost, w.base+"/element/"+id+"/click", map[string]any{}, nil)
	})
}

// SendKeys types text into the element matching css.
func (w *WebKit) SendKeys(css, text string) {
	w.t.Helper()
	w.onElement(css, "type into", func(id string) error {
		return w.do(http.MethodPost, w.base+"/element/"+id+"/value", map[string]string{"text": text}, nil)
	})
}

// Text returns the rendered text of the element matching css.
func (w *WebKit) Text(css string) string {
	w.t.Helper()
	var s string
	w.onElement(css, "read text of", func(id string) error {
		return w.do(http.MethodGet, w.base+"/element/"+id+"/text", nil, &s)
	})
	return s
}

// Attr returns an attribute of the element matching css ("" when absent).
func (w *WebKit) Attr(css, name string) string {
	w.t.Helper()
	var s *string
	w.WaitUntil(css+" to exist", `return !!document.querySelector(arguments[0])`, css)
	w.Eval(&s, `return document.querySelector(arguments[0]).getAttribute(arguments[1])`, css, name)
	if s == nil {
		return ""
	}
	return *s
}

// Viewport returns the page's layout viewport (innerWidth, innerHeight).
func (w *WebKit) Viewport() (width, height int) {
	w.t.Helper()
	var v [2]int
	w.Eval(&v, `return [window.innerWidth, window.innerHeight]`)
	return v[0], v[1]
}

// Screenshot saves a PNG of what the window shows to path.
func (w *WebKit) Screenshot(path string) {
	w.t.Helper()
	// WebKitGTK paints on its own schedule: a snapshot taken right after a
	// swap was seen to show the new layout without the new content. Two
	// animation frames later the page has been painted.
	w.cmd(http.MethodPost, "/execute/async", map[string]any{"args": []any{}, "script": `var done = arguments[arguments.length - 1];
		requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });`}, nil)
	var b64 string
	w.cmd(http.MethodGet, "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		w.t.Fatalf("browsertest: WebKit screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// syncBuffer collects the output of Xvfb, the driver and the browser, for
// failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the last 64 KiB: a long test must not grow it without bound.
	if b.buf.Len() > 64<<10 {
		rest := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-32<<10:]...)
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

// tail is the last lines of output, as a suffix for an error message.
func (b *syncBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return ""
	}
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return "\nbrowser output:\n" + s
}

func tailOf(w io.Writer) string {
	if b, ok := w.(*syncBuffer); ok {
		return b.tail()
	}
	return ""
}

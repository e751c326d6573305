// Package browsertest drives Debian's chromium, headless, through chromedp,
// for tests that must see what a person sees. Each call gets a fresh
// profile; a missing chromium fails the test (it never skips), naming the
// package to install.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Find returns the path of a chromium binary.
func Find() (string, error) {
	if p := os.Getenv("FESTA_CHROMIUM"); p != "" {
		return p, nil
	}
	var err error
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		var p string
		if p, err = exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", err
}

// Options shape the browser window.
type Options struct {
	Width, Height int     // default 1280×900
	Scale         float64 // device scale factor; default 1
	Mobile        bool
	Lang          string // Accept-Language the browser sends; default "ko-KR,ko"
	// Flags are extra chromium switches (name → value, true for a bare
	// switch), such as a fake camera for the gate's tests.
	Flags map[string]any
}

// New starts a headless chromium with a fresh profile and returns a tab
// context; everything is torn down at test cleanup.
func New(t testing.TB, opts Options) context.Context {
	t.Helper()
	path, err := Find()
	if err != nil {
		t.Fatalf("browsertest: chromium not found (Debian: apt-get install chromium): %v", err)
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 1280, 900
	}
	if opts.Scale == 0 {
		opts.Scale = 1
	}
	if opts.Lang == "" {
		opts.Lang = "ko-KR,ko"
	}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("lang", strings.SplitN(opts.Lang, ",", 2)[0]),
		chromedp.WindowSize(opts.Width, opts.Height),
	}
	for name, value := range opts.Flags {
		allocOpts = append(allocOpts, chromedp.Flag(name, value))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// Close the browser gracefully first, so it is gone before the test's
		// temporary profile directory is removed.
		chromedp.Cancel(ctx)
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Run(ctx,
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": opts.Lang}),
		chromedp.EmulateViewport(int64(opts.Width), int64(opts.Height), chromedp.EmulateScale(opts.Scale), mobile(opts.Mobile)),
	); err != nil {
		t.Fatalf("browsertest: start chromium: %v", err)
	}
	return ctx
}

func mobile(on bool) chromedp.EmulateViewportOption {
	if on {
		return chromedp.EmulateMobile
	}
	return func(*emulation.SetDeviceMetricsOverrideParams, *emulation.SetTouchEmulationEnabledParams) {}
}

// Run runs actions with a deadline, failing the test on error.
func Run(t testing.TB, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
}

// Screenshot saves a full-page PNG to path.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	var buf []byte
	Run(t, ctx, chromedp.FullScreenshot(&buf, 100)) // quality 100 means PNG
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

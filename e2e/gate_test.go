package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"festa/apptest"
	"festa/browsertest"
	"festa/db"
	"festa/tickets"
)

var (
	gateTicketLink  = regexp.MustCompile(`/tickets/([0-9a-f-]{36})`)
	gateTicketToken = regexp.MustCompile(`data-ticket-token="([^"]+)"`)
)

// bookTicket books seat in the opening performance for demo student no,
// over HTTP, and returns the ticket's token.
func bookTicket(t *testing.T, app *apptest.App, no, seat string) string {
	t.Helper()
	c := app.NewClient(t)
	c.SignIn(no)
	if status, body := c.Post("/p/opening/hold", url.Values{"seat": {seat}}, true); status != http.StatusOK {
		t.Fatalf("hold %s: %d %s", seat, status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/p/opening/confirm", strings.NewReader(url.Values{"_csrf": {c.Token()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, _ := c.Do(req)
	m := gateTicketLink.FindStringSubmatch(resp.Header.Get("HX-Redirect"))
	if m == nil {
		t.Fatalf("confirm %s: %d", seat, resp.StatusCode)
	}
	_, page := c.Get("/tickets/" + m[1])
	tm := gateTicketToken.FindStringSubmatch(page)
	if tm == nil {
		t.Fatal("the ticket page shows no token")
	}
	return tm[1]
}

// guestTicket gives seat of the opening performance, held back first, to
// a guest named name with the desk's database functions, signed with the
// app's key ring, and returns the ticket's token.
func guestTicket(t *testing.T, app *apptest.App, seat, name string) string {
	t.Helper()
	ctx := context.Background()
	perf := int64(app.Count(t, `SELECT id FROM performances WHERE slug = 'opening'`))
	council := db.Actor{Kind: "staff", ID: int64(app.Count(t, `SELECT id FROM staff WHERE username = 'council'`))}
	if err := app.Store.ReserveSeat(ctx, perf, seat, true, council, "내빈석"); err != nil {
		t.Fatalf("reserve %s: %v", seat, err)
	}
	newID := func() (string, error) {
		id, err := tickets.NewID()
		return id.String(), err
	}
	sign := func(id, performance, label string, at time.Time) (string, string, error) {
		tid, err := tickets.ParseID(id)
		if err != nil {
			return "", "", err
		}
		token, err := app.Ring.Sign(tickets.Claims{TicketID: tid, Performance: performance, Seat: label, IssuedAt: at})
		return strings.Split(token, ".")[1], token, err
	}
	id, err := app.Store.IssueGuestTicket(ctx, perf, seat, name, newID, sign, council, "초청")
	if err != nil {
		t.Fatalf("guest ticket %s: %v", seat, err)
	}
	var token string
	if err := app.Store.Pool.QueryRow(ctx, `SELECT token FROM tickets WHERE id = $1::uuid`, id).Scan(&token); err != nil {
		t.Fatal(err)
	}
	return token
}

// staffPassword is the demo password of staff account user.
func staffPassword(t *testing.T, app *apptest.App, user string) string {
	t.Helper()
	for _, l := range app.Demo.Staff {
		if l.Username == user {
			return l.Password
		}
	}
	t.Fatalf("no demo staff %q", user)
	return ""
}

// A door on a phone with a keyboard-wedge scanner: the scanner types the
// token and Enter; the screen says ADMIT with the seat, then, for the same
// token, ALREADY USED with the door, and INVALID for a forged one. The
// device remembers the door.
func TestGateKeyboardWedgeOnAPhone(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	token := bookTicket(t, app, "10101", "D7")
	phone := browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2}
	ctx := browsertest.New(t, phone)
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	run(dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fgate"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "gate"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "gate")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#gate-setup`),
	)
	save(t, ctx, "gate-setup-phone.png")
	run(
		chromedp.Click(`input[name="performance"][value="opening"]`),
		chromedp.SendKeys(`#gate-name`, "정문"),
		chromedp.Submit(`#gate-name`),
		chromedp.WaitVisible(`#scan-token`),
	)
	var focused bool
	run(chromedp.Evaluate(`document.activeElement && document.activeElement.id === "scan-token"`, &focused))
	if !focused {
		t.Error("the wedge field is not focused on the scanner page")
	}
	save(t, ctx, "gate-ready-phone.png")

	// The wedge types into whatever has focus, then Enter.
	var text string
	run(
		chromedp.KeyEvent(token+kb.Enter),
		chromedp.WaitVisible(`#verdict [data-result="admitted"]`),
		chromedp.Text(`#verdict [data-result]`, &text),
	)
	if !strings.Contains(text, "D7") || !strings.Contains(text, "입장") || !strings.Contains(text, "1학년 1반 1번") {
		t.Errorf("admit screen says %q", text)
	}
	var count string
	run(chromedp.Text(`#gate-count`, &count))
	if strings.TrimSpace(count) != "1" {
		t.Errorf("door count %q, want 1", count)
	}
	save(t, ctx, "gate-admitted-phone.png")
	// Ready again by itself, then the same ticket again.
	run(
		chromedp.WaitNotPresent(`#verdict [data-result]`),
		chromedp.KeyEvent(token+kb.Enter),
		chromedp.WaitVisible(`#verdict [data-result="already-used"]`),
		chromedp.Text(`#verdict [data-result]`, &text),
	)
	if !strings.Contains(text, "이미 입장") || !strings.Contains(text, "정문") {
		t.Errorf("already-used screen says %q", text)
	}
	save(t, ctx, "gate-already-used-phone.png")
	forged := token[:len(token)-2] + "AA"
	if forged == token {
		forged = token[:len(token)-2] + "BB"
	}
	run(
		chromedp.Click(`#verdict [data-result]`, chromedp.NodeVisible),
		chromedp.WaitNotPresent(`#verdict [data-result]`),
		chromedp.KeyEvent(forged+kb.Enter),
		chromedp.WaitVisible(`#verdict [data-result="invalid"]`),
		chromedp.Text(`#verdict [data-result]`, &text),
	)
	if !strings.Contains(text, "무효") {
		t.Errorf("invalid screen says %q", text)
	}
	save(t, ctx, "gate-invalid-phone.png")
	if n := app.Count(t, `SELECT count(*) FROM check_ins`); n != 1 {
		t.Errorf("%d check-ins, want 1", n)
	}

	// The device remembers the door: /gate opens the scanner directly.
	var nodes []*cdp.Node
	run(
		chromedp.Navigate(app.URL+"/gate"),
		chromedp.WaitVisible(`#scan-token`),
		chromedp.Nodes(`#gate[data-gate="정문"][data-performance="opening"]`, &nodes, chromedp.AtLeast(0)),
	)
	if len(nodes) != 1 {
		t.Error("the scanner did not come back to the remembered door")
	}
}

// setUpScanner signs in as the gate account and sets the scanner up for
// the opening performance at door, through the forms.
func setUpScanner(t *testing.T, app *apptest.App, run func(...chromedp.Action), door string) {
	t.Helper()
	setUpScannerAt(t, app.URL, app, run, door)
}

// setUpScannerAt is setUpScanner with the browser talking to festa at base
// (a proxy in front of app).
func setUpScannerAt(t *testing.T, base string, app *apptest.App, run func(...chromedp.Action), door string) {
	t.Helper()
	run(dark(),
		chromedp.Navigate(base+"/staff/login?next=%2Fgate"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "gate"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "gate")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#gate-setup`),
		chromedp.Click(`input[name="performance"][value="opening"]`),
		chromedp.SendKeys(`#gate-name`, door),
		chromedp.Submit(`#gate-name`),
		chromedp.WaitVisible(`#scan-token`),
	)
}

// writeCameraFile writes a Y4M video for chromium's fake camera: the
// ticket's real QR code (tickets.QRPNG, as the ticket page draws it),
// scaled to fill most of a 640×480 frame with a white margin, held for two
// seconds, then three seconds of an empty frame, looped by chromium. A
// student shows the ticket, lowers the phone, and shows it again.
func writeCameraFile(t *testing.T, token string) string {
	t.Helper()
	const w, h, box, fps = 640, 480, 448, 4
	pngBytes, err := tickets.QRPNG(token)
	if err != nil {
		t.Fatal(err)
	}
	qr, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	b := qr.Bounds()
	side := max(b.Dx(), b.Dy())
	qrFrame := make([]byte, w*h)
	blank := make([]byte, w*h)
	for i := range qrFrame {
		qrFrame[i], blank[i] = 255, 200
	}
	x0, y0 := (w-box)/2, (h-box)/2
	for y := range box {
		for x := range box {
			// Nearest neighbour keeps the modules' edges sharp.
			r, g, bl, _ := qr.At(b.Min.X+x*side/box, b.Min.Y+y*side/box).RGBA()
			qrFrame[(y0+y)*w+x0+x] = byte((299*r + 587*g + 114*bl) / 1000 >> 8)
		}
	}
	chroma := bytes.Repeat([]byte{128}, w*h/2) // U and V planes of 4:2:0, grey
	path := filepath.Join(t.TempDir(), "ticket.y4m")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(f)
	fmt.Fprintf(out, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	for i := range 5 * fps {
		luma := qrFrame
		if i >= 2*fps {
			luma = blank
		}
		out.WriteString("FRAME\n")
		out.Write(luma)
		out.Write(chroma)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// The phone camera, for real: chromium's fake camera plays a video of a
// real ticket's QR code; the scanner (the browser's BarcodeDetector, or
// the vendored ZXing polyfill with its WebAssembly served by festa) reads
// it and shows ADMIT, and when the same ticket is shown again, ALREADY
// USED.
func TestGateCameraScansATicket(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	token := bookTicket(t, app, "10101", "C12")
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2, Flags: map[string]any{
		"use-fake-device-for-media-stream": true,
		"use-fake-ui-for-media-stream":     true,
		"use-file-for-fake-video-capture":  writeCameraFile(t, token),
	}})
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	setUpScanner(t, app, run, "정문")
	var text string
	run(
		chromedp.Click(`#camera-toggle`),
		chromedp.WaitVisible(`#camera-view video`),
		chromedp.WaitVisible(`#verdict [data-result="admitted"]`),
		chromedp.Text(`#verdict [data-result]`, &text),
	)
	if !strings.Contains(text, "C12") {
		t.Errorf("admit screen says %q", text)
	}
	run(
		chromedp.WaitNotPresent(`#verdict [data-result]`),
		chromedp.WaitVisible(`#verdict [data-result="already-used"]`),
		chromedp.WaitNotPresent(`#verdict [data-result]`),
	)
	save(t, ctx, "gate-camera-phone.png")
	// Without a native detector, the polyfill's WebAssembly came from festa.
	var native bool
	var wasm []string
	run(
		chromedp.Evaluate(`"BarcodeDetector" in window`, &native),
		chromedp.Evaluate(`performance.getEntriesByType("resource").map(e => e.name).filter(n => n.endsWith(".wasm"))`, &wasm),
	)
	if !native && (len(wasm) != 1 || !strings.HasPrefix(wasm[0], app.URL+"/static/vendor/zxing_reader.")) {
		t.Errorf("the barcode WebAssembly came from %v, want festa's own", wasm)
	}
	t.Logf("native BarcodeDetector: %v; wasm: %v", native, wasm)
	if n := app.Count(t, `SELECT count(*) FROM check_ins`); n != 1 {
		t.Errorf("%d check-ins, want 1", n)
	}
}

// gateDoor is another door, over HTTP: the council account scanning at
// gate, online.
func gateDoor(t *testing.T, app *apptest.App, gate string) func(token string) string {
	t.Helper()
	c := app.NewClient(t)
	c.Get("/staff/login")
	if status, _ := c.Post("/staff/login", url.Values{"username": {"council"}, "password": {staffPassword(t, app, "council")}}, false); status != http.StatusSeeOther {
		t.Fatalf("council sign-in: %d", status)
	}
	c.Get("/gate?" + url.Values{"performance": {"opening"}, "gate": {gate}}.Encode())
	return func(token string) string {
		_, body := c.Post("/gate/scan", url.Values{"performance": {"opening"}, "gate": {gate}, "token": {token}}, true)
		return body
	}
}

// A door loses the network: it goes on admitting valid tickets and
// refusing forged ones on its own, queues the scans, and syncs them when
// the network returns; a ticket it let in that had already got in at
// another door is reported as a duplicate. A guest's ticket (the desk's,
// no student) is admitted with the guest's name and label, once.
func TestGateOfflineOnAPhone(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 4})
	t1 := bookTicket(t, app, "10101", "D1")
	t2 := bookTicket(t, app, "10102", "D2")
	guest := guestTicket(t, app, "D5", "박지민")
	// One byte of the payload changed.
	i := strings.Index(t1, ".") + 12
	forged := t1[:i] + map[bool]string{true: "B", false: "A"}[t1[i] == 'A'] + t1[i+1:]
	if forged == t1 {
		t.Fatal("the forged token is the real one")
	}
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	setUpScanner(t, app, run, "정문")
	run(chromedp.WaitReady(`#gate[data-list-at]`))
	// D2 gets in at the back door after this door fetched its list.
	if body := gateDoor(t, app, "후문")(t2); !strings.Contains(body, `data-result="admitted"`) {
		t.Fatalf("back door: %s", body)
	}

	// A phone without WebCrypto's Ed25519 loads @noble/ed25519 with the
	// list; this one has it, so the fallback is loaded by hand, to be
	// measured offline below.
	var preloaded bool
	run(chromedp.Evaluate(`festaGate.verify(`+"`"+t1+"`"+`, "noble").then(c => !!c)`, &preloaded, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !preloaded {
		t.Fatal("@noble/ed25519 refused the real token online")
	}
	run(network.EmulateNetworkConditions(true, 0, -1, -1), chromedp.WaitVisible(`#gate-net[data-online="false"]`))
	var text string
	wedge := func(token, result string) {
		t.Helper()
		run(
			chromedp.WaitNotPresent(`#verdict [data-result]`),
			chromedp.KeyEvent(token+kb.Enter),
			chromedp.WaitVisible(`#verdict [data-result="`+result+`"] [data-offline-verdict]`),
			chromedp.Text(`#verdict [data-result]`, &text),
		)
	}
	wedge(t1, "admitted")
	if !strings.Contains(text, "D1") || !strings.Contains(text, "1학년 1반 1번") || !strings.Contains(text, "오프라인 판정") {
		t.Errorf("offline admit says %q", text)
	}
	save(t, ctx, "gate-offline-admitted-phone.png")
	wedge(forged, "invalid")
	wedge(t1, "already-used")
	if !strings.Contains(text, "정문") {
		t.Errorf("offline already-used says %q", text)
	}
	wedge(t2, "admitted") // the list is stale: a duplicate in the making
	wedge(guest, "admitted")
	if !strings.Contains(text, "D5") || !strings.Contains(text, "박지민") || !strings.Contains(text, "손님") || strings.Contains(text, "학년") {
		t.Errorf("offline admit of a guest says %q", text)
	}
	save(t, ctx, "gate-offline-guest-phone.png")
	wedge(guest, "already-used")
	if !strings.Contains(text, "박지민") || !strings.Contains(text, "정문") {
		t.Errorf("offline already-used of a guest says %q", text)
	}
	var queued string
	run(chromedp.Text(`#gate-queue`, &queued))
	if queued != "6" {
		t.Errorf("queue shows %q, want 6", queued)
	}
	if n := app.Count(t, `SELECT count(*) FROM scan_log`); n != 1 {
		t.Fatalf("%d scans reached the server while offline", n)
	}

	// In-browser verification, both ways, while offline: the real token
	// verifies, the forged one does not; the time per ticket is logged for
	// docs/BENCHMARKS.md.
	var perTicket map[string]float64
	run(chromedp.Evaluate(`(async () => {
		const out = {};
		for (const impl of ["webcrypto", "noble"]) {
			if (!await festaGate.verify(`+"`"+t1+"`"+`, impl)) throw new Error(impl + " refused the real token");
			if (await festaGate.verify(`+"`"+forged+"`"+`, impl)) throw new Error(impl + " accepted the forged token");
			const n = 200, t0 = performance.now();
			for (let i = 0; i < n; i++) await festaGate.verify(`+"`"+t1+"`"+`, impl);
			out[impl] = (performance.now() - t0) / n;
		}
		return out;
	})()`, &perTicket, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) }))
	t.Logf("in-browser verification per ticket: WebCrypto %.3f ms, @noble/ed25519 %.3f ms", perTicket["webcrypto"], perTicket["noble"])

	// The network returns: the queue drains and the duplicate shows.
	run(
		network.EmulateNetworkConditions(false, 0, -1, -1),
		chromedp.WaitVisible(`#gate-net[data-online="true"]`),
		chromedp.Poll(`document.getElementById("gate-queue").textContent === "0"`, nil),
		chromedp.WaitVisible(`#gate-duplicates li[data-duplicate-seat="D2"]`),
		chromedp.WaitNotPresent(`#verdict [data-result]`),
	)
	save(t, ctx, "gate-duplicate-phone.png")
	if n := app.Count(t, `SELECT count(*) FROM scan_log WHERE offline`); n != 6 {
		t.Errorf("%d offline scans synced, want 6", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM check_ins c JOIN tickets t ON t.id = c.ticket_id WHERE t.guest_name = '박지민' AND c.gate = '정문'`); n != 1 {
		t.Error("the guest's offline admission was not recorded at its door")
	}
	if n := app.Count(t, `SELECT count(*) FROM check_ins c JOIN tickets t ON t.id = c.ticket_id JOIN seats s ON s.id = t.seat_id WHERE s.label = 'D1' AND c.gate = '정문'`); n != 1 {
		t.Error("the offline admission was not recorded at its door")
	}
	if n := app.Count(t, `SELECT count(*) FROM scan_log WHERE local_result = 'admitted' AND result = 'already-used'`); n != 1 {
		t.Errorf("%d duplicates recorded, want 1", n)
	}
}

// The scanner's pages and every kind of verdict screen, in Korean and
// English, have no serious or critical accessibility violation (axe-core).
func TestGatePagesPassAxe(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	token := bookTicket(t, app, "10101", "B3")
	for _, lang := range []string{"ko-KR,ko", "en-US,en"} {
		ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2, Lang: lang})
		run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
		check := func(what string) {
			t.Helper()
			for _, v := range browsertest.Axe(t, ctx) {
				t.Errorf("%s, %s: %s", lang, what, v)
			}
		}
		run(dark(),
			chromedp.Navigate(app.URL+"/staff/login?next=%2Fgate"),
			chromedp.WaitVisible(`input[name="username"]`),
			chromedp.SendKeys(`input[name="username"]`, "gate"),
			chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "gate")),
			chromedp.Submit(`input[name="password"]`),
			chromedp.WaitVisible(`#gate-setup`),
		)
		check("set-up")
		run(chromedp.SendKeys(`#gate-name`, "A"), chromedp.Submit(`#gate-name`), chromedp.WaitVisible(`#scan-token`))
		check("scanner")
		for _, tc := range []struct{ token, result string }{{token, "admitted"}, {token, "already-used"}, {"F1.nope", "invalid"}} {
			run(
				chromedp.WaitNotPresent(`#verdict [data-result]`),
				chromedp.KeyEvent(tc.token+kb.Enter),
				chromedp.WaitVisible(`#verdict [data-result="`+tc.result+`"]`),
			)
			check(tc.result)
		}
		app.Exec(t, `DELETE FROM check_ins`)
	}
}

// A door whose phone lost the Wi-Fi reloads the scanner, or opens /gate
// as from the home screen: the service worker (scope /gate) answers with
// the page it kept, the scanner admits a valid ticket typed by the
// keyboard wedge on its own and queues it, and nothing reaches the server
// until the network is back, when the scan is synced. Signing out removes
// the kept page and its worker, and keeps the door's queue.
func TestGateScannerOpensOffline(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	token := bookTicket(t, app, "10101", "D7")
	// The browser talks to festa through a front the test cuts with the
	// network, so it knows what the page still asked for while offline.
	front := newWifiFront(t, app.URL)
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	offline := &offlineSwitch{t: t, page: ctx, front: front}
	setUpScannerAt(t, front.URL, app, run, "정문")
	var scannerURL string
	run(
		chromedp.Location(&scannerURL),
		chromedp.WaitReady(`#gate[data-list-at]`, chromedp.ByQuery),
		chromedp.Poll(`navigator.serviceWorker.getRegistration("/gate").then(r => !!(r && r.active))`,
			nil, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitReady(`html[data-offline="ready"]`, chromedp.ByQuery),
	)

	offline.set(true)
	var scope, controller, online string
	var kept []string
	run(
		chromedp.Reload(),
		chromedp.WaitVisible(`#scan-token`),
		chromedp.Evaluate(`navigator.serviceWorker.getRegistration().then(r => r ? r.scope : "")`, &scope, awaitPromise),
		chromedp.Evaluate(`navigator.serviceWorker.controller ? navigator.serviceWorker.controller.scriptURL : ""`, &controller),
		chromedp.WaitVisible(`#gate-net[data-online="false"]`),
		chromedp.Evaluate(`caches.open("festa-gate-v1").then(c => c.keys()).then(ks => ks.map(k => { const u = new URL(k.url); return u.pathname + u.search; }))`, &kept, awaitPromise),
	)
	if scope != front.URL+"/gate" || controller != front.URL+"/sw.js" {
		t.Errorf("service worker scope %q, controller %q; want %s/gate and %s/sw.js", scope, controller, front.URL, front.URL)
	}
	// The page and the files it uses, and the vendored files loaded only
	// when needed; never the ticket list's JSON or the scans.
	for _, want := range []string{"/gate", "/static/js/gate.", "/static/css/app.", "/static/vendor/noble-ed25519.", "/static/vendor/barcode-detector.", "/static/vendor/zxing_reader."} {
		if !slices.ContainsFunc(kept, func(k string) bool { return k == want || (strings.HasSuffix(want, ".") && strings.HasPrefix(k, want)) }) {
			t.Errorf("the gate's cache lacks %s: %v", want, kept)
		}
	}
	for _, k := range kept {
		if !strings.HasPrefix(k, "/static/") && k != "/gate" && !strings.HasPrefix(k, "/gate?performance=") {
			t.Errorf("the gate's cache holds %s", k)
		}
	}
	// /gate, as the home screen opens it, comes back to the door.
	var doors []*cdp.Node
	run(
		chromedp.Navigate(front.URL+"/gate"),
		chromedp.WaitVisible(`#scan-token`),
		chromedp.Nodes(`#gate[data-gate="정문"][data-performance="opening"]`, &doors, chromedp.AtLeast(0)),
	)
	if len(doors) != 1 {
		t.Error("/gate offline did not open the remembered door's scanner")
	}
	save(t, ctx, "gate-offline-reloaded-phone.png")
	var text, queued, count string
	run(
		chromedp.KeyEvent(token+kb.Enter),
		chromedp.WaitVisible(`#verdict [data-result="admitted"] [data-offline-verdict]`),
		chromedp.Text(`#verdict [data-result]`, &text),
		chromedp.Text(`#gate-queue`, &queued),
		chromedp.Text(`#gate-count`, &count),
	)
	if !strings.Contains(text, "D7") || queued != "1" || count != "1" {
		t.Errorf("offline admit: %q, queue %q, count %q", text, queued, count)
	}
	// The page and its files came from the worker and the scan stayed in
	// the queue. The one request the page may still have sent is the
	// ticket list's refresh, from the reloaded page's first script when
	// Chromium's emulation had not reached it yet (a phone really offline
	// says so from the start); it failed, and the kept list decided.
	for _, r := range front.triedWhileCut() {
		if !strings.HasPrefix(r, "GET /gate/offline?") {
			t.Errorf("the offline scanner asked the network for %s", r)
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM scan_log`); n != 0 {
		t.Fatalf("%d scans reached the server while offline", n)
	}

	// Back online: the queue drains into one admission at this door.
	offline.set(false)
	run(
		chromedp.WaitVisible(`#gate-net[data-online="true"]`),
		chromedp.Poll(`document.getElementById("gate-queue").textContent === "0"`, nil),
		chromedp.Text(`#gate-count`, &online),
	)
	if n := app.Count(t, `SELECT count(*) FROM check_ins WHERE gate = '정문'`); n != 1 {
		t.Errorf("%d check-ins at 정문 after the sync, want 1", n)
	}
	if online != "1" {
		t.Errorf("door count %q after the sync, want 1", online)
	}

	// Sign-out: the kept page and its worker go, the queue stays.
	var queueKept bool
	run(
		chromedp.WaitNotPresent(`#verdict [data-result]`),
		chromedp.Click(`form[action="/staff/logout"] button`),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.Poll(`Promise.all([caches.keys(), navigator.serviceWorker.getRegistrations()]).then(([k, r]) => k.length + r.length === 0)`,
			nil, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`localStorage.getItem("festa.gate.queue.opening.정문") !== null && localStorage.getItem("festa.gate.list.opening") === null`, &queueKept),
	)
	if !queueKept {
		t.Error("sign-out cleared the door's queue, or kept the ticket list")
	}
	offline.set(true)
	err := chromedp.Run(ctx, chromedp.Navigate(scannerURL))
	var shown int
	run(chromedp.Evaluate(`document.querySelectorAll("#scan-token").length`, &shown))
	if err == nil || shown != 0 {
		t.Errorf("after sign-out the scanner still opens offline (navigation error %v, %d scanners shown)", err, shown)
	}
}

// The door's counts follow the other doors live: another door admits a
// ticket (over HTTP, as its phone would) and this scanner's total moves
// over its WebSocket while its own count stays, then its own admission
// moves both. The server's periodic catch-up is an hour, so only the
// check-in's notification can carry it.
func TestGateCountsFollowOtherDoorsLive(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 4, LiveCatchUp: time.Hour})
	t1 := bookTicket(t, app, "10101", "E1")
	t2 := bookTicket(t, app, "10102", "E2")
	t3 := bookTicket(t, app, "10103", "E3")
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	run := func(actions ...chromedp.Action) { t.Helper(); browsertest.Run(t, ctx, actions...) }
	setUpScanner(t, app, run, "정문")
	run(chromedp.WaitReady(`#gate[data-live="open"]`, chromedp.ByQuery))
	counts := func(door, total string) {
		t.Helper()
		run(chromedp.Poll(`document.getElementById("gate-count").textContent === "`+door+`" && `+
			`document.querySelector("#gate-tally [data-tally-total]").textContent === "`+total+`"`,
			nil, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	}
	back := gateDoor(t, app, "후문")
	if body := back(t1); !strings.Contains(body, `data-result="admitted"`) {
		t.Fatalf("back door: %s", body)
	}
	counts("0", "1")
	if body := back(t2); !strings.Contains(body, `data-result="admitted"`) {
		t.Fatalf("back door: %s", body)
	}
	counts("0", "2")
	run(
		chromedp.KeyEvent(t3+kb.Enter),
		chromedp.WaitVisible(`#verdict [data-result="admitted"]`),
		chromedp.WaitNotPresent(`#verdict [data-result]`),
	)
	counts("1", "3")
	save(t, ctx, "gate-counts-phone.png")
}

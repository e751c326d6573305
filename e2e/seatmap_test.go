package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// A hall that looks like the opening minute: seats sold through the real
// booking flow by some students, others held (in SQL, for an hour).
func fillHall(t *testing.T, app *apptest.App, sold, held []string) {
	t.Helper()
	n := 1 // Students[0] is left for the test's own browser
	for _, seat := range sold {
		c := app.NewClient(t)
		c.SignIn(app.Demo.Students[n].No)
		n++
		c.Get("/p/opening")
		if status, body := c.Post("/p/opening/hold", url.Values{"seat": {seat}}, true); status != http.StatusOK {
			t.Fatalf("hold %s: %d\n%.300s", seat, status, body)
		}
		if status, body := c.Post("/p/opening/confirm", url.Values{"seat": {seat}}, true); status >= 400 {
			t.Fatalf("confirm %s: %d\n%.300s", seat, status, body)
		}
	}
	for _, seat := range held {
		app.Exec(t, `UPDATE performance_seats ps SET state = 'held', held_until = now() + interval '1 hour',
			student_id = (SELECT id FROM students WHERE student_no = $2)
			FROM seats s, performances p
			WHERE s.id = ps.seat_id AND p.id = ps.performance_id AND p.slug = 'opening' AND s.label = $1`,
			seat, app.Demo.Students[n].No)
		n++
	}
}

// saveView writes a screenshot of what is on the screen (not the whole
// page: on a phone the dock sticks to the bottom of the screen, and that
// is what a student sees).
func saveView(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FESTA_SCREENSHOTS")
	if dir == "" {
		return
	}
	var buf []byte
	browsertest.Run(t, ctx, chromedp.CaptureScreenshot(&buf))
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tap touches the middle of the element sel, as a finger does.
func tap(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	var xy []float64
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const b = document.querySelector(`+jsString(sel)+`).getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`, &xy))
	browsertest.Run(t, ctx,
		input.DispatchTouchEvent(input.TouchStart, []*input.TouchPoint{{X: xy[0], Y: xy[1]}}),
		input.DispatchTouchEvent(input.TouchEnd, []*input.TouchPoint{}))
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// rect is an element's box on the screen.
type rect struct{ Left, Top, Right, Bottom, Width, Height float64 }

func box(t *testing.T, ctx context.Context, sel string) rect {
	t.Helper()
	var r rect
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const b = document.querySelector(`+jsString(sel)+`).getBoundingClientRect();
		return {Left: b.left, Top: b.top, Right: b.right, Bottom: b.bottom, Width: b.width, Height: b.height}; })()`, &r))
	return r
}

// The phone picker, on a 390 px phone: the whole hall fits the screen as
// an overview above the dock with the seats-left card uncovered; a tap
// zooms in around it to seats of at least 44 px, with a minimap that
// frames the part in view; a tap on a zoomed seat holds it.
func TestSeatMapOnAPhone(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 30})
	fillHall(t, app, []string{"C12", "C13", "D10", "E14", "E15", "F8", "G20", "H3", "J16", "K9", "L22", "M14"},
		[]string{"C14", "D11", "E16", "H4", "K10", "N15"})
	student := app.Demo.Students[0]
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/login?next=%2Fp%2Fopening"),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, student.No),
		chromedp.SendKeys(`input[name="code"]`, student.Code),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#seat-E15`),
		chromedp.WaitVisible(`#live-status[data-live="open"]`),
	)

	// The overview: every column of the hall on the screen, nothing to
	// scroll sideways, and the count above the map, clear of the dock.
	var fits bool
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const f = document.getElementById("seatmap-frame");
		const a = document.getElementById("seat-A1").getBoundingClientRect(), z = document.getElementById("seat-T30").getBoundingClientRect();
		return f.scrollWidth <= f.clientWidth + 1 && a.left >= 0 && z.right <= innerWidth; })()`, &fits))
	if !fits {
		t.Error("the overview does not show the whole hall's width")
	}
	occ, dock := box(t, ctx, "#occupancy"), box(t, ctx, ".dock")
	if occ.Bottom > dock.Top || occ.Top < 0 {
		t.Errorf("the seats-left card %+v is not in view above the dock %+v", occ, dock)
	}
	if hall := box(t, ctx, "#seatmap-frame"); hall.Top >= dock.Top {
		t.Errorf("the map %+v starts under the dock %+v", hall, dock)
	}
	saveView(t, ctx, "seatmap-overview-phone.png")

	tap(t, ctx, "#seat-K15")
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#seatmap-frame.is-zoomed`), chromedp.WaitVisible(`#minimap`))
	seat := box(t, ctx, "#seat-K15")
	if seat.Width < 44 || seat.Height < 44 {
		t.Errorf("a zoomed seat measures %.1f × %.1f px, want at least 44", seat.Width, seat.Height)
	}
	frame, dock := box(t, ctx, "#seatmap-frame"), box(t, ctx, ".dock")
	if seat.Left < frame.Left || seat.Right > frame.Right || seat.Top < frame.Top || seat.Bottom > frame.Bottom || frame.Bottom > dock.Top+1 {
		t.Errorf("the tapped seat %+v is not in the zoomed frame %+v above the dock %+v", seat, frame, dock)
	}
	// The minimap frames the part of the hall in view: as wide a part of
	// the hall as the frame shows of the grid.
	var view []float64
	var share float64
	browsertest.Run(t, ctx,
		chromedp.Poll(`document.getElementById("minimap").dataset.view && document.getElementById("minimap").dataset.view.split(",").map(Number)`, &view, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Evaluate(`document.getElementById("seatmap-frame").clientWidth / document.getElementById("seatmap").offsetWidth`, &share),
	)
	if len(view) != 4 || view[2] < share-0.02 || view[2] > share+0.02 || view[0] <= 0 || view[0]+view[2] >= 1 {
		t.Errorf("minimap view %v, want a part %.2f of the hall wide, inside it", view, share)
	}
	// The best-seat button and the list picker are still on the screen.
	if best := box(t, ctx, "#best-seat"); best.Top < 0 || best.Bottom > 844 {
		t.Errorf("zoomed, the best-seat button %+v is off the screen", best)
	}
	saveView(t, ctx, "seatmap-zoomed-phone.png")

	tap(t, ctx, "#seat-K15")
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#seat-K15[data-state="mine"]`), chromedp.WaitVisible(`#confirm-hold`))
	if n := app.Count(t, `SELECT count(*) FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
		JOIN students st ON st.id = ps.student_id WHERE s.label = 'K15' AND ps.state = 'held' AND st.student_no = $1`, student.No); n != 1 {
		t.Errorf("K15 is not held by the student (%d rows)", n)
	}
}

// A laptop shows every seat's number on the overview, and the seat under
// the mouse its label in a tooltip.
func TestSeatMapOnADesktop(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 30})
	fillHall(t, app, []string{"C12", "C13", "D10", "E14", "E15", "F8", "G20", "H3", "J16", "K9", "L22", "M14"},
		[]string{"C14", "D11", "E16", "H4", "K10", "N15"})
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	browsertest.Run(t, ctx, dark(), chromedp.Navigate(app.URL+"/p/opening"), chromedp.WaitVisible(`#live-status[data-live="open"]`))
	var number map[string]float64
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const s = document.getElementById("seat-K15"), r = document.createRange();
		r.selectNodeContents(s); const b = r.getBoundingClientRect();
		return {font: parseFloat(getComputedStyle(s).fontSize), width: b.width, height: b.height}; })()`, &number))
	if number["font"] < 8 || number["width"] < 6 || number["height"] < 6 {
		t.Errorf("K15's number is not visible on a desktop: %v", number)
	}
	k := box(t, ctx, "#seat-K16")
	browsertest.Run(t, ctx, chromedp.MouseEvent(input.MouseMoved, k.Left+k.Width/2, k.Top+k.Height/2))
	var tip string
	browsertest.Run(t, ctx, chromedp.Poll(`(() => { const t = document.querySelector(".seat-tip"); return t && !t.hidden && t.textContent; })()`, &tip, chromedp.WithPollingTimeout(5*time.Second)))
	if !strings.HasPrefix(tip, "K16") {
		t.Errorf("tooltip %q, want K16 first", tip)
	}
	saveView(t, ctx, "seatmap-desktop.png")
}

// Before sales open (the demo's night) every seat looks and reads as not
// bookable yet, one countdown runs, and a tap holds nothing.
func TestSeatMapBeforeSales(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	student := app.Demo.Students[0]
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/login?next=%2Fp%2Fnight"),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, student.No),
		chromedp.SendKeys(`input[name="code"]`, student.Code),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#seat-E15`),
	)
	var state struct {
		Seats, Disabled, Clocks int
		Opacity                 float64
		Sales                   string
	}
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => {
		const seats = [...document.querySelectorAll("#seatmap [data-seat]")];
		const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden"; };
		return {Seats: seats.length, Disabled: seats.filter(s => s.getAttribute("aria-disabled") === "true").length,
			Clocks: [...document.querySelectorAll("[data-countdown-to]")].filter(visible).length,
			Opacity: +getComputedStyle(document.getElementById("seat-E15")).opacity,
			Sales: document.getElementById("seatmap-frame").dataset.sales}; })()`, &state))
	if state.Seats != 600 || state.Disabled != 600 {
		t.Errorf("%d of %d seats are aria-disabled before sales open", state.Disabled, state.Seats)
	}
	if state.Clocks != 1 {
		t.Errorf("%d countdowns on the screen, want one", state.Clocks)
	}
	if state.Sales != "soon" || state.Opacity > 0.6 {
		t.Errorf("the map is not drawn locked: data-sales %q, a seat's opacity %v", state.Sales, state.Opacity)
	}
	var note string
	browsertest.Run(t, ctx, chromedp.Text(`#sales-note`, &note))
	if !strings.Contains(note, "예매 전") {
		t.Errorf("sales note %q", note)
	}
	saveView(t, ctx, "seatmap-before-sales-phone.png")

	// A tap zooms (looking around is fine); a tap on a zoomed seat holds
	// nothing and asks nothing of the server.
	before := app.Fingerprint(t)
	tap(t, ctx, "#seat-E15")
	browsertest.Run(t, ctx, chromedp.WaitVisible(`#seatmap-frame.is-zoomed`))
	tap(t, ctx, "#seat-E15")
	time.Sleep(time.Second)
	var panel string
	browsertest.Run(t, ctx, chromedp.Text(`#hold-panel`, &panel))
	if app.Fingerprint(t) != before || strings.Contains(panel, "E15") {
		t.Errorf("a tap before sales changed something: panel %q", panel)
	}
}

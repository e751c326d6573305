package components

// THROWAWAY: renders preview pages and screenshots. Delete before commit.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/websocket"

	"festa/booking"
	"festa/browsertest"
)

type fileAssets struct{}

func (fileAssets) URL(name string) string { return "/static/" + name }

// previewServer serves the preview pages from /tmp, the static files, and
// a WebSocket that stays open and, a second in, sends live changes.
func previewServer(t *testing.T) string {
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir("/work/main/static"))))
	mux.Handle("/ws/", websocket.Handler(func(ws *websocket.Conn) {
		time.Sleep(time.Second)
		ctx := langCtx(t, "ko")
		var b strings.Builder
		Seat(SeatView{Label: "H10", RowLabel: "H", Number: 10, State: "sold", Holder: "q"}, true).Render(ctx, &b)
		Seat(SeatView{Label: "G18", RowLabel: "G", Number: 18, State: "held", Holder: "me"}, true).Render(ctx, &b)
		websocket.Message.Send(ws, b.String())
		var x string
		websocket.Message.Receive(ws, &x)
	}))
	mux.Handle("/", http.FileServer(http.Dir("/tmp")))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func previewView(now time.Time) PerformanceView {
	v := testView()
	v.Title = "개막 공연"
	v.HallName = "대강당"
	v.Hall = bigHall()
	v.Now = now
	v.StartsAt = time.Date(2026, 5, 22, 10, 0, 0, 0, time.UTC)
	// A mine seat drawn by the server, one turned mine by festa.js.
	v.Hall.Rows[6].Cells[15].State, v.Hall.Rows[6].Cells[15].Holder = "mine", "me"
	v.Hall.Rows[6].Cells[16].State, v.Hall.Rows[6].Cells[16].Holder = "held", "me"
	v.Hall.Rows[19].Cells[1].State, v.Hall.Rows[19].Cells[1].Holder = "sold", "zz"
	occ := Occupancy{}
	for _, r := range v.Hall.Rows {
		for _, c := range r.Cells {
			if c == nil {
				continue
			}
			switch c.State {
			case "sold":
				occ.Sold++
			case "held", "mine":
				occ.Held++
			case "available":
				occ.Available++
			}
		}
	}
	occ.Capacity = occ.Sold + occ.Held + occ.Available
	v.Occupancy = occ
	return v
}

func writePreview(t *testing.T, name, lang string, p Page, v PerformanceView) string {
	out := render(t, langCtx(t, lang), PerformancePage(p, v))
	path := "/tmp/" + name + ".html"
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return "/" + name + ".html"
}

func TestZZPreview(t *testing.T) {
	if os.Getenv("FESTA_PREVIEW") == "" {
		t.Skip("preview only")
	}
	now := time.Now()
	base := previewServer(t)
	p := Page{Title: "개막 공연", Lang: "ko", CSRF: "tok", Path: "%2Fp%2Fopening", Assets: fileAssets{}, ServerNow: now, Student: &Viewer{Name: "김하늘", ID: "20315"}}

	hold := previewView(now)
	hold.MyHolds = []SeatView{*hold.Hall.Rows[6].Cells[15]}
	hold.MyHolds[0].HeldUntil = now.Add(4*time.Minute + 31*time.Second)
	urls := map[string]string{}
	urls["hold"] = writePreview(t, "perf", "ko", p, hold)

	open := previewView(now)
	open.Message = "누군가 방금 G17을 잡았어요. 다른 좌석을 골라 주세요."
	urls["open"] = writePreview(t, "perf-open", "ko", p, open)

	soon := previewView(now)
	soon.Status, soon.SalesOpenAt = booking.SalesSoon, now.Add(26*time.Minute+12*time.Second)
	pe := p
	pe.Lang = "en"
	urls["soon"] = writePreview(t, "perf-soon", "en", pe, soon)

	paused := previewView(now)
	paused.Status, paused.PauseMessage = booking.SalesPaused, "음향 점검 중이에요. 10분 뒤에 다시 열어요."
	paused.SignedIn, paused.HolderTag = false, ""
	ps := p
	ps.Student = nil
	urls["paused"] = writePreview(t, "perf-paused", "ko", ps, paused)

	ticket := previewView(now)
	ticket.MyTickets = []TicketLink{{ID: "abc", SeatLabel: "G16"}}
	urls["ticket"] = writePreview(t, "perf-ticket", "en", pe, ticket)

	shots := []struct {
		name, page   string
		w, h         int
		mobile, dark bool
		full         bool
		act          []chromedp.Action
	}{
		{name: "perf-phone", page: "hold", w: 390, h: 844, mobile: true, dark: true},
		{name: "perf-phone-full", page: "hold", w: 390, h: 844, mobile: true, dark: true, full: true},
		{name: "perf-phone-open", page: "open", w: 390, h: 844, mobile: true, dark: true},
		{name: "perf-phone-light", page: "open", w: 390, h: 844, mobile: true},
		{name: "perf-phone-zoomed", page: "open", w: 390, h: 844, mobile: true, dark: true, act: []chromedp.Action{
			chromedp.ActionFunc(func(ctx context.Context) error {
				var r []float64
				if err := chromedp.Evaluate(`(function(){var b=document.getElementById("seat-H15").getBoundingClientRect();return [b.left+b.width/2,b.top+b.height/2]})()`, &r).Do(ctx); err != nil {
					return err
				}
				return chromedp.Tasks{chromedp.Evaluate(`window.scrollTo(0, document.getElementById("seatmap").getBoundingClientRect().top + scrollY - 60)`, nil)}.Do(ctx)
			}),
			chromedp.ActionFunc(func(ctx context.Context) error {
				var r []float64
				if err := chromedp.Evaluate(`(function(){var b=document.getElementById("seat-H15").getBoundingClientRect();return [b.left+b.width/2,b.top+b.height/2]})()`, &r).Do(ctx); err != nil {
					return err
				}
				if err := input.DispatchTouchEvent(input.TouchStart, []*input.TouchPoint{{X: r[0], Y: r[1]}}).Do(ctx); err != nil {
					return err
				}
				return input.DispatchTouchEvent(input.TouchEnd, []*input.TouchPoint{}).Do(ctx)
			}),
		}},
		{name: "perf-phone-soon", page: "soon", w: 390, h: 844, mobile: true, dark: true},
		{name: "perf-phone-paused", page: "paused", w: 390, h: 844, mobile: true, dark: true},
		{name: "perf-desktop", page: "hold", w: 1280, h: 900, dark: true},
		{name: "perf-desktop-light", page: "open", w: 1280, h: 900},
		{name: "perf-desktop-soon", page: "soon", w: 1280, h: 900, dark: true},
		{name: "perf-desktop-ticket", page: "ticket", w: 1280, h: 900},
	}
	for _, s := range shots {
		ctx := browsertest.New(t, browsertest.Options{Width: s.w, Height: s.h, Mobile: s.mobile, Scale: 1})
		scheme := "light"
		if s.dark {
			scheme = "dark"
		}
		browsertest.Run(t, ctx,
			emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}),
			chromedp.Navigate(base+urls[s.page]),
			chromedp.Sleep(1500*time.Millisecond),
		)
		if len(s.act) > 0 {
			browsertest.Run(t, ctx, s.act...)
			browsertest.Run(t, ctx, chromedp.Sleep(300*time.Millisecond))
		}
		path := fmt.Sprintf("/tmp/%s.png", s.name)
		if s.full {
			browsertest.Screenshot(t, ctx, path)
		} else {
			var buf []byte
			browsertest.Run(t, ctx, chromedp.CaptureScreenshot(&buf))
			os.WriteFile(path, buf, 0o644)
		}
		t.Log(path)
	}
}

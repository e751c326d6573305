package components

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/a-h/templ"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coder/websocket"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"festa/browsertest"
	"festa/i18n"
	"festa/sales"
)

// fakeAssets serves every asset from /static/ unhashed.
type fakeAssets struct{}

func (fakeAssets) URL(name string) string { return "/static/" + name }

func langCtx(t testing.TB, lang string) context.Context {
	t.Helper()
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return i18n.WithLocalizer(context.Background(), b.Localizer(lang))
}

func render(t testing.TB, ctx context.Context, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "⟦") {
		t.Fatalf("a message id is missing from the catalogue:\n%s", s)
	}
	return buf.String()
}

// fragment parses markup as the children of a <body>, the way htmx reads a
// response.
func fragment(t testing.TB, s string) []*html.Node {
	t.Helper()
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		t.Fatal(err)
	}
	var els []*html.Node
	for _, n := range nodes {
		switch {
		case n.Type == html.ElementNode:
			els = append(els, n)
		case n.Type == html.TextNode && strings.TrimSpace(n.Data) == "":
		default:
			t.Errorf("top-level %v node %q is not an element", n.Type, n.Data)
		}
	}
	return els
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// find returns every element under the nodes for which match is true.
func find(nodes []*html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return out
}

func hasAttr(key string) func(*html.Node) bool {
	return func(n *html.Node) bool { _, ok := attr(n, key); return ok }
}

func byID(t testing.TB, nodes []*html.Node, id string) *html.Node {
	t.Helper()
	found := find(nodes, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id })
	if len(found) != 1 {
		t.Fatalf("%d elements with id %q", len(found), id)
	}
	return found[0]
}

// testHall is three rows of six seats with an aisle after the third:
//
//	A: 1 available, 2 held by someone, 3 sold | 4 available, 5 available, 6 accessible
//	B: 1 blocked, 2 mine, 3 available         | 4 mine (held), 5 sold, 6 available
//	C: 1 accessible held, 2..3 available      | 4 sold, 5 missing, 6 available
func testHall() Hall {
	spec := map[string][]string{
		"A": {"available", "held", "sold", "available", "available", "available"},
		"B": {"blocked", "mine", "available", "mine", "sold", "available"},
		"C": {"held", "available", "available", "sold", "", "available"},
	}
	accessible := map[string]bool{"A6": true, "C1": true}
	h := Hall{Cols: 7}
	for _, row := range []string{"A", "B", "C"} {
		r := HallRow{Label: row, Cells: make([]*SeatView, 7)}
		for i, state := range spec[row] {
			if state == "" {
				continue
			}
			n := i + 1
			s := &SeatView{Label: fmt.Sprintf("%s%d", row, n), RowLabel: row, Number: n, State: state, Accessible: accessible[fmt.Sprintf("%s%d", row, n)]}
			switch state {
			case "held":
				s.Holder, s.HeldUntil = "other", time.Date(2026, 5, 20, 9, 4, 0, 0, time.UTC)
			case "sold":
				s.Holder = "other"
			case "mine":
				s.Holder = "me"
			}
			x := i
			if i >= 3 {
				x++ // the aisle
			}
			r.Cells[x] = s
		}
		h.Rows = append(h.Rows, r)
	}
	return h
}

func seatsOf(h Hall) []SeatView {
	var out []SeatView
	for _, r := range h.Rows {
		for _, c := range r.Cells {
			if c != nil {
				out = append(out, *c)
			}
		}
	}
	return out
}

var testNow = time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)

func testView() PerformanceView {
	return PerformanceView{
		Slug: "opening", Title: "개막 공연", HallName: "대강당",
		StartsAt:    time.Date(2026, 5, 22, 10, 0, 0, 0, time.UTC),
		SalesOpenAt: testNow.Add(-time.Hour), SalesCloseAt: testNow.Add(48 * time.Hour),
		Status: sales.Open, HoldSeconds: 300, TicketLimit: 1,
		SignedIn: true, HolderTag: "me", CSRF: "tok",
		Hall:      testHall(),
		Occupancy: Occupancy{Capacity: 16, Sold: 3, Held: 4, Available: 9},
		Horizon:   41,
		Now:       testNow,
	}
}

func TestSeatMapSeats(t *testing.T) {
	v := testView()
	want := map[string][2]string{ // label → Korean, English accessible name
		"A1": {"A열 좌석 1, 예매 가능", "Row A, seat 1, available"},
		"A2": {"A열 좌석 2, 잠시 선점됨", "Row A, seat 2, on hold"},
		"A3": {"A열 좌석 3, 판매됨", "Row A, seat 3, sold"},
		"A6": {"A열 좌석 6, 휠체어석, 예매 가능", "Row A, seat 6, wheelchair space, available"},
		"B1": {"B열 좌석 1, 선택 불가", "Row B, seat 1, not for sale"},
		"B2": {"B열 좌석 2, 내 좌석", "Row B, seat 2, your seat"},
		"C1": {"C열 좌석 1, 휠체어석, 잠시 선점됨", "Row C, seat 1, wheelchair space, on hold"},
	}
	for li, lang := range []string{"ko", "en"} {
		doc := fragment(t, render(t, langCtx(t, lang), SeatMap(v)))
		seats := find(doc, hasAttr("data-seat"))
		all := seatsOf(v.Hall)
		if len(seats) != len(all) {
			t.Fatalf("%s: %d seat elements, want %d", lang, len(seats), len(all))
		}
		for i, s := range all {
			n := seats[i]
			if id, _ := attr(n, "id"); id != "seat-"+s.Label {
				t.Errorf("seat %d: id %q, want seat-%s", i, id, s.Label)
			}
			if ds, _ := attr(n, "data-seat"); ds != s.Label {
				t.Errorf("%s: data-seat %q", s.Label, ds)
			}
			if st, _ := attr(n, "data-state"); st != s.State {
				t.Errorf("%s: data-state %q, want %q", s.Label, st, s.State)
			}
			if n.Data != "button" {
				t.Errorf("%s is a <%s>, want a button", s.Label, n.Data)
			}
			if typ, _ := attr(n, "type"); typ != "submit" {
				t.Errorf("%s: type %q", s.Label, typ)
			}
			if name, _ := attr(n, "name"); name != "seat" {
				t.Errorf("%s: name %q", s.Label, name)
			}
			if val, _ := attr(n, "value"); val != s.Label {
				t.Errorf("%s: value %q", s.Label, val)
			}
			label, _ := attr(n, "aria-label")
			if w, ok := want[s.Label]; ok && label != w[li] {
				t.Errorf("%s %s: aria-label %q, want %q", lang, s.Label, label, w[li])
			}
			if label == "" {
				t.Errorf("%s %s: no aria-label", lang, s.Label)
			}
			kind, hasKind := attr(n, "data-kind")
			if s.Accessible != (hasKind && kind == "accessible") {
				t.Errorf("%s: data-kind %q, accessible %v", s.Label, kind, s.Accessible)
			}
			disabled, _ := attr(n, "aria-disabled")
			if wantDisabled := s.State == "sold" || s.State == "blocked"; wantDisabled != (disabled == "true") {
				t.Errorf("%s (%s): aria-disabled %q", s.Label, s.State, disabled)
			}
			if _, ok := attr(n, "disabled"); ok {
				t.Errorf("%s: disabled seats must stay focusable (aria-disabled, not disabled)", s.Label)
			}
			if h, _ := attr(n, "data-holder"); h != s.Holder {
				t.Errorf("%s: data-holder %q, want %q", s.Label, h, s.Holder)
			}
			if _, ok := attr(n, "hx-swap-oob"); ok {
				t.Errorf("%s: a seat on the page must not be out of band", s.Label)
			}
		}
	}
}

// The map is a grid: the stage, then per row a label, every column (seat
// or gap) and a label again; the whole of it is one form posting to hold.
func TestSeatMapGridAndForm(t *testing.T) {
	v := testView()
	doc := fragment(t, render(t, langCtx(t, "ko"), SeatMap(v)))
	if len(doc) != 1 || doc[0].Data != "form" {
		t.Fatalf("SeatMap is %d top-level elements, want one form", len(doc))
	}
	form := doc[0]
	for k, want := range map[string]string{"id": "seat-form", "method": "post", "action": "/p/opening/hold", "hx-post": "/p/opening/hold", "hx-target": "#hold-panel", "hx-swap": "outerHTML"} {
		if got, _ := attr(form, k); got != want {
			t.Errorf("form %s=%q, want %q", k, got, want)
		}
	}
	csrf := find(doc, func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "_csrf" })
	if len(csrf) != 1 {
		t.Fatalf("%d _csrf fields", len(csrf))
	}
	if val, _ := attr(csrf[0], "value"); val != "tok" {
		t.Errorf("_csrf = %q", val)
	}
	grid := byID(t, doc, "seatmap")
	if cols, _ := attr(grid, "data-cols"); cols != "9" {
		t.Errorf("data-cols %q, want 9 (7 columns and two labels)", cols)
	}
	if style, _ := attr(grid, "style"); style != "--cols:9;" {
		t.Errorf("style %q", style)
	}
	// Whose seats are whose is the page's business, on the frame: the
	// grid itself is the same for every viewer.
	frame := byID(t, doc, "seatmap-frame")
	if tag, _ := attr(frame, "data-holder-tag"); tag != "me" {
		t.Errorf("data-holder-tag %q", tag)
	}
	if s, _ := attr(frame, "data-mine-suffix"); s != "(내 좌석)" {
		t.Errorf("data-mine-suffix %q", s)
	}
	if _, ok := attr(grid, "data-holder-tag"); ok {
		t.Error("the grid carries a viewer's holder tag")
	}
	var kids []*html.Node
	for c := grid.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			kids = append(kids, c)
		}
	}
	if len(kids) != 1+3*9 {
		t.Fatalf("grid has %d children, want the stage and 3 rows of 9", len(kids))
	}
	if cls, _ := attr(kids[0], "class"); cls != "stage" || kids[0].FirstChild == nil || kids[0].FirstChild.Data != "무대" {
		t.Errorf("first child is not the stage: %v", kids[0])
	}
	for r, row := range []string{"A", "B", "C"} {
		cells := kids[1+r*9 : 1+(r+1)*9]
		for _, end := range []*html.Node{cells[0], cells[8]} {
			if cls, _ := attr(end, "class"); cls != "row-label" || end.FirstChild.Data != row {
				t.Errorf("row %s is not labelled at both ends", row)
			}
		}
		if cells[4].Data != "i" || cells[4].FirstChild != nil {
			t.Errorf("row %s: column 4 is not an aisle gap: <%s>", row, cells[4].Data)
		}
	}
	if kids[1+2*9+6].Data != "i" {
		t.Error("the missing seat C5 is not a gap")
	}
}

func TestSeatOutOfBand(t *testing.T) {
	ctx := langCtx(t, "ko")
	s := SeatView{Label: "C12", RowLabel: "C", Number: 12, State: "held", Holder: "x"}
	for _, oob := range []bool{true, false} {
		out := render(t, ctx, Seat(s, oob))
		els := fragment(t, out)
		if len(els) != 1 {
			t.Fatalf("oob=%v: %d top-level elements", oob, len(els))
		}
		if id, _ := attr(els[0], "id"); id != "seat-C12" {
			t.Errorf("id %q", id)
		}
		v, ok := attr(els[0], "hx-swap-oob")
		if oob != ok || (ok && v != "true") {
			t.Errorf("oob=%v: hx-swap-oob=%q (present %v)", oob, v, ok)
		}
	}
	// Six hundred of these make a page: keep each one small.
	plain := render(t, ctx, Seat(SeatView{Label: "C12", RowLabel: "C", Number: 12, State: "available"}, false))
	if len(plain) > 170 {
		t.Errorf("an available seat is %d bytes, want at most 170:\n%s", len(plain), plain)
	}
}

func TestBookingUpdateIsOutOfBand(t *testing.T) {
	v := testView()
	v.MyHolds = []SeatView{{Label: "A1", RowLabel: "A", Number: 1, State: "mine", Holder: "me", HeldUntil: testNow.Add(4 * time.Minute)}}
	changed := []SeatView{*v.Hall.Rows[0].Cells[0], *v.Hall.Rows[1].Cells[1]}
	changed[0].State, changed[0].Holder = "mine", "me"
	els := fragment(t, render(t, langCtx(t, "ko"), BookingUpdate(v, changed)))
	if len(els) != 1+len(changed)+2 {
		t.Fatalf("%d top-level elements, want the panel, %d seats, occupancy and messages", len(els), len(changed))
	}
	wantIDs := []string{"hold-panel", "seat-A1", "seat-B2", "occupancy", "messages"}
	for i, n := range els {
		id, _ := attr(n, "id")
		if id != wantIDs[i] {
			t.Errorf("element %d: id %q, want %q", i, id, wantIDs[i])
		}
		oob, ok := attr(n, "hx-swap-oob")
		if i == 0 && ok {
			t.Errorf("the hold panel is the request's target and must not be out of band")
		}
		if i > 0 && (!ok || oob != "true") {
			t.Errorf("%s: hx-swap-oob=%q", id, oob)
		}
	}
	if st, _ := attr(els[1], "data-state"); st != "mine" {
		t.Errorf("changed seat state %q", st)
	}
	if els[4].FirstChild != nil {
		t.Error("the messages area must come back empty")
	}
	if live, _ := attr(els[4], "aria-live"); live != "polite" {
		t.Errorf("messages aria-live %q", live)
	}
}

func TestOccupancyBar(t *testing.T) {
	o := Occupancy{Capacity: 588, Sold: 120, Held: 56, Available: 412}
	for _, oob := range []bool{false, true} {
		els := fragment(t, render(t, langCtx(t, "en"), OccupancyBar(o, oob)))
		if len(els) != 1 {
			t.Fatalf("%d top-level elements", len(els))
		}
		n := els[0]
		for k, want := range map[string]string{"id": "occupancy", "data-capacity": "588", "data-sold": "120", "data-held": "56", "data-available": "412"} {
			if got, _ := attr(n, k); got != want {
				t.Errorf("%s=%q, want %q", k, got, want)
			}
		}
		if _, ok := attr(n, "hx-swap-oob"); ok != oob {
			t.Errorf("oob=%v but hx-swap-oob present=%v", oob, ok)
		}
		text := textOf(n)
		for _, w := range []string{"412", "seats left", "of 588", "sold", "120", "on hold", "56", "free"} {
			if !strings.Contains(text, w) {
				t.Errorf("occupancy text lacks %q: %q", w, text)
			}
		}
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// postsTo finds the form that posts to path with htmx and as a plain form.
func postsTo(t *testing.T, doc []*html.Node, path string) *html.Node {
	t.Helper()
	forms := find(doc, func(n *html.Node) bool {
		hx, _ := attr(n, "hx-post")
		action, _ := attr(n, "action")
		method, _ := attr(n, "method")
		return n.Data == "form" && hx == path && action == path && method == "post"
	})
	if len(forms) == 0 {
		t.Fatalf("no form posts to %s", path)
	}
	f := forms[0]
	csrf := find([]*html.Node{f}, func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "_csrf" })
	if len(csrf) != 1 {
		t.Errorf("form %s has %d _csrf fields", path, len(csrf))
	} else if v, _ := attr(csrf[0], "value"); v != "tok" {
		t.Errorf("form %s: _csrf %q", path, v)
	}
	return f
}

func TestHoldPanel(t *testing.T) {
	ko := langCtx(t, "ko")
	panel := func(t *testing.T, v PerformanceView) ([]*html.Node, string) {
		t.Helper()
		els := fragment(t, render(t, ko, HoldPanel(v, false)))
		if len(els) != 1 {
			t.Fatalf("%d top-level elements", len(els))
		}
		if id, _ := attr(els[0], "id"); id != "hold-panel" {
			t.Fatalf("id %q", id)
		}
		return els, textOf(els[0])
	}

	t.Run("signed out", func(t *testing.T) {
		v := testView()
		v.SignedIn, v.HolderTag = false, ""
		doc, text := panel(t, v)
		links := find(doc, func(n *html.Node) bool { h, _ := attr(n, "href"); return h == "/login?next=%2Fp%2Fopening" })
		if len(links) != 1 || !strings.Contains(textOf(links[0]), "로그인하고 좌석 고르기") {
			t.Errorf("no sign-in link: %q", text)
		}
		if len(find(doc, func(n *html.Node) bool { return n.Data == "form" })) != 0 {
			t.Error("a signed-out panel offers forms")
		}
	})

	t.Run("soon", func(t *testing.T) {
		v := testView()
		v.Status, v.SalesOpenAt = sales.Soon, testNow.Add(90*time.Minute+5*time.Second)
		doc, text := panel(t, v)
		clocks := find(doc, hasAttr("data-countdown-to"))
		if len(clocks) != 1 {
			t.Fatalf("%d countdowns", len(clocks))
		}
		if to, _ := attr(clocks[0], "data-countdown-to"); to != "2026-05-20T10:30:05Z" {
			t.Errorf("data-countdown-to %q", to)
		}
		if now, _ := attr(clocks[0], "data-server-now"); now != "2026-05-20T09:00:00Z" {
			t.Errorf("data-server-now %q", now)
		}
		if got := textOf(clocks[0]); got != "1시간 30분 05초" {
			t.Errorf("countdown text %q", got)
		}
		if !strings.Contains(text, "예매 시작까지") {
			t.Errorf("text %q", text)
		}
		if len(find(doc, hasAttr("hx-post"))) != 0 {
			t.Error("the panel offers booking before sales open")
		}
	})

	t.Run("paused", func(t *testing.T) {
		v := testView()
		v.Status, v.PauseMessage = sales.Paused, "음향 점검 중이에요. 10분 뒤에 다시 열어요."
		doc, text := panel(t, v)
		// The reason is on the page's banner, right above; the panel says
		// only that sales are paused.
		if !strings.Contains(text, "예매가 잠시 멈췄어요") {
			t.Errorf("text %q", text)
		}
		if len(find(doc, hasAttr("hx-post"))) != 0 {
			t.Error("the panel offers booking while paused")
		}
	})

	t.Run("closed", func(t *testing.T) {
		v := testView()
		v.Status = sales.Closed
		doc, text := panel(t, v)
		if !strings.Contains(text, "마감") {
			t.Errorf("text %q", text)
		}
		if len(find(doc, hasAttr("hx-post"))) != 0 {
			t.Error("the panel offers booking after sales closed")
		}
	})

	t.Run("open, no hold", func(t *testing.T) {
		doc, text := panel(t, testView())
		best := postsTo(t, doc, "/p/opening/best")
		for k, want := range map[string]string{"hx-target": "#hold-panel", "hx-swap": "outerHTML"} {
			if got, _ := attr(best, k); got != want {
				t.Errorf("best form %s=%q", k, got)
			}
		}
		if !strings.Contains(text, "가장 좋은 자리 잡기") || !strings.Contains(text, "좌석을 누르거나") {
			t.Errorf("text %q", text)
		}
		picker := postsTo(t, doc, "/p/opening/hold")
		rows := find([]*html.Node{picker}, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "select" && v == "row" })
		seats := find([]*html.Node{picker}, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "select" && v == "seat" })
		if len(rows) != 1 || len(seats) != 1 {
			t.Fatalf("list picker: %d row and %d seat selects", len(rows), len(seats))
		}
		var rowOpts []string
		for _, o := range find(rows, func(n *html.Node) bool { return n.Data == "option" }) {
			v, _ := attr(o, "value")
			rowOpts = append(rowOpts, v)
		}
		if strings.Join(rowOpts, ",") != "A,B,C" {
			t.Errorf("row options %v", rowOpts)
		}
		// Without JavaScript the seat list is every free seat; the form
		// posts the option's value (its text unless it says more).
		var seatOpts []string
		for _, o := range find(seats, func(n *html.Node) bool { return n.Data == "option" }) {
			v, ok := attr(o, "value")
			if !ok {
				v = textOf(o)
			}
			seatOpts = append(seatOpts, v)
		}
		if got := strings.Join(seatOpts, ","); got != "A1,A4,A5,A6,B3,B6,C2,C3,C6" {
			t.Errorf("seat options %s", got)
		}
		if len(find(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "pick-submit" })) != 1 {
			t.Error("no hold button in the list picker")
		}
	})

	t.Run("hold", func(t *testing.T) {
		v := testView()
		v.MyHolds = []SeatView{{Label: "B4", RowLabel: "B", Number: 4, State: "mine", Holder: "me", HeldUntil: testNow.Add(4*time.Minute + 30*time.Second)}}
		doc, text := panel(t, v)
		if !strings.Contains(text, "B4") || !strings.Contains(text, "이 좌석으로 확정") {
			t.Errorf("text %q", text)
		}
		clocks := find(doc, hasAttr("data-expires-at"))
		if len(clocks) != 1 {
			t.Fatalf("%d hold countdowns", len(clocks))
		}
		if at, _ := attr(clocks[0], "data-expires-at"); at != "2026-05-20T09:04:30Z" {
			t.Errorf("data-expires-at %q", at)
		}
		if now, _ := attr(clocks[0], "data-server-now"); now != "2026-05-20T09:00:00Z" {
			t.Errorf("data-server-now %q", now)
		}
		if got := textOf(clocks[0]); got != "4분 30초" {
			t.Errorf("countdown text %q", got)
		}
		confirm := postsTo(t, doc, "/p/opening/confirm")
		if b := find([]*html.Node{confirm}, func(n *html.Node) bool { return n.Data == "button" }); len(b) != 1 {
			t.Errorf("confirm form has %d buttons", len(b))
		} else if _, dis := attr(b[0], "disabled"); dis {
			t.Error("confirm is disabled while sales are open")
		}
		release := postsTo(t, doc, "/p/opening/release")
		seat := find([]*html.Node{release}, func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "seat" })
		if len(seat) != 1 {
			t.Fatalf("release form has %d seat fields", len(seat))
		}
		if val, _ := attr(seat[0], "value"); val != "B4" {
			t.Errorf("release seat %q", val)
		}
		if len(find(doc, func(n *html.Node) bool { hx, _ := attr(n, "hx-post"); return hx == "/p/opening/best" })) != 0 {
			t.Error("a student with a hold is offered another seat")
		}
	})

	t.Run("ticket", func(t *testing.T) {
		v := testView()
		v.MyTickets = []TicketLink{{ID: "0f8c2a", SeatLabel: "C3"}}
		doc, text := panel(t, v)
		if !strings.Contains(text, "예매 완료: C3") {
			t.Errorf("text %q", text)
		}
		if len(find(doc, func(n *html.Node) bool { h, _ := attr(n, "href"); return h == "/tickets/0f8c2a" })) != 1 {
			t.Error("no link to the ticket")
		}
		if len(find(doc, hasAttr("hx-post"))) != 0 {
			t.Error("a student at the ticket limit is offered another seat")
		}
	})
}

func TestPerformancePage(t *testing.T) {
	p := Page{Title: "개막 공연", Lang: "ko", CSRF: "tok", Path: "%2Fp%2Fopening", Assets: fakeAssets{}, ServerNow: testNow.Add(500 * time.Millisecond)}
	v := testView()
	v.Message = "누군가 방금 A2를 잡았어요. 다른 좌석을 골라 주세요."
	doc := fragment(t, render(t, langCtx(t, "ko"), PerformancePage(p, v)))
	live := find(doc, hasAttr("ws-connect"))
	if len(live) != 1 {
		t.Fatalf("%d ws-connect elements", len(live))
	}
	// The socket is told where the page stands, so it sends nothing the
	// page already has; #live-version says the same for reconnects.
	if url, _ := attr(live[0], "ws-connect"); url != "/ws/p/opening?v=41&t=1779267600" {
		t.Errorf("ws-connect %q, want /ws/p/opening?v=41&t=1779267600 (version 41 at %v)", url, testNow)
	}
	at := byID(t, live, "live-version")
	if v, _ := attr(at, "data-v"); v != "41" {
		t.Errorf("#live-version data-v %q", v)
	}
	if ts, _ := attr(at, "data-t"); ts != "1779267600" {
		t.Errorf("#live-version data-t %q", ts)
	}
	if _, ok := attr(at, "hidden"); !ok {
		t.Error("#live-version is not hidden")
	}
	if ext, _ := attr(live[0], "hx-ext"); ext != "ws" {
		t.Errorf("hx-ext %q", ext)
	}
	// The live regions sit inside the socket's element.
	for _, id := range []string{"seat-form", "occupancy", "hold-panel", "messages", "live-status", "seat-A1"} {
		byID(t, live, id)
	}
	if got := textOf(byID(t, doc, "messages")); got != v.Message {
		t.Errorf("messages %q", got)
	}
	if now := find(doc, hasAttr("data-server-now")); len(now) == 0 {
		t.Error("no data-server-now")
	} else if got, _ := attr(now[0], "data-server-now"); got != "2026-05-20T09:00:00Z" {
		t.Errorf("page data-server-now %q", got)
	}
	status := byID(t, doc, "live-status")
	for _, k := range []string{"data-label-open", "data-label-closed"} {
		if v, _ := attr(status, k); v == "" {
			t.Errorf("live-status lacks %s", k)
		}
	}
	if len(find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "legend mt-4" })) != 1 {
		t.Error("no legend")
	}

	// Before sales open: one countdown, the opening moment in Korea time,
	// and a map that looks and reads as not bookable yet.
	t.Run("soon", func(t *testing.T) {
		v := testView()
		v.Status, v.SalesOpenAt = sales.Soon, testNow.Add(26*time.Hour)
		p := p
		p.Lang = "en"
		doc := fragment(t, render(t, langCtx(t, "en"), PerformancePage(p, v)))
		clocks := find(doc, hasAttr("data-countdown-to"))
		if len(clocks) != 1 {
			t.Fatalf("%d countdowns to the opening, want one", len(clocks))
		}
		if got := textOf(clocks[0]); got != "1d 02h 00m 00s" {
			t.Errorf("countdown %q", got)
		}
		opening := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return strings.HasPrefix(c, "opening ") })
		if len(opening) != 1 || !strings.Contains(textOf(opening[0]), "Sales open") || !strings.Contains(textOf(opening[0]), "Thu 21 May, 20:00 KST") {
			t.Errorf("the opening moment is not shown in Korea time: %q", textOf(byID(t, doc, "main")))
		}
		if s, _ := attr(byID(t, doc, "seatmap-frame"), "data-sales"); s != "soon" {
			t.Errorf("frame data-sales %q, want soon", s)
		}
		if note := textOf(byID(t, doc, "sales-note")); !strings.Contains(note, "Not on sale yet") {
			t.Errorf("sales note %q", note)
		}
	})

	t.Run("paused", func(t *testing.T) {
		v := testView()
		v.Status, v.PauseMessage = sales.Paused, "Sound check, back at 18:10."
		doc := fragment(t, render(t, langCtx(t, "en"), PerformancePage(p, v)))
		banners := find(doc, func(n *html.Node) bool { c, _ := attr(n, "class"); return strings.Contains(c, "pause-banner") })
		if len(banners) != 1 || !strings.Contains(textOf(banners[0]), v.PauseMessage) {
			t.Errorf("no pause banner with the message")
		}
	})
}

// bigHall is the demo hall: rows A–T, seats 1–30, aisles after 8 and 22.
func bigHall() Hall {
	h := Hall{Cols: 32}
	for r := 0; r < 20; r++ {
		row := string(rune('A' + r))
		hr := HallRow{Label: row, Cells: make([]*SeatView, 32)}
		for n := 1; n <= 30; n++ {
			x := n - 1
			if n > 8 {
				x++
			}
			if n > 22 {
				x++
			}
			s := &SeatView{Label: fmt.Sprintf("%s%d", row, n), RowLabel: row, Number: n, State: "available"}
			switch {
			case (row == "P" || row == "Q") && n >= 13 && n <= 18:
				s.State = "blocked"
			case (r*31+n*7)%11 == 0:
				s.State, s.Holder = "sold", fmt.Sprintf("h%06x", r*100+n)
			case (r*17+n*5)%23 == 0:
				s.State, s.Holder = "held", fmt.Sprintf("h%06x", r*100+n)
			}
			s.Accessible = row == "T" && (n <= 2 || n >= 29)
			hr.Cells[x] = s
		}
		h.Rows = append(h.Rows, hr)
	}
	return h
}

// The page budget: a phone on a school network gets the 600-seat page,
// its CSS and scripts in under 100 KB compressed. The HTML's share is
// about 30 KB.
func TestPerformancePageSize(t *testing.T) {
	p := Page{Title: "개막 공연", Lang: "ko", CSRF: "tok", Assets: fakeAssets{}, ServerNow: testNow, Student: &Viewer{Name: "김하늘", ID: "20315"}}
	v := testView()
	v.Hall = bigHall()
	v.Occupancy = Occupancy{Capacity: 588, Sold: 50, Held: 25, Available: 513}
	for _, lang := range []string{"ko", "en"} {
		out := render(t, langCtx(t, lang), PerformancePage(p, v))
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write([]byte(out))
		w.Close()
		t.Logf("%s: 600-seat page: %d bytes raw, %d bytes gzip -9", lang, len(out), z.Len())
		if z.Len() > 30_000 {
			t.Errorf("%s: the 600-seat page is %d bytes compressed, over the 30 KB budget", lang, z.Len())
		}
		if n := strings.Count(out, `data-seat="`); n != 600 {
			t.Errorf("%s: %d seats", lang, n)
		}
	}
}

func BenchmarkPerformancePage(b *testing.B) {
	p := Page{Title: "개막 공연", Lang: "ko", CSRF: "tok", Assets: fakeAssets{}, ServerNow: testNow}
	v := testView()
	v.Hall = bigHall()
	ctx := langCtx(b, "ko")
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := PerformancePage(p, v).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// closeSocket, put on a scriptPage's live channel, closes the socket with
// 1012 (service restart), which the ws extension answers by reconnecting.
const closeSocket = "\x00close"

// scriptPage serves the performance page, the static files, a hold
// endpoint answering with BookingUpdate, and a WebSocket that forwards
// whatever the test puts on live; the query of each socket it accepts
// goes to sockets.
func scriptPage(t *testing.T, v PerformanceView) (url string, live chan<- string, holds <-chan string) {
	url, live, holds, _ = scriptPageSockets(t, v)
	return url, live, holds
}

func scriptPageSockets(t *testing.T, v PerformanceView) (url string, live chan<- string, holds, sockets <-chan string) {
	t.Helper()
	ko := langCtx(t, "ko")
	liveCh, holdCh, sockCh := make(chan string), make(chan string, 10), make(chan string, 10)
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir("../static"))))
	mux.HandleFunc("GET /p/opening", func(w http.ResponseWriter, r *http.Request) {
		p := Page{Title: v.Title, Lang: "ko", CSRF: "tok", Assets: fakeAssets{}, ServerNow: time.Now(), Student: &Viewer{Name: "김하늘", ID: "20315"}}
		PerformancePage(p, v).Render(ko, w)
	})
	mux.HandleFunc("POST /p/opening/hold", func(w http.ResponseWriter, r *http.Request) {
		label := r.FormValue("seat")
		holdCh <- label
		u := v
		u.Now = time.Now()
		n, _ := strconv.Atoi(label[1:])
		s := SeatView{Label: label, RowLabel: label[:1], Number: n, State: "mine", Holder: "me", HeldUntil: time.Now().Add(5 * time.Minute)}
		u.MyHolds = []SeatView{s}
		BookingUpdate(u, []SeatView{s}).Render(ko, w)
	})
	mux.HandleFunc("/ws/p/opening", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		sockCh <- r.URL.RawQuery
		for msg := range liveCh {
			if msg == closeSocket {
				c.Close(websocket.StatusServiceRestart, "restart")
				return
			}
			if c.Write(context.Background(), websocket.MessageText, []byte(msg)) != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { close(liveCh); srv.Close() })
	return srv.URL + "/p/opening", liveCh, holdCh, sockCh
}

// festa.js on the performance page, in a real browser (a phone-sized
// one): the map is one Tab stop that the arrow keys move through, a
// student's own seats are drawn as theirs, the list picker offers the
// chosen row's free seats, the live indicator follows the socket, a seat
// changed live is swapped in place, a tap on the overview zooms in instead
// of holding, and a tap on a zoomed seat holds it.
func TestSeatMapScript(t *testing.T) {
	v := testView()
	v.Hall.Rows[0].Cells[1].Holder = "me" // A2: held by this student, sent as "held"
	url, live, _ := scriptPage(t, v)
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true})
	// Close the browser gracefully, so it is done writing its profile
	// before the profile directory is removed.
	str := func(expr string) string {
		t.Helper()
		var out string
		browsertest.Run(t, ctx, chromedp.Evaluate(expr, &out))
		return out
	}
	focused := func() string { return str(`document.activeElement.id`) }
	key := func(k string) { t.Helper(); browsertest.Run(t, ctx, chromedp.KeyEvent(k)) }
	wait := func(expr string) {
		t.Helper()
		var ok bool
		browsertest.Run(t, ctx, chromedp.Poll(expr, &ok, chromedp.WithPollingTimeout(5*time.Second)))
	}

	browsertest.Run(t, ctx, chromedp.Navigate(url))
	wait(`document.getElementById("live-status").dataset.live === "open"`)
	if got := str(`document.querySelector("#live-status [data-live-text]").textContent`); got != "실시간" {
		t.Errorf("live indicator says %q", got)
	}

	// Mine, from the holder tag.
	if got := str(`document.getElementById("seat-A2").dataset.state`); got != "mine" {
		t.Errorf("A2, held by this student, is drawn %q", got)
	}
	if got := str(`document.getElementById("seat-A2").getAttribute("aria-label")`); got != "A열 좌석 2, 잠시 선점됨 (내 좌석)" {
		t.Errorf("A2 is named %q", got)
	}

	// One Tab stop, on the first free seat; arrows skip aisles and gaps.
	if got := str(`[...document.querySelectorAll("#seatmap [tabindex='0']")].map(e => e.id).join()`); got != "seat-A1" {
		t.Errorf("tab stops: %q", got)
	}
	browsertest.Run(t, ctx, chromedp.Focus("#seat-A1", chromedp.ByQuery))
	for _, step := range []struct{ key, want string }{
		{kb.ArrowRight, "seat-A2"}, {kb.ArrowRight, "seat-A3"}, {kb.ArrowRight, "seat-A4"},
		{kb.ArrowDown, "seat-B4"}, {kb.ArrowDown, "seat-C4"}, {kb.ArrowRight, "seat-C6"},
		{kb.ArrowUp, "seat-B6"}, {kb.Home, "seat-B1"}, {kb.End, "seat-B6"},
		{kb.PageUp, "seat-A6"}, {kb.PageDown, "seat-C6"}, {kb.ArrowDown, "seat-C6"}, {kb.ArrowLeft, "seat-C4"},
	} {
		key(step.key)
		if got := focused(); got != step.want {
			t.Fatalf("after %q focus is on %q, want %q", step.key, got, step.want)
		}
	}
	if got := str(`[...document.querySelectorAll("#seatmap [tabindex='0']")].map(e => e.id).join()`); got != "seat-C4" {
		t.Errorf("the tab stop did not follow the focus: %q", got)
	}

	// The list picker reads the row's free seats from the map.
	if got := str(`(() => { const f = document.querySelector("[data-picker]"), r = f.querySelector("[data-pick-row]");
		r.value = "B"; r.dispatchEvent(new Event("change", {bubbles: true}));
		return [...f.querySelector("[data-pick-seat]").options].map(o => o.value).join(); })()`); got != "B3,B6" {
		t.Errorf("row B offers %q, want B3,B6", got)
	}

	// A live change: swapped in place, mine applied, focus and tab stop kept.
	var msg bytes.Buffer
	Seat(SeatView{Label: "C4", RowLabel: "C", Number: 4, State: "available"}, true).Render(langCtx(t, "ko"), &msg)
	Seat(SeatView{Label: "C6", RowLabel: "C", Number: 6, State: "available"}, true).Render(langCtx(t, "ko"), &msg)
	Seat(SeatView{Label: "A1", RowLabel: "A", Number: 1, State: "sold", Holder: "other"}, true).Render(langCtx(t, "ko"), &msg)
	Seat(SeatView{Label: "A5", RowLabel: "A", Number: 5, State: "held", Holder: "me"}, true).Render(langCtx(t, "ko"), &msg)
	OccupancyBar(Occupancy{Capacity: 16, Sold: 4, Held: 4, Available: 8}, true).Render(langCtx(t, "ko"), &msg)
	live <- msg.String()
	wait(`document.getElementById("seat-A1").dataset.state === "sold"`)
	if got := str(`["A1", "A5", "C4"].map(l => document.getElementById("seat-" + l).dataset.state).join()`); got != "sold,mine,available" {
		t.Errorf("after the live update: %s", got)
	}
	if got := str(`["A1", "C4", "C6"].map(l => document.getElementById("seat-" + l).classList.contains("pulse")).join()`); got != "true,true,false" {
		t.Errorf("pulse (A1 and C4 changed, C6 did not): %s", got)
	}
	if got := focused(); got != "seat-C4" {
		t.Errorf("focus after the live update: %q", got)
	}
	if got := str(`[...document.querySelectorAll("#seatmap [tabindex='0']")].map(e => e.id).join()`); got != "seat-C4" {
		t.Errorf("tab stops after the live update: %q", got)
	}
	if got := str(`document.getElementById("occupancy").dataset.available`); got != "8" {
		t.Errorf("occupancy after the live update: %q", got)
	}

	var width float64
	// A full state (after a reconnect) is the whole grid: swapped as one,
	// mine reapplied, only real changes pulse, the tab stop and the focus
	// kept.
	full := testHall() // as it is now: the live update and B6 sold
	set := func(label, state, holder string) {
		for _, r := range full.Rows {
			for _, c := range r.Cells {
				if c != nil && c.Label == label {
					c.State, c.Holder = state, holder
				}
			}
		}
	}
	set("A2", "held", "me")
	set("A1", "sold", "other")
	set("A5", "held", "me")
	set("C4", "available", "")
	set("B6", "sold", "other")
	msg.Reset()
	SeatGrid(full, true).Render(langCtx(t, "ko"), &msg)
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("seat-A1").classList.remove("pulse"); document.getElementById("seat-C4").classList.remove("pulse")`, nil))
	live <- msg.String()
	wait(`document.getElementById("seat-B6").dataset.state === "sold"`)
	if got := str(`[...document.querySelectorAll("#seatmap .pulse")].map(e => e.id).join()`); got != "seat-B6" {
		t.Errorf("after the full state these pulse: %q, want seat-B6 only", got)
	}
	if got := str(`document.getElementById("seat-A2").dataset.state`); got != "mine" {
		t.Errorf("A2 after the full state: %q", got)
	}
	if got := str(`[...document.querySelectorAll("#seatmap [tabindex='0']")].map(e => e.id).join() + " " + document.activeElement.id`); got != "seat-C4 seat-C4" {
		t.Errorf("tab stop and focus after the full state: %q", got)
	}

	// In the demo hall a phone shows seats too small to tap: a tap on the
	// overview zooms in (seats of 44 px, the minimap showing the part in
	// view) and holds nothing; a tap on a zoomed seat holds it.
	big := testView()
	big.Hall = bigHall()
	url, bigLive, holds := scriptPage(t, big)
	browsertest.Run(t, ctx, chromedp.Navigate(url))
	tap := func(sel string) {
		t.Helper()
		var xy []float64
		browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const b = document.querySelector("`+sel+`").getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`, &xy))
		browsertest.Run(t, ctx,
			input.DispatchTouchEvent(input.TouchStart, []*input.TouchPoint{{X: xy[0], Y: xy[1]}}),
			input.DispatchTouchEvent(input.TouchEnd, []*input.TouchPoint{}))
	}
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("seatmap").scrollIntoView()`, nil))
	if got := str(`document.getElementById("zoom-toggle").hidden + "," + document.getElementById("zoom-toggle").textContent`); got != "false,확대" {
		t.Errorf("zoom toggle on a phone: %s", got)
	}
	if got := str(`document.getElementById("minimap").hidden + ""`); got != "true" {
		t.Errorf("the minimap shows on the overview (hidden=%s)", got)
	}
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("seat-K15").getBoundingClientRect().width`, &width))
	if width >= 44 {
		t.Errorf("an overview seat on a phone is %v px wide", width)
	}
	tap("#seat-K15")
	wait(`document.getElementById("seatmap-frame").classList.contains("is-zoomed")`)
	if got := str(`document.getElementById("zoom-toggle").textContent`); got != "전체 보기" {
		t.Errorf("zoomed, the toggle says %q", got)
	}
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("seat-K15").getBoundingClientRect().width`, &width))
	if width < 44 {
		t.Errorf("a zoomed seat is %v px wide, want at least 44", width)
	}
	var inView bool
	inFrame := `(() => { const b = document.getElementById("seat-K15").getBoundingClientRect(), f = document.getElementById("seatmap-frame").getBoundingClientRect();
		return b.left >= f.left && b.right <= f.right && b.top >= f.top && b.bottom <= f.bottom && f.bottom <= document.querySelector(".dock").getBoundingClientRect().top; })()`
	browsertest.Run(t, ctx, chromedp.Evaluate(inFrame, &inView))
	if !inView {
		t.Error("the tapped seat is not in view (in the frame, above the dock) after zooming")
	}
	// The minimap is shown and frames the part of the hall in view: K15 is
	// in the middle of the hall, so the frame is around the middle.
	wait(`!document.getElementById("minimap").hidden && !!document.getElementById("minimap").dataset.view`)
	var view []float64
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("minimap").dataset.view.split(",").map(Number)`, &view))
	if len(view) != 4 || view[2] <= 0 || view[2] >= 0.6 || view[0] > 0.5 || view[0]+view[2] < 0.5 || view[3] <= 0 || view[3] >= 1 {
		t.Errorf("minimap view %v (x, y, width, height as fractions of the hall), want a part around the middle", view)
	}
	// A tap on the minimap's left edge pans the frame to the hall's left.
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const c = document.getElementById("minimap"), r = c.getBoundingClientRect();
		c.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true, clientX: r.left + 1, clientY: r.top + r.height / 2, pointerId: 1}));
		c.dispatchEvent(new PointerEvent("pointerup", {bubbles: true, pointerId: 1})); })()`, nil))
	wait(`document.getElementById("seatmap-frame").scrollLeft === 0`)
	wait(`+document.getElementById("minimap").dataset.view.split(",")[0] < 0.02`)
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("seat-K15").scrollIntoView({block: "center", inline: "center"})`, nil))
	tap("#seat-K15")
	select {
	case got := <-holds:
		if got != "K15" {
			t.Errorf("held %q, want K15", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a tap on a zoomed seat held nothing")
	}
	wait(`!!document.getElementById("confirm-hold")`)
	if got := str(`document.getElementById("seat-K15").dataset.state`); got != "mine" {
		t.Errorf("K15 after the hold: %q", got)
	}
	if got := str(`document.getElementById("announce").textContent`); !strings.Contains(got, "K15") {
		t.Errorf("the hold was not announced: %q", got)
	}
	select {
	case got := <-holds:
		t.Errorf("the first tap, on the overview, held %q", got)
	default:
	}

	// A full state arriving while zoomed keeps the zoom.
	msg.Reset()
	SeatGrid(big.Hall, true).Render(langCtx(t, "ko"), &msg)
	browsertest.Run(t, ctx, chromedp.Evaluate(`document.getElementById("seat-K15").dataset.gen = "old"`, nil))
	bigLive <- msg.String()
	wait(`!document.getElementById("seat-K15").dataset.gen`)
	if got := str(`document.getElementById("seatmap-frame").className + " " + document.getElementById("seat-K15").offsetWidth`); got != "seatmap-frame is-zoomed 44" {
		t.Errorf("after a full state while zoomed: %q", got)
	}
}

// words splits an accessible name into words the way axe-core's
// label-content-name-mismatch rule does: at anything that is not a letter
// or a number.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// A seat shows its number; its accessible name must hold that number as a
// word of its own (WCAG 2.5.3, label in name), in every language, every
// state, and in the names festa.js extends ("(내 좌석)").
func TestSeatNamesHoldTheirNumber(t *testing.T) {
	for _, lang := range []string{"ko", "en"} {
		ctx := langCtx(t, lang)
		for _, lock := range []string{"", lockSoon, lockClosed} {
			doc := fragment(t, render(t, ctx, seatGrid(bigHall(), false, lock)))
			for _, n := range find(doc, hasAttr("data-seat")) {
				name, _ := attr(n, "aria-label")
				if !slices.Contains(words(name), textOf(n)) {
					t.Fatalf("%s %q: the name %q does not hold the visible %q as a word", lang, lock, name, textOf(n))
				}
			}
		}
		for _, st := range []string{"available", "held", "sold", "blocked", "mine"} {
			doc := fragment(t, render(t, ctx, Seat(SeatView{Label: "C12", RowLabel: "C", Number: 12, State: st, Accessible: st == "held"}, true)))
			if name, _ := attr(doc[0], "aria-label"); !slices.Contains(words(name), "12") {
				t.Errorf("%s %s: name %q", lang, st, name)
			}
		}
	}
}

// Before sales open and after they close, no seat can be taken: the page
// draws every seat disabled (aria-disabled, and named for why) whatever its
// data-state, which keeps the contract's values; the frame carries
// data-sales for the CSS and festa.js, and the grid points at the note.
// Paused sales come and go live, so they lock nothing.
func TestLockedSeatMap(t *testing.T) {
	for _, c := range []struct {
		status, lock, ko, en string
	}{
		{sales.Soon, "soon", "A열 좌석 1, 예매 전", "Row A, seat 1, not on sale yet"},
		{sales.Closed, "closed", "A열 좌석 1, 예매 마감", "Row A, seat 1, sales closed"},
		{sales.Paused, "", "A열 좌석 1, 예매 가능", "Row A, seat 1, available"},
		{sales.Open, "", "A열 좌석 1, 예매 가능", "Row A, seat 1, available"},
	} {
		v := testView()
		v.Status = c.status
		for _, lang := range []string{"ko", "en"} {
			p := Page{Title: v.Title, Lang: lang, CSRF: "tok", Assets: fakeAssets{}, ServerNow: testNow}
			doc := fragment(t, render(t, langCtx(t, lang), PerformancePage(p, v)))
			frame := byID(t, doc, "seatmap-frame")
			if got, _ := attr(frame, "data-sales"); got != c.lock {
				t.Errorf("%s %s: data-sales %q, want %q", c.status, lang, got, c.lock)
			}
			name, _ := attr(byID(t, doc, "seat-A1"), "aria-label")
			if want := map[string]string{"ko": c.ko, "en": c.en}[lang]; name != want {
				t.Errorf("%s %s: A1 named %q, want %q", c.status, lang, name, want)
			}
			described, _ := attr(byID(t, doc, "seatmap"), "aria-describedby")
			notes := find(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "sales-note" })
			for _, n := range find(doc, hasAttr("data-seat")) {
				st, _ := attr(n, "data-state")
				dis, _ := attr(n, "aria-disabled")
				if want := c.lock != "" || st == "sold" || st == "blocked"; want != (dis == "true") {
					t.Errorf("%s: %s (%s) aria-disabled %q", c.status, textOf(n), st, dis)
				}
			}
			if st, _ := attr(byID(t, doc, "seat-A1"), "data-state"); st != "available" {
				t.Errorf("%s: A1 data-state %q, want available (the contract's value)", c.status, st)
			}
			if c.lock != "" && (len(notes) != 1 || described != "seatmap-help sales-note" || textOf(notes[0]) == "") {
				t.Errorf("%s %s: %d notes, aria-describedby %q", c.status, lang, len(notes), described)
			}
			if c.lock == "" && (len(notes) != 0 || described != "seatmap-help") {
				t.Errorf("%s %s: a note on an unlocked map", c.status, lang)
			}
		}
	}
}

// The socket is reopened from where the page stands: every message's
// #live-version is swapped in, and when the ws extension reconnects (here
// after a 1012) festa.js puts its version and time in the socket URL.
func TestSeatMapReconnectsFromItsVersion(t *testing.T) {
	v := testView()
	url, live, _, sockets := scriptPageSockets(t, v)
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true})
	next := func() string {
		t.Helper()
		select {
		case q := <-sockets:
			return q
		case <-time.After(10 * time.Second):
			t.Fatal("no socket")
		}
		return ""
	}
	browsertest.Run(t, ctx, chromedp.Navigate(url))
	// s is the sales banner the page shows (SalesBannerView.Key).
	if q := next(); q != "v=41&t=1779267600&s=open" {
		t.Fatalf("first socket ?%s, want the page's own version, time and banner", q)
	}
	var msg bytes.Buffer
	ko := langCtx(t, "ko")
	Seat(SeatView{Label: "A4", RowLabel: "A", Number: 4, State: "sold", Holder: "x"}, true).Render(ko, &msg)
	paused := SalesBannerView{Status: "paused", Message: "점검 중"}
	SalesBanner(paused, true).Render(ko, &msg)
	LiveVersion(57, testNow.Add(time.Minute), true).Render(ko, &msg)
	live <- msg.String()
	var ok bool
	browsertest.Run(t, ctx, chromedp.Poll(`document.getElementById("live-version").dataset.v === "57"`, &ok, chromedp.WithPollingTimeout(5*time.Second)))
	live <- closeSocket
	if q, want := next(), "v=57&t=1779267660&s="+paused.Key(); q != want {
		t.Fatalf("socket after a reconnect ?%s, want %s", q, want)
	}
}

// Before sales open a seat is dimmed, and neither a click nor a seat
// arriving live makes it bookable: nothing is posted, and live seats are
// disabled as the page's are.
func TestLockedSeatMapScript(t *testing.T) {
	v := testView()
	v.Status, v.SalesOpenAt = sales.Soon, testNow.Add(time.Hour)
	for _, r := range v.Hall.Rows {
		for _, c := range r.Cells {
			if c != nil && c.State != "blocked" {
				c.State, c.Holder = "available", ""
			}
		}
	}
	url, live, holds := scriptPage(t, v)
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	browsertest.Run(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible("#seat-A1"))
	var opacity float64
	browsertest.Run(t, ctx, chromedp.Evaluate(`+getComputedStyle(document.getElementById("seat-A1")).opacity`, &opacity))
	if opacity > 0.6 {
		t.Errorf("a seat before sales is drawn at opacity %v, like a bookable one", opacity)
	}
	browsertest.Run(t, ctx, chromedp.Click("#seat-A1", chromedp.ByID))
	var msg bytes.Buffer
	Seat(SeatView{Label: "A4", RowLabel: "A", Number: 4, State: "available"}, true).Render(langCtx(t, "ko"), &msg)
	live <- msg.String()
	var disabled string
	browsertest.Run(t, ctx,
		chromedp.WaitVisible(`#seat-A4[aria-disabled="true"]`),
		chromedp.Click("#seat-A4", chromedp.ByID),
		chromedp.AttributeValue("#seat-A4", "aria-disabled", &disabled, nil),
	)
	select {
	case got := <-holds:
		t.Fatalf("a click before sales posted a hold of %s", got)
	case <-time.After(time.Second):
	}
}

// On a laptop the overview's seats are big enough to show their numbers,
// and the seat under the mouse shows its label and state in a tooltip.
func TestDesktopSeatNumbers(t *testing.T) {
	v := testView()
	v.Hall = bigHall()
	url, _, _ := scriptPage(t, v)
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	browsertest.Run(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible("#seat-K15"))
	var m map[string]any
	browsertest.Run(t, ctx, chromedp.Evaluate(`(() => { const s = document.getElementById("seat-K15"), cs = getComputedStyle(s), r = document.createRange();
		r.selectNodeContents(s); const t = r.getBoundingClientRect();
		return {font: parseFloat(cs.fontSize), color: cs.color, textWidth: t.width, seat: s.getBoundingClientRect().width}; })()`, &m))
	if m["font"].(float64) < 8 || m["textWidth"].(float64) < 6 || m["color"] == "rgba(0, 0, 0, 0)" {
		t.Errorf("K15's number on a desktop: %v", m)
	}
	browsertest.Run(t, ctx, chromedp.ActionFunc(func(c context.Context) error {
		var xy []float64
		if err := chromedp.Evaluate(`(() => { const b = document.getElementById("seat-K15").getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`, &xy).Do(c); err != nil {
			return err
		}
		return chromedp.MouseEvent(input.MouseMoved, xy[0], xy[1]).Do(c)
	}))
	var tip string
	browsertest.Run(t, ctx, chromedp.Poll(`(() => { const t = document.querySelector(".seat-tip"); return t && !t.hidden && t.textContent; })()`, &tip, chromedp.WithPollingTimeout(5*time.Second)))
	if tip != "K15예매 가능" {
		t.Errorf("tooltip %q, want K15 and 예매 가능", tip)
	}
}

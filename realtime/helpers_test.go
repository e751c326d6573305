package realtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"festa/db"
	"festa/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// guard bounds every wait in these tests. It is a failure guard, not a
// measurement: updates normally arrive in milliseconds.
const guard = 20 * time.Second

// element is one top-level element of a WebSocket message.
type element struct {
	id    string
	attrs map[string]string
	seats []element // for the whole-map #seatmap: every seat inside it
	text  string    // for #sales-banner: its text
}

// viewer is a real WebSocket client that keeps the state its page would
// show: every seat's data-state and the occupancy counts.
type viewer struct {
	t        testing.TB
	c        *websocket.Conn
	seats    map[string]element // by seat label
	occ      map[string]string  // occupancy data-* attributes
	avail    map[string]element // home availability by slug
	banner   *element           // the last #sales-banner, nil until one arrives
	pills    map[string]element // the sales badges by id (sales-pill, sales-pill-{slug})
	messages int
	// version and at are the position the last #live-version brought the
	// page to (version -1 until one arrives).
	version int64
	at      int64
}

// dial opens a viewer on path of the server at base (http://…) in lang.
func dial(t testing.TB, base, path, lang string, opts *websocket.DialOptions) *viewer {
	t.Helper()
	if opts == nil {
		// Offer compression, as browsers do.
		opts = &websocket.DialOptions{CompressionMode: websocket.CompressionNoContextTakeover}
	}
	opts.HTTPHeader = http.Header{"Accept-Language": {lang}}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+path, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	c.SetReadLimit(8 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &viewer{t: t, c: c, seats: map[string]element{}, occ: map[string]string{}, avail: map[string]element{}, pills: map[string]element{}, version: -1}
}

// since is the socket path of a page of the performance slug drawn at
// version, at the server time at.
func since(slug string, version int64, at time.Time) string {
	return fmt.Sprintf("/ws/p/%s?v=%d&t=%d", slug, version, at.Unix())
}

// next reads one message, checks that it is made only of top-level
// elements with an id and hx-swap-oob (the house rule for live payloads),
// applies it to the viewer's state and returns its elements, except the
// #live-version at the end of every seat map message, which it records.
func (v *viewer) next() []element {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	typ, data, err := v.c.Read(ctx)
	if err != nil {
		v.t.Fatalf("read message %d: %v", v.messages+1, err)
	}
	if typ != websocket.MessageText {
		v.t.Fatalf("message %d is %v, want text", v.messages+1, typ)
	}
	v.messages++
	els, err := parseOOB(data)
	if err != nil {
		v.t.Fatalf("message %d: %v\n%.400s", v.messages, err, data)
	}
	var out []element
	for _, e := range els {
		if e.id != "live-version" {
			out = append(out, e)
		}
		switch {
		case e.id == "live-version":
			var err error
			if v.version, err = strconv.ParseInt(e.attrs["data-v"], 10, 64); err != nil {
				v.t.Fatalf("message %d: #live-version data-v %q", v.messages, e.attrs["data-v"])
			}
			if v.at, err = strconv.ParseInt(e.attrs["data-t"], 10, 64); err != nil {
				v.t.Fatalf("message %d: #live-version data-t %q", v.messages, e.attrs["data-t"])
			}
		case strings.HasPrefix(e.id, "seat-"):
			if e.attrs["data-seat"] != strings.TrimPrefix(e.id, "seat-") {
				v.t.Fatalf("seat element %s has data-seat %q", e.id, e.attrs["data-seat"])
			}
			v.seats[strings.TrimPrefix(e.id, "seat-")] = e
		case e.id == "seatmap":
			if len(e.seats) == 0 {
				v.t.Fatalf("message %d: #seatmap holds no seats", v.messages)
			}
			for _, s := range e.seats {
				v.seats[strings.TrimPrefix(s.id, "seat-")] = s
			}
		case e.id == "occupancy":
			for k, val := range e.attrs {
				if strings.HasPrefix(k, "data-") {
					v.occ[k] = val
				}
			}
		case strings.HasPrefix(e.id, "avail-"):
			v.avail[strings.TrimPrefix(e.id, "avail-")] = e
		case e.id == "sales-banner":
			if e.attrs["hx-swap-oob"] != "innerHTML" {
				v.t.Fatalf("message %d: #sales-banner swaps %q, want innerHTML (the live region stays)", v.messages, e.attrs["hx-swap-oob"])
			}
			v.banner = &e
		case strings.HasPrefix(e.id, "sales-pill"):
			v.pills[e.id] = e
		default:
			v.t.Fatalf("message %d has an element with unexpected id %q", v.messages, e.id)
		}
	}
	seatMap := len(v.avail) == 0
	if last := els[len(els)-1]; seatMap && last.id != "live-version" {
		v.t.Fatalf("message %d does not end with #live-version but with #%s", v.messages, last.id)
	}
	return out
}

// until reads messages until ok says the state is as wanted.
func (v *viewer) until(what string, ok func() bool) {
	v.t.Helper()
	deadline := time.Now().Add(guard)
	for !ok() {
		if time.Now().After(deadline) {
			v.t.Fatalf("viewer never saw %s", what)
		}
		v.next()
	}
}

// parseOOB parses a message as htmx does (template content) and checks the
// invariant: only elements at the top level, each with a unique id and
// hx-swap-oob; nothing but whitespace between them.
func parseOOB(data []byte) ([]element, error) {
	ctx := &html.Node{Type: html.ElementNode, Data: "template", DataAtom: atom.Template}
	nodes, err := html.ParseFragment(bytes.NewReader(data), ctx)
	if err != nil {
		return nil, err
	}
	var out []element
	seen := map[string]bool{}
	for _, n := range nodes {
		if n.Type == html.TextNode && strings.TrimSpace(n.Data) == "" {
			continue
		}
		if n.Type != html.ElementNode {
			return nil, fmt.Errorf("top-level node %q is not an element", n.Data)
		}
		e := element{attrs: map[string]string{}}
		for _, a := range n.Attr {
			e.attrs[a.Key] = a.Val
		}
		e.id = e.attrs["id"]
		if e.id == "seatmap" {
			e.seats = nestedSeats(n)
		}
		if e.id == "sales-banner" || strings.HasPrefix(e.id, "sales-pill") {
			e.text = nodeText(n)
		}
		if e.id == "" {
			return nil, fmt.Errorf("top-level <%s> has no id", n.Data)
		}
		if _, ok := e.attrs["hx-swap-oob"]; !ok {
			return nil, fmt.Errorf("top-level #%s has no hx-swap-oob", e.id)
		}
		if seen[e.id] {
			return nil, fmt.Errorf("id %s twice in one message", e.id)
		}
		seen[e.id] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("empty message")
	}
	return out, nil
}

// nodeText is the text inside n, each piece trimmed, joined by spaces.
func nodeText(n *html.Node) string {
	var parts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if t := strings.TrimSpace(c.Data); c.Type == html.TextNode && t != "" {
				parts = append(parts, t)
			}
			walk(c)
		}
	}
	walk(n)
	return strings.Join(parts, " ")
}

// nestedSeats returns the seat buttons inside n, checking each carries
// the CONTRACT hooks.
func nestedSeats(n *html.Node) []element {
	var out []element
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				e := element{attrs: map[string]string{}}
				for _, a := range c.Attr {
					e.attrs[a.Key] = a.Val
				}
				if seat := e.attrs["data-seat"]; seat != "" && e.attrs["id"] == "seat-"+seat && e.attrs["data-state"] != "" {
					e.id = e.attrs["id"]
					out = append(out, e)
				}
				walk(c)
			}
		}
	}
	walk(n)
	return out
}

// closeStatus reads until the connection ends and returns its close code.
func (v *viewer) closeStatus() websocket.StatusCode {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for {
		_, _, err := v.c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				v.t.Fatal("connection did not close")
			}
			return websocket.CloseStatus(err)
		}
	}
}

// dbSeats is the performance's seats as a fresh page would show them.
func dbSeats(t testing.TB, store *db.Store, perfID int64) map[string]string {
	t.Helper()
	seats, _, err := store.PerformanceSeats(context.Background(), perfID)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(seats))
	for _, s := range seats {
		out[s.Label] = s.State
	}
	return out
}

// matches reports whether the viewer shows exactly the database's seats.
func (v *viewer) matches(want map[string]string) bool {
	if len(v.seats) != len(want) {
		return false
	}
	for label, st := range want {
		if v.seats[label].attrs["data-state"] != st {
			return false
		}
	}
	return true
}

func (v *viewer) state(label string) string { return v.seats[label].attrs["data-state"] }

// news is the ids of els without the seats that only repeat a state the
// page already showed (had: label → state). A catch-up sends every seat
// changed by a transaction at or after the page's horizon, and a
// transaction left open elsewhere in the cluster (another test's) holds
// that horizon back, so seats the page already has may come again; that
// is correct, and only the new ones are the test's business.
func news(els []element, had map[string]string) string {
	var out []string
	for _, e := range els {
		if label, ok := strings.CutPrefix(e.id, "seat-"); ok && had[label] == e.attrs["data-state"] {
			continue
		}
		out = append(out, e.id)
	}
	return strings.Join(out, ",")
}

// performance returns the id of the demo performance slug.
func performance(t testing.TB, store *db.Store, slug string) int64 {
	t.Helper()
	p, err := store.PerformanceBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// students returns the ids of n demo students.
func students(t testing.TB, store *db.Store, n int) []int64 {
	t.Helper()
	rows, err := store.Pool.Query(context.Background(), `SELECT id FROM students ORDER BY id LIMIT $1`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if len(ids) < n {
		t.Fatalf("want %d students, have %d", n, len(ids))
	}
	return ids
}

// hold holds the seats for student in SQL, as a booking would (the trigger
// records the change); expiry is the hold's remaining time.
func hold(t testing.TB, store *db.Store, perfID int64, student int64, expiry time.Duration, labels ...string) {
	t.Helper()
	tag, err := store.Pool.Exec(context.Background(), `UPDATE performance_seats ps
		SET state = 'held', student_id = $3, held_until = now() + make_interval(secs => $4)
		FROM seats s WHERE s.id = ps.seat_id AND ps.performance_id = $1 AND s.label = ANY($2)`,
		perfID, labels, student, expiry.Seconds())
	if err != nil || tag.RowsAffected() != int64(len(labels)) {
		t.Fatalf("hold %v: %v (%d rows)", labels, err, tag.RowsAffected())
	}
}

// free makes the seats available again.
func free(t testing.TB, store *db.Store, perfID int64, labels ...string) {
	t.Helper()
	tag, err := store.Pool.Exec(context.Background(), `UPDATE performance_seats ps
		SET state = 'available', student_id = NULL, held_until = NULL
		FROM seats s WHERE s.id = ps.seat_id AND ps.performance_id = $1 AND s.label = ANY($2)`, perfID, labels)
	if err != nil || tag.RowsAffected() != int64(len(labels)) {
		t.Fatalf("free %v: %v (%d rows)", labels, err, tag.RowsAffected())
	}
}

// waitFor polls cond (bounded by guard).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listeners counts this database's LISTEN connections.
func listeners(t testing.TB, store *db.Store) int {
	t.Helper()
	var n int
	err := store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'festa-listener' AND query ILIKE 'LISTEN%'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testLogger discards: goroutines may still log after a test has ended.
func testLogger(testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

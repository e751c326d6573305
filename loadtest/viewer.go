package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// seatState is one seat as a message or page draws it.
type seatState struct{ label, state string }

// seatStates finds every seat drawn in an HTML fragment: each tag with a
// data-seat and a data-state, in whatever order the attributes come.
func seatStates(msg []byte) []seatState {
	var out []seatState
	for {
		i := bytes.Index(msg, []byte(`data-seat="`))
		if i < 0 {
			return out
		}
		start := bytes.LastIndexByte(msg[:i], '<')
		end := bytes.IndexByte(msg[i:], '>')
		if start < 0 || end < 0 {
			return out
		}
		tag := msg[start : i+end]
		msg = msg[i+end:]
		label, ok1 := attr(tag, "data-seat")
		state, ok2 := attr(tag, "data-state")
		if ok1 && ok2 {
			out = append(out, seatState{label, state})
		}
	}
}

func attr(tag []byte, name string) (string, bool) {
	k := bytes.Index(tag, []byte(" "+name+`="`))
	if k < 0 {
		return "", false
	}
	v := tag[k+len(name)+3:]
	e := bytes.IndexByte(v, '"')
	if e < 0 {
		return "", false
	}
	return string(v[:e]), true
}

// board is what the run knows about the hall: per seat, when its winning
// hold was sent (the click), and whether anyone has seen it taken yet —
// the live map every student's screen shows, from which they pick.
type board struct {
	index   map[string]int
	labels  []string
	clicked []atomic.Int64 // unix ns the winning hold was sent; 0 none yet
	taken   []atomic.Bool
	left    atomic.Int64 // seats nobody has seen taken yet
}

func newBoard(labels []string) *board {
	b := &board{index: make(map[string]int, len(labels)), labels: labels,
		clicked: make([]atomic.Int64, len(labels)), taken: make([]atomic.Bool, len(labels))}
	for i, l := range labels {
		b.index[l] = i
	}
	b.left.Store(int64(len(labels)))
	return b
}

func (b *board) markTaken(i int) {
	if !b.taken[i].Swap(true) {
		b.left.Add(-1)
	}
}

// viewer is one open seat map: a WebSocket of /ws/p/{slug}.
type viewer struct {
	seen    []int64 // per seat, unix ns this viewer first saw it held or sold
	dropped atomic.Bool
	code    atomic.Int32 // close code when the connection ended; -1 none
	c       *websocket.Conn
}

// viewers holds the run's open seat maps.
type viewers struct {
	list       []*viewer
	dialErrors int
	wg         sync.WaitGroup
	measuring  atomic.Bool
	messages   atomic.Int64
	stopping   atomic.Bool
}

// openViewers dials n viewers, at most 100 at a time, spread in turn over
// bases (festa instances, or nginx), and starts reading. Each gets the
// whole hall first (it connects without a page's position).
func openViewers(ctx context.Context, bases []string, slug string, n int, b *board) *viewers {
	vs := &viewers{}
	var wsURLs []string
	for _, base := range bases {
		wsURLs = append(wsURLs, "ws"+strings.TrimPrefix(base, "http")+"/ws/p/"+slug)
	}
	hdr := http.Header{"Accept-Language": {"ko"}, "User-Agent": {"festa-bench-spike"}}
	var mu sync.Mutex
	var dialing sync.WaitGroup
	sem := make(chan struct{}, 100)
	for i := range n {
		wsURL := wsURLs[i%len(wsURLs)]
		sem <- struct{}{}
		dialing.Go(func() {
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			// Offer compression, as browsers do: the whole hall comes deflated.
			c, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPHeader: hdr, CompressionMode: websocket.CompressionNoContextTakeover})
			if err == nil {
				c.SetReadLimit(16 << 20)
				var first []byte
				if _, first, err = c.Read(dctx); err == nil && !bytes.Contains(first, []byte(`data-seat="`)) {
					err = errNoHall
				}
				if err != nil {
					c.CloseNow()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				vs.dialErrors++
				return
			}
			v := &viewer{seen: make([]int64, len(b.labels)), c: c}
			v.code.Store(-1)
			vs.list = append(vs.list, v)
			vs.wg.Go(func() { vs.read(v, b) })
		})
	}
	dialing.Wait()
	return vs
}

type viewerError string

func (e viewerError) Error() string { return string(e) }

const errNoHall = viewerError("the first message drew no seat")

// read takes a viewer's messages until the connection ends, noting when
// it first sees each seat held or sold. Reads take no context (a
// cancellable one costs a registration per message); closing c stops it.
func (vs *viewers) read(v *viewer, b *board) {
	defer v.c.CloseNow()
	var buf bytes.Buffer
	for {
		_, rd, err := v.c.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			v.code.Store(int32(websocket.CloseStatus(err)))
			if !vs.stopping.Load() {
				v.dropped.Store(true)
			}
			return
		}
		now := time.Now().UnixNano()
		if vs.measuring.Load() {
			vs.messages.Add(1)
		}
		for _, s := range seatStates(buf.Bytes()) {
			if s.state != "held" && s.state != "sold" {
				continue
			}
			i, ok := b.index[s.label]
			if !ok {
				continue
			}
			if atomic.LoadInt64(&v.seen[i]) == 0 {
				atomic.StoreInt64(&v.seen[i], now)
			}
			b.markTaken(i)
		}
	}
}

// seenAll waits until every live viewer has seen every seat in sold taken,
// or until the deadline, and returns how many (viewer, seat) sightings
// are still missing.
func (vs *viewers) seenAll(sold []int, deadline time.Time) int {
	for {
		missing := 0
		for _, v := range vs.list {
			if v.dropped.Load() {
				continue
			}
			for _, i := range sold {
				// Written by the viewer's reader; read here only to count.
				if atomic.LoadInt64(&v.seen[i]) == 0 {
					missing++
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// close ends every viewer (without a close handshake each: thousands of
// those in a row would take long) and waits for the readers.
func (vs *viewers) close() {
	vs.stopping.Store(true)
	for _, v := range vs.list {
		v.c.CloseNow()
	}
	vs.wg.Wait()
}

// dropCodes counts the close codes of viewers dropped during the run.
func (vs *viewers) dropCodes() map[string]int {
	m := map[string]int{}
	for _, v := range vs.list {
		if v.dropped.Load() {
			m[strconv.Itoa(int(v.code.Load()))]++
		}
	}
	return m
}

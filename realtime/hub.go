package realtime

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/coder/websocket"

	"festa/i18n"
)

// message is one WebSocket message, shared (never modified) by every viewer
// of a language: top-level elements, each with its id and its end in data,
// so that messages waiting in one viewer's queue can be merged into one
// write without parsing them (see merge).
type message struct {
	data []byte
	ids  []string
	ends []int
	// oldest is the changed_at of the oldest seat change the message
	// carries, for the commit-to-write histogram; zero for full states and
	// hold expiries.
	oldest time.Time
}

// builder renders a message element by element.
type builder struct {
	buf  bytes.Buffer
	ids  []string
	ends []int
}

// add renders c, an element whose id is id, as the message's next element.
func (b *builder) add(ctx context.Context, id string, c templ.Component) error {
	if err := c.Render(ctx, &b.buf); err != nil {
		return err
	}
	b.ids = append(b.ids, id)
	b.ends = append(b.ends, b.buf.Len())
	return nil
}

// merge writes the messages, oldest first, as one message into dst: the
// newest copy of each element, so ids stay unique and the result is what
// applying them in order would show. A viewer whose queue has more than one
// message waiting gets them in one write.
func merge(dst []byte, ms []*message) []byte {
	type part struct {
		m *message
		i int
	}
	seen := make(map[string]bool)
	var keep []part
	for k := len(ms) - 1; k >= 0; k-- {
		for i := len(ms[k].ids) - 1; i >= 0; i-- {
			if id := ms[k].ids[i]; !seen[id] {
				seen[id] = true
				keep = append(keep, part{ms[k], i})
			}
		}
	}
	for j := len(keep) - 1; j >= 0; j-- {
		p := keep[j]
		start := 0
		if p.i > 0 {
			start = p.m.ends[p.i-1]
		}
		dst = append(dst, p.m.data[start:p.m.ends[p.i]]...)
	}
	return dst
}

// Position is where a page's live regions stand: the change horizon they
// were drawn at (or last brought to over the socket; see
// db.SeatBatchSince) and the
// server time of that moment, which says which holds had not yet run out
// for the page. Pages carry it in their socket URL (see
// components.LiveURL) and in #live-version.
type Position struct {
	Horizon int64
	At      time.Time
	// Sales is the key of the sales banner the page shows
	// (components.SalesBannerView.Key); the socket sends the banner first
	// when it differs. "" when the page does not say: then only seats are
	// caught up.
	Sales string
}

// subscriber is one viewer's socket as its hub sees it.
type subscriber struct {
	lang  string
	from  *Position // where the viewer's page stands; nil when unknown
	queue chan *message
	hub   *hub // set by Broker.join

	// gone is closed, once, when the hub drops the subscriber; code and
	// reason say why and are written before the close.
	gone   chan struct{}
	once   sync.Once
	code   websocket.StatusCode
	reason string
}

func newSubscriber(lang string, from *Position, queueSize int) *subscriber {
	return &subscriber{lang: lang, from: from, queue: make(chan *message, queueSize), gone: make(chan struct{})}
}

// drop tells the subscriber's socket to close with code.
func (s *subscriber) drop(code websocket.StatusCode, reason string) {
	s.once.Do(func() {
		s.code, s.reason = code, reason
		close(s.gone)
	})
}

// delta is one update to publish: a render function (called once per
// language with the language's Localizer in its context) and the age of the
// changes it carries.
type delta struct {
	render func(ctx context.Context, b *builder) error
	oldest time.Time
}

// feed is what a hub shows: the seats of a performance, or the event home's
// availability counts. Only the hub's goroutine calls it.
type feed interface {
	// load reads the full current state.
	load(ctx context.Context) error
	// refresh brings the state up to date from the database and returns
	// what changed, or nil.
	refresh(ctx context.Context) (*delta, error)
	// expire applies changes that come with time alone (a hold running
	// out) and returns them, or nil.
	expire(now time.Time) *delta
	// nextExpiry is when expire next has work; zero for never.
	nextExpiry() time.Time
	// catchUp returns what a page at pos lacks of the current state: nil
	// for nothing, or full when only the whole state will do.
	catchUp(pos Position) (d *delta, full bool)
	// full renders the whole state.
	full(ctx context.Context, b *builder) error
}

// salesFeed is a feed that shows the sales banner (#sales-banner) from a
// sales state it keeps apart from the change log; the hub asks it to
// re-read that state when told it may have changed (salesStale).
type salesFeed interface {
	// refreshSales re-reads the sales state and returns the banner when
	// what it shows at now changed, or nil.
	refreshSales(ctx context.Context, now time.Time) (*delta, error)
}

// hub serves the viewers of one feed. Its goroutine (run) owns the feed's
// state and does all database reads and rendering, so joining viewers and
// batches are ordered: a viewer is admitted only after a read of the
// database that began after it joined (so the state it is caught up
// against is no older than its page), then gets every batch after that
// read. Nothing in run waits on a viewer.
type hub struct {
	b    *Broker
	key  int64
	feed feed

	mu      sync.Mutex // guards subs and joining
	subs    map[string]map[*subscriber]struct{}
	joining map[*subscriber]struct{}

	join chan struct{} // cap 1: viewers are waiting in joining
	wake chan struct{} // cap 1: the database may have changed
	done chan struct{} // closed when the hub is dropped
	// salesStale is set (by WakeSales and WakeAll) when the sales state
	// may have changed; run re-reads it at its next refresh.
	salesStale atomic.Bool
	// spent adds up the time the viewers' sockets spent writing since the
	// last batch (each write counted up to maxWriteCost); publish moves
	// it to batchCost, the cost of fanning out one batch, which sets the
	// window (see Config.FanoutBudget).
	spent     atomic.Int64
	batchCost time.Duration

	// Owned by run.
	loaded bool
	fulls  map[string]*message // full state per language, until the next change
	locs   map[string]*i18n.Localizer
}

func newHub(b *Broker, key int64) *hub {
	h := &hub{
		b: b, key: key,
		subs:    make(map[string]map[*subscriber]struct{}),
		joining: make(map[*subscriber]struct{}),
		join:    make(chan struct{}, 1),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		fulls:   make(map[string]*message),
		locs:    make(map[string]*i18n.Localizer),
	}
	switch {
	case key == homeKey:
		h.feed = &homeFeed{store: b.store}
	case isQuestionKey(key):
		h.feed = newQuestionsFeed(b.store, key)
	case isGateKey(key):
		h.feed = &gateFeed{store: b.store, id: gateKeyBase - key}
	case key < 0:
		h.feed = newScreenFeed(b.store, -key)
	default:
		h.feed = &seatFeed{store: b.store, id: key, tag: b.cfg.HolderTag}
	}
	return h
}

func (h *hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hub) signalJoin() {
	select {
	case h.join <- struct{}{}:
	default:
	}
}

// window is how long the hub leaves between batches: the configured
// window, or longer when fanning the last batch out cost more than the
// fan-out budget allows for that long (Config.FanoutBudget), up to
// MaxWindow. Writing a batch costs about the same whatever it holds, so a
// wider window under a crowd means fewer, fuller batches for the same CPU.
func (h *hub) window() time.Duration {
	need := time.Duration(float64(h.batchCost) / h.b.cfg.FanoutBudget)
	return min(max(h.b.cfg.Window, need), h.b.cfg.MaxWindow)
}

// maxWriteCost is the most one socket write counts towards a batch's
// cost: a write that blocks on a slow phone's full buffer spends no CPU
// meanwhile, and must not slow everyone's updates.
const maxWriteCost = 2 * time.Millisecond

// retryDelay is how long a hub waits after a failed database read.
const retryDelay = time.Second

// run is the hub's loop: wake-ups are throttled to one refresh per window
// (the first at once), hold expiries run on time, and joining viewers are
// admitted after the next read of the database (see admit).
// It ends when the hub is dropped or the broker closes.
//
// A join counts as a wake-up: the viewer's page was drawn before its
// socket joined, possibly from a newer state than the one in hand (the
// change that made it may not have woken this hub yet, or came inside the
// current window), so catching it up from that state would leave it
// without those changes, or move it back to an older state. A viewer that
// joins inside a window therefore waits for the window's end, at most
// Config.Window.
//
// While the database cannot be read, viewers stay connected and wait (new
// ones for their first message) and the hub retries every retryDelay:
// dropping them would only have every page reconnect in a loop.
func (h *hub) run() {
	defer h.b.wg.Done()
	ctx := h.b.ctx
	window := h.window()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		last    time.Time // start of the last refresh or load attempt
		dirty   bool      // a wake-up or a join has not been served yet
		failing bool      // the last database read failed (logged once)
	)
	fail := func(what string, err error, now time.Time) {
		if !failing && ctx.Err() == nil {
			h.b.log.Error("live: "+what, "hub", h.key, "error", err)
		}
		failing, dirty = true, true
		last = now.Add(retryDelay - window) // next attempt in retryDelay
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-h.join:
			dirty = true
		case <-h.wake:
			dirty = true
		case <-timer.C:
		}
		now := time.Now()
		window = h.window()
		// waiting are the viewers that joined before this turn's read
		// began; read says the read succeeded, so they may be admitted.
		// Those that join during the read have signalled h.join and wait
		// for the next one.
		var waiting []*subscriber
		read := false
		switch {
		case now.Sub(last) < window:
			// Throttled (or waiting to retry); the timer brings us back.
		case !h.loaded:
			last = now
			waiting = h.waiting()
			if err := h.feed.load(ctx); err != nil {
				fail("load state", err, now)
				break
			}
			h.loaded, dirty, read = true, false, true
		case dirty:
			last, dirty = now, false
			waiting = h.waiting()
			if len(waiting) > 0 {
				// The sales banner is not in the change log: a page may
				// show a pause (or a closing on the clock) this hub has
				// not heard of yet.
				h.salesStale.Store(true)
			}
			d, err := h.feed.refresh(ctx)
			if err != nil {
				fail("read seat changes", err, now)
				break
			}
			if d != nil {
				h.publish(d)
			}
			if sf, ok := h.feed.(salesFeed); ok && h.salesStale.Swap(false) {
				d, err := sf.refreshSales(ctx, now)
				if err != nil {
					h.salesStale.Store(true)
					fail("read sales state", err, now)
					break
				}
				if d != nil {
					h.publish(d)
				}
			}
			read = true
		}
		if h.loaded {
			if failing && !dirty {
				h.b.log.Info("live: seat changes readable again", "hub", h.key)
				failing = false
			}
			if d := h.feed.expire(now); d != nil {
				h.publish(d)
			}
			if read {
				h.admit(waiting)
			}
		}
		h.arm(timer, dirty || !h.loaded, last.Add(window))
	}
}

// arm sets timer for the next thing run must do without being told: a
// throttled refresh, or a hold expiry.
func (h *hub) arm(timer *time.Timer, dirty bool, refreshAt time.Time) {
	var next time.Time
	if dirty {
		next = refreshAt
	}
	if e := h.feed.nextExpiry(); !e.IsZero() && (next.IsZero() || e.Before(next)) {
		next = e
	}
	timer.Stop()
	if !next.IsZero() {
		timer.Reset(max(time.Until(next), 0))
	}
}

// waiting returns the viewers waiting to be admitted.
func (h *hub) waiting() []*subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*subscriber, 0, len(h.joining))
	for s := range h.joining {
		out = append(out, s)
	}
	return out
}

// admit sends each of the waiting viewers (that has not left meanwhile)
// what its page lacks (see first) and then registers it for batches. run
// calls it only with viewers that joined before the read the state comes
// from.
func (h *hub) admit(waiting []*subscriber) {
	for _, s := range waiting {
		m, err := h.first(s)
		h.mu.Lock()
		if _, ok := h.joining[s]; !ok { // it left meanwhile
			h.mu.Unlock()
			continue
		}
		delete(h.joining, s)
		if err != nil {
			h.mu.Unlock()
			h.b.log.Error("live: render first message", "hub", h.key, "lang", s.lang, "error", err)
			s.drop(websocket.StatusInternalError, "render failed")
			continue
		}
		if m != nil {
			s.queue <- m // the queue is empty: this is its first message
		}
		if h.subs[s.lang] == nil {
			h.subs[s.lang] = make(map[*subscriber]struct{})
		}
		h.subs[s.lang][s] = struct{}{}
		h.mu.Unlock()
	}
}

// first is a joining viewer's first message: the changes its page lacks
// when the viewer says where its page stands and is not too far behind
// (nil when the page is current: a page just loaded needs nothing), else
// the full state. A page's first socket message therefore never resends
// the hall it was just drawn with.
func (h *hub) first(s *subscriber) (*message, error) {
	if s.from != nil {
		d, full := h.feed.catchUp(*s.from)
		if !full {
			if d == nil {
				h.b.metrics.first.WithLabelValues("none").Inc()
				return nil, nil
			}
			h.b.metrics.first.WithLabelValues("changes").Inc()
			return h.render(s.lang, d.render)
		}
	}
	h.b.metrics.first.WithLabelValues("full").Inc()
	return h.fullState(s.lang)
}

// fullState returns the full state rendered for lang, rendering it once
// per change.
func (h *hub) fullState(lang string) (*message, error) {
	if m := h.fulls[lang]; m != nil {
		return m, nil
	}
	m, err := h.render(lang, h.feed.full)
	if err != nil {
		return nil, err
	}
	h.fulls[lang] = m
	return m, nil
}

// publish renders d once per language that has viewers and queues the same
// bytes for each of them. A viewer whose queue is full is dropped (close
// 1013) instead of waited for.
func (h *hub) publish(d *delta) {
	clear(h.fulls)
	h.batchCost = time.Duration(h.spent.Swap(0))
	h.mu.Lock()
	langs := make([]string, 0, len(h.subs))
	for lang, set := range h.subs {
		if len(set) > 0 {
			langs = append(langs, lang)
		}
	}
	h.mu.Unlock()
	msgs := make(map[string]*message, len(langs))
	for _, lang := range langs {
		m, err := h.render(lang, d.render)
		if err != nil {
			h.b.log.Error("live: render update", "hub", h.key, "lang", lang, "error", err)
			continue
		}
		h.b.metrics.batches.Inc()
		m.oldest = d.oldest
		msgs[lang] = m
	}
	kicked := 0
	h.mu.Lock()
	for lang, set := range h.subs {
		m := msgs[lang]
		for s := range set {
			if m == nil { // the render failed: a fresh full state is the way back
				delete(set, s)
				s.drop(websocket.StatusInternalError, "render failed")
				continue
			}
			select {
			case s.queue <- m:
			default:
				delete(set, s)
				s.drop(websocket.StatusTryAgainLater, "too slow to keep up")
				kicked++
			}
		}
	}
	h.mu.Unlock()
	if kicked > 0 {
		h.b.metrics.kicked.Add(float64(kicked))
		h.b.log.Info("live: dropped slow viewers", "hub", h.key, "count", kicked)
	}
}

// render runs fn with lang's Localizer, as a page of that language would.
func (h *hub) render(lang string, fn func(ctx context.Context, b *builder) error) (*message, error) {
	loc := h.locs[lang]
	if loc == nil {
		loc = h.b.cfg.Messages.Localizer(lang)
		h.locs[lang] = loc
	}
	var b builder
	if err := fn(i18n.WithLocalizer(h.b.ctx, loc), &b); err != nil {
		return nil, err
	}
	return &message{data: b.buf.Bytes(), ids: b.ids, ends: b.ends}, nil
}

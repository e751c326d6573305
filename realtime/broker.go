// Package realtime carries seat changes live from PostgreSQL to every
// viewer's browser, on every app instance.
//
// The path of one change:
//
//  1. A booking commits. The seat trigger has given the seat a new
//     version and written the change, with its transaction id, to
//     seat_changes (the change log). Bookings of different seats and
//     students run in parallel (migration 012).
//  2. The handler pokes the Notifier. It wakes this instance's Broker at
//     once and, batched over a few milliseconds, sends one
//     NOTIFY festa_seats per performance for the other instances.
//  3. Each instance's Listener (one dedicated LISTEN connection) wakes its
//     Broker. A wake-up carries no data: the performance's hub reads the
//     change log from the horizon of its last read (the oldest transaction
//     then still running; see db.SeatBatchSince), so a late, doubled or
//     lost NOTIFY never loses or repeats an update. After a reconnect, and
//     every couple of seconds regardless, every hub catches up the same way.
//  4. The hub (one per performance with viewers) coalesces changes over a
//     short window, renders one batch per language with the page's own
//     components (hx-swap-oob), and hands the same bytes to every viewer's
//     bounded queue without ever waiting on one.
//  5. Each viewer's socket writes its queue. A viewer that falls a whole
//     queue behind is dropped with close 1013 and reconnects. Every message
//     ends with the position it brings the page to (#live-version: the
//     change horizon and the time), and a page (re)connects saying where
//     it stands (?v=&t=), so its first message is only what it lacks: the
//     seats changed since, nothing for a page just loaded, or the whole
//     hall when it is too far behind (or does not say).
//
// The Broker owns the hubs and the sockets; Close ends every socket with
// 1012 (service restart), which htmx's ws extension answers by reconnecting
// with jittered backoff.
package realtime

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"festa/db"
	"festa/i18n"
)

// Config is what a Broker needs. Store, Messages and Logger are required.
type Config struct {
	Store    *db.Store
	Messages *i18n.Bundle
	Logger   *slog.Logger
	// Registry receives the live metrics; nil keeps them unexported.
	Registry prometheus.Registerer
	// HolderTag turns a student id into the opaque tag a seat of a
	// performance carries (see components.SeatView.Holder); nil sends no tags.
	HolderTag func(performanceID, studentID int64) string
	// Window is the coalescing window: a hub sends at most one batch per
	// window, and the first change after a quiet spell goes out at once.
	// Default 50 ms; capped at 100 ms. A hub with many viewers widens it
	// (see FanoutBudget).
	Window time.Duration
	// FanoutBudget is how much CPU, in cores, writing one hub's batches to
	// its viewers may take: when writing the last batch to every viewer
	// took c, the next batch waits at least c / FanoutBudget, so the
	// fan-out of a crowd never takes the CPU that bookings and page loads
	// need; they only see coarser, later updates (up to MaxWindow apart).
	// Default a quarter of GOMAXPROCS, at least half a core.
	FanoutBudget float64
	// MaxWindow caps the widened window. Default 400 ms.
	MaxWindow time.Duration
	// QueueSize is how many messages a viewer may have waiting before it
	// is dropped (close 1013). Default 16.
	QueueSize int
	// WriteTimeout bounds every write to a viewer, plus a second per 16 KB
	// of message (the full state gets about 6 s more). Default 5 s.
	WriteTimeout time.Duration
	// PingInterval is how often an idle socket is pinged, which keeps
	// proxies from timing it out and finds dead peers; a pong must come
	// back within PingInterval/2. Default 20 s.
	PingInterval time.Duration
}

// Broker fans live updates out to this instance's viewers. It is safe for
// concurrent use. Wake and WakeAll never block.
type Broker struct {
	cfg     Config
	store   *db.Store
	log     *slog.Logger
	metrics *metrics
	accept  *websocket.AcceptOptions
	merged  sync.Pool // *[]byte buffers for merged writes (see merge)

	// ctx ends when Close begins; hubs stop and sockets close with 1012.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.RWMutex
	hubs   map[int64]*hub // by performance id; homeKey is the event home, screenKey a projection screen
	closed bool
	// wg counts hub goroutines and sockets; Add only under mu while open.
	wg sync.WaitGroup
}

// homeKey is the hub of the event home page (performance ids start at 1).
const homeKey = 0

// NewBroker returns a Broker with cfg's defaults filled in.
func NewBroker(cfg Config) *Broker {
	if cfg.Window <= 0 {
		cfg.Window = 50 * time.Millisecond
	}
	cfg.Window = min(cfg.Window, 100*time.Millisecond)
	if cfg.FanoutBudget <= 0 {
		cfg.FanoutBudget = max(0.5, float64(runtime.GOMAXPROCS(0))/4)
	}
	if cfg.MaxWindow <= 0 {
		cfg.MaxWindow = 400 * time.Millisecond
	}
	cfg.MaxWindow = max(cfg.MaxWindow, cfg.Window)
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 16
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if cfg.HolderTag == nil {
		cfg.HolderTag = func(int64, int64) string { return "" }
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Broker{
		cfg:     cfg,
		store:   cfg.Store,
		log:     cfg.Logger,
		metrics: newMetrics(cfg.Registry),
		accept:  acceptOptions(),
		ctx:     ctx,
		cancel:  cancel,
		hubs:    make(map[int64]*hub),
	}
}

// Wake tells the broker that the performance's seats may have changed. The
// performance's hub (if it has viewers) reads the change log from its last
// horizon; the home page's hub recounts. Wake never blocks, and waking
// twice for one change costs one small read.
func (b *Broker) Wake(performanceID int64) {
	b.mu.RLock()
	h, home, screen := b.hubs[performanceID], b.hubs[homeKey], b.hubs[screenKey(performanceID)]
	b.mu.RUnlock()
	if h != nil && performanceID != homeKey {
		h.poke()
	}
	if screen != nil && performanceID != homeKey {
		screen.poke()
	}
	if home != nil {
		home.poke()
	}
}

// WakeSales tells the broker that the performance's sales state changed
// (the council opened, paused, resumed or closed them): its hub re-reads
// it and shows or drops the pause banner (#sales-banner); the home page's
// hub recounts, which reads every performance's sales state too; then
// everything Wake wakes. Like Wake it never blocks.
func (b *Broker) WakeSales(performanceID int64) {
	b.mu.RLock()
	h := b.hubs[performanceID]
	b.mu.RUnlock()
	if h != nil && performanceID != homeKey {
		h.salesStale.Store(true)
	}
	b.Wake(performanceID)
}

// WakeAll wakes every hub: the catch-up after the listener reconnects, and
// the periodic one that covers a NOTIFY lost on a silent connection. Each
// hub re-reads its sales state too (one small query), so a lost sales
// NOTIFY, or sales opening or closing on the clock, reaches viewers by
// the next catch-up.
func (b *Broker) WakeAll() {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, h := range b.hubs {
		h.salesStale.Store(true)
		h.poke()
	}
}

// Seats returns the performance's seats as this instance's live map last
// showed them to its viewers (row and seat order; shared, so read them and
// never change them), or nil when nobody here watches it. A booking answer
// counts from them: they are at least as new as anything the page's socket
// has already been sent, so the answer never sets its counts back.
func (b *Broker) Seats(performanceID int64) []db.SeatState {
	if performanceID == homeKey {
		return nil
	}
	b.mu.RLock()
	h := b.hubs[performanceID]
	b.mu.RUnlock()
	if h == nil {
		return nil
	}
	f, ok := h.feed.(*seatFeed)
	if !ok {
		return nil
	}
	if seats := f.shown.Load(); seats != nil {
		return *seats
	}
	return nil
}

// Viewers counts the viewers connected to this instance, by performance
// id; the event home's are under 0. Other instances' viewers are not
// counted.
func (b *Broker) Viewers() map[int64]int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[int64]int, len(b.hubs))
	for key, h := range b.hubs {
		h.mu.Lock()
		n := len(h.joining)
		for _, set := range h.subs {
			n += len(set)
		}
		h.mu.Unlock()
		out[key] = n
	}
	return out
}

// Close closes every socket with 1012 (service restart), refuses new ones
// the same way, stops the hubs, and waits for all of it until ctx ends.
// It may be called more than once; each call waits.
func (b *Broker) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// join registers s with the hub for key, creating (and starting) the hub on
// its first viewer, and counts s's socket in b.wg (the caller's stream
// calls Done). The hub sends s the full state first. It returns false once
// the broker is closing.
func (b *Broker) join(key int64, s *subscriber) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	b.wg.Add(1)
	h := b.hubs[key]
	if h == nil {
		h = newHub(b, key)
		b.hubs[key] = h
		b.wg.Add(1)
		go h.run()
	}
	h.mu.Lock()
	h.joining[s] = struct{}{}
	h.mu.Unlock()
	s.hub = h
	b.mu.Unlock()
	h.signalJoin()
	return true
}

// leave unregisters s; the hub is dropped with its last viewer.
func (b *Broker) leave(s *subscriber) {
	h := s.hub
	b.mu.Lock()
	defer b.mu.Unlock()
	h.mu.Lock()
	delete(h.joining, s)
	delete(h.subs[s.lang], s)
	n := len(h.joining)
	for _, set := range h.subs {
		n += len(set)
	}
	h.mu.Unlock()
	if n == 0 && b.hubs[h.key] == h {
		delete(b.hubs, h.key)
		close(h.done)
	}
}

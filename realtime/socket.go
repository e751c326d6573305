package realtime

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// acceptOptions: same-origin only (coder/websocket's default, so another
// site cannot open a viewer's socket), and no compression: every viewer
// gets the same bytes, and deflating them once per viewer would cost more
// CPU than the whole fan-out.
var acceptOptions = &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}

// ServePerformance upgrades the request to a WebSocket that streams the
// performance's seat map in lang: first the full state (every seat and the
// occupancy, hx-swap-oob), then every change. The caller has checked that
// the performance exists (answer 404 before calling).
//
// It returns as soon as the socket is open; the socket then lives on its
// own, so nothing of the request (its context included) is used after the
// upgrade. A failed upgrade has been answered by the time it returns.
func (b *Broker) ServePerformance(w http.ResponseWriter, r *http.Request, performanceID int64, lang string) {
	b.serve(w, r, performanceID, lang)
}

// ServeHome is ServePerformance for the event home: "seats left" of every
// performance.
func (b *Broker) ServeHome(w http.ResponseWriter, r *http.Request, lang string) {
	b.serve(w, r, homeKey, lang)
}

func (b *Broker) serve(w http.ResponseWriter, r *http.Request, key int64, lang string) {
	c, err := websocket.Accept(w, r, acceptOptions)
	if err != nil {
		// Accept has answered (403 for another origin, 426 for plain HTTP).
		b.log.Debug("live: websocket upgrade refused", "error", err)
		return
	}
	s := newSubscriber(lang, b.cfg.QueueSize)
	if !b.join(key, s) {
		c.Close(websocket.StatusServiceRestart, "server restarting")
		return
	}
	go b.stream(c, s)
}

// stream writes the subscriber's queue to its socket until the peer goes,
// the hub drops it (1013: too slow), or the broker closes (1012).
//
// The socket is push-only: CloseRead reads (and answers) control frames in
// the background. Its context is not the broker's, because cancelling it
// would cut the connection before the 1012 close frame could be sent.
//
// Every write has a deadline (WriteTimeout): a timer, reset per write,
// that cuts the connection when it fires. It does the job of a context per
// write without allocating one per viewer per batch.
func (b *Broker) stream(c *websocket.Conn, s *subscriber) {
	defer b.wg.Done()
	defer b.leave(s)
	b.metrics.viewers.Inc()
	defer b.metrics.viewers.Dec()
	peer := c.CloseRead(context.Background())
	deadline := time.AfterFunc(time.Hour, func() { c.CloseNow() })
	deadline.Stop()
	defer deadline.Stop()
	ping := time.NewTimer(b.cfg.PingInterval)
	defer ping.Stop()
	var waiting [8]*message
	for {
		select {
		case <-s.gone:
			c.Close(s.code, s.reason)
			return
		default:
		}
		select {
		case m := <-s.queue:
			// A viewer that has fallen behind gets everything waiting in
			// one write.
			batch := append(waiting[:0], m)
		more:
			for len(batch) < len(waiting) {
				select {
				case m := <-s.queue:
					batch = append(batch, m)
				default:
					break more
				}
			}
			deadline.Reset(b.cfg.WriteTimeout)
			err := b.write(c, batch)
			deadline.Stop()
			clear(waiting[:])
			if err != nil {
				b.log.Debug("live: write failed", "error", err)
				c.CloseNow()
				return
			}
		case <-s.gone:
			c.Close(s.code, s.reason)
			return
		case <-b.ctx.Done():
			c.Close(websocket.StatusServiceRestart, "server restarting")
			return
		case <-peer.Done():
			c.CloseNow()
			return
		case <-ping.C:
			go b.ping(c)
			ping.Reset(b.cfg.PingInterval)
		}
	}
}

// mergeBuffers holds the buffers of merged writes.
var mergeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// write sends the messages as one WebSocket message.
func (b *Broker) write(c *websocket.Conn, ms []*message) error {
	data := ms[0].data
	if len(ms) > 1 {
		buf := mergeBuffers.Get().(*[]byte)
		*buf = merge((*buf)[:0], ms)
		data = *buf
		defer mergeBuffers.Put(buf)
	}
	if err := c.Write(context.Background(), websocket.MessageText, data); err != nil {
		return err
	}
	b.metrics.sent.Inc()
	for _, m := range ms {
		if !m.oldest.IsZero() {
			b.metrics.latency.Observe(time.Since(m.oldest).Seconds())
		}
	}
	return nil
}

// ping checks that the peer still answers; one that does not within half
// the ping interval is disconnected (and reconnects if it is alive).
func (b *Broker) ping(c *websocket.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PingInterval/2)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		c.CloseNow()
	}
}

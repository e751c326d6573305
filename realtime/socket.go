package realtime

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// acceptOptions are the sockets' options: same-origin only
// (coder/websocket's default, so another site cannot open a viewer's
// socket), and compression for the full state only. The full state of a
// 600-seat hall is about 100 KB of HTML and deflates to about 10 KB, which
// matters to phones on a crowded network, most of all when every viewer
// reconnects at once; it costs about 1.5 ms of CPU per (re)connect.
// Batches (a few KB) stay below the threshold: every viewer gets the same
// bytes, and deflating them once per viewer would cost more than the rest
// of the fan-out. No context takeover, so an idle socket holds no
// compressor.
func acceptOptions() *websocket.AcceptOptions {
	return &websocket.AcceptOptions{
		CompressionMode:      websocket.CompressionNoContextTakeover,
		CompressionThreshold: 32 << 10,
	}
}

// ServePerformance upgrades the request to a WebSocket that streams the
// performance's seat map in lang: first what the page at from lacks (the
// seats changed since, or nothing; the whole seat grid when from is nil
// or too far behind), then every change, each message ending with the
// position the page is then at (#live-version). All of it is hx-swap-oob.
// The caller has checked that the performance exists (answer 404 before
// calling).
//
// It returns as soon as the socket is open; the socket then lives on its
// own, so nothing of the request (its context included) is used after the
// upgrade. A failed upgrade has been answered by the time it returns.
func (b *Broker) ServePerformance(w http.ResponseWriter, r *http.Request, performanceID int64, lang string, from *Position) {
	b.serve(w, r, performanceID, lang, from)
}

// ServeHome is ServePerformance for the event home: "seats left" of every
// performance, all of them first.
func (b *Broker) ServeHome(w http.ResponseWriter, r *http.Request, lang string) {
	b.serve(w, r, homeKey, lang, nil)
}

func (b *Broker) serve(w http.ResponseWriter, r *http.Request, key int64, lang string, from *Position) {
	c, err := websocket.Accept(smallReads{w}, r, b.accept)
	if err != nil {
		// Accept has answered (403 for another origin, 426 for plain HTTP).
		b.log.Debug("live: websocket upgrade refused", "error", err)
		return
	}
	s := newSubscriber(lang, from, b.cfg.QueueSize)
	if !b.join(key, s) {
		c.Close(websocket.StatusServiceRestart, "server restarting")
		return
	}
	go b.stream(c, s)
}

// smallReads gives the socket a small read buffer instead of net/http's
// 4 KB one. A push-only socket only ever reads control frames (a pong or a
// close: at most 131 bytes), and the 4 KB saved is a fifth of what an idle
// viewer costs. The write buffer stays: it makes each message one syscall.
type smallReads struct{ http.ResponseWriter }

const readBuffer = 512

func (w smallReads) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// Bytes the client sent early are in net/http's buffer: keep it.
		return conn, brw, err
	}
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, readBuffer), brw.Writer), nil
}

func (w smallReads) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// stream writes the subscriber's queue to its socket until the peer goes,
// the hub drops it (1013: too slow), or the broker closes (1012).
//
// The socket is push-only: CloseRead reads (and answers) control frames in
// the background. Its context is not the broker's, because cancelling it
// would cut the connection before the 1012 close frame could be sent. A
// data message from the client (the seat map never sends one: no ws-send)
// ends the socket with 1008, which is CloseRead's rule, not ours.
//
// Every write has a deadline (WriteTimeout, plus time for its size on a
// slow link): a timer, reset per write, that cuts the connection when it
// fires. It does the job of a context per write without allocating one per
// viewer per batch.
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
			deadline.Reset(b.writeTimeout(batch))
			started := time.Now()
			err := b.write(c, batch)
			s.hub.spent.Add(int64(min(time.Since(started), maxWriteCost)))
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

// slowLink is the slowest link a write is given time for, on top of
// WriteTimeout: a full state (about 100 KB before compression) gets
// several more seconds, so a phone on a poor network is not cut off and
// sent the same full state again, over and over.
const slowLink = 16 << 10 // bytes per second

func (b *Broker) writeTimeout(ms []*message) time.Duration {
	n := 0
	for _, m := range ms {
		n += len(m.data)
	}
	return b.cfg.WriteTimeout + time.Duration(n)*time.Second/slowLink
}

// write sends the messages as one WebSocket message.
func (b *Broker) write(c *websocket.Conn, ms []*message) error {
	data := ms[0].data
	if len(ms) > 1 {
		buf, _ := b.merged.Get().(*[]byte)
		if buf == nil {
			buf = new([]byte)
		}
		*buf = merge((*buf)[:0], ms)
		data = *buf
		defer b.merged.Put(buf)
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

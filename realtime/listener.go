package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"festa/db"
)

// Channel is the NOTIFY channel seat changes are announced on; the payload
// is the performance id.
const Channel = "festa_seats"

// ListenerName is the application_name of the LISTEN connection, so it can
// be told apart in pg_stat_activity.
const ListenerName = "festa-listener"

// Listener holds this instance's one LISTEN connection and wakes the
// Broker for every NOTIFY festa_seats. It never waits on viewers: waking is
// a non-blocking signal, and the hubs read the change log themselves.
//
// A wake-up is only a hint. After every (re)connect, and whenever
// CatchUpEvery passes (whatever arrives), every hub is woken to check the
// change log, so a NOTIFY lost while disconnected, or on a connection that
// went silent, delays an update by at most CatchUpEvery.
type Listener struct {
	store  *db.Store
	broker *Broker
	log    *slog.Logger
	// CatchUpEvery is the periodic catch-up; default 2 s. Set it before Run.
	CatchUpEvery time.Duration
}

// NewListener returns a Listener for broker; start it with Run.
func NewListener(store *db.Store, broker *Broker, log *slog.Logger) *Listener {
	return &Listener{store: store, broker: broker, log: log, CatchUpEvery: 2 * time.Second}
}

// Reconnect backoff: from about a quarter second, doubling to 10 s, with
// jitter so instances do not reconnect in step; back to the start after a
// connection that lived a minute.
const (
	backoffMin    = 250 * time.Millisecond
	backoffMax    = 10 * time.Second
	backoffResetT = time.Minute
)

// Run listens until ctx ends, reconnecting whenever the connection fails.
func (l *Listener) Run(ctx context.Context) {
	delay := backoffMin
	for {
		start := time.Now()
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		l.broker.metrics.reconnects.Inc()
		if time.Since(start) > backoffResetT {
			delay = backoffMin
		}
		wait := delay/2 + rand.N(delay/2+1)
		l.log.Warn("live: listener disconnected; reconnecting", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		delay = min(delay*2, backoffMax)
	}
}

// listen runs one connection until it fails or ctx ends.
func (l *Listener) listen(ctx context.Context) error {
	cfg := l.store.Pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(closeCtx)
		cancel()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Whatever changed while nobody here was listening is in the change log.
	l.broker.WakeAll()
	next := time.Now().Add(l.CatchUpEvery)
	for {
		wait, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wait)
		quiet := wait.Err() != nil // the deadline passed: not a failure
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !quiet {
			return fmt.Errorf("wait for notification: %w", err)
		}
		if n != nil {
			l.broker.metrics.notifications.Inc()
			// "12" is a seat change of performance 12, "sales:12" a
			// change of its sales (db.SalesChannelPrefix), "checkin:12"
			// admissions at its doors (db.CheckInChannelPrefix), "question:7"
			// a question of student 7 asked or answered
			// (db.QuestionChannelPrefix).
			sales, isSales := strings.CutPrefix(n.Payload, db.SalesChannelPrefix)
			if id, err := strconv.ParseInt(sales, 10, 64); err == nil && isSales {
				l.broker.WakeSales(id)
			} else if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
				l.broker.Wake(id)
			} else if id, ok := checkInPayload(n.Payload); ok {
				l.broker.WakeCheckIns(id)
			} else if id, ok := questionPayload(n.Payload); ok {
				l.broker.WakeQuestions(id)
			} else {
				l.log.Warn("live: bad notification payload", "payload", n.Payload)
			}
		}
		if !time.Now().Before(next) {
			l.broker.WakeAll()
			next = time.Now().Add(l.CatchUpEvery)
			// A connection that has said nothing for a while may be dead
			// without knowing it; a round trip tells.
			if err != nil {
				pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := conn.Ping(pingCtx)
				cancel()
				if err != nil {
					return fmt.Errorf("ping: %w", err)
				}
			}
		}
	}
}

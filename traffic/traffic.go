// Package traffic counts page views for the council's traffic view,
// without keeping anything about who viewed: a page view is a kind of page
// (and a performance, for performance pages) in a minute, nothing more.
//
// Counting is on the hot path of every page a student opens during the
// sales spike, so a view costs a map increment under a mutex; a Counter
// writes its sums to the database every few seconds in one upsert
// (db.AddPageViews), which adds to what other instances wrote.
package traffic

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"festa/db"
)

// The kinds of page counted (page_views.kind).
const (
	Home        = "home"
	Performance = "performance"
	Login       = "login"
	Tickets     = "tickets"
)

// FlushEvery is how often a running Counter writes its counts: the traffic
// view lags by at most this much, and the database sees one statement per
// instance this often, however many students arrive.
const FlushEvery = 5 * time.Second

// Store is where a Counter writes: *db.Store.
type Store interface {
	AddPageViews(ctx context.Context, counts []db.PageViewCount) error
}

type key struct {
	minute time.Time
	kind   string
	slug   string
}

// Counter sums page views in memory until Flush. It is safe for
// concurrent use; the zero value is not (use NewCounter).
type Counter struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex
	counts map[key]int
}

// NewCounter returns a Counter that writes to store; now is its clock
// (time.Now when nil), so tests can place views in a minute.
func NewCounter(store Store, log *slog.Logger, now func() time.Time) *Counter {
	if now == nil {
		now = time.Now
	}
	return &Counter{store: store, log: log, now: now, counts: map[key]int{}}
}

// Add counts one view of a page of kind; slug names the performance of a
// Performance page and is "" otherwise.
func (c *Counter) Add(kind, slug string) {
	k := key{minute: c.now().UTC().Truncate(time.Minute), kind: kind, slug: slug}
	c.mu.Lock()
	c.counts[k]++
	c.mu.Unlock()
}

// Flush writes the counts so far and starts again from zero. When the
// write fails the counts are kept for the next Flush, so a moment without
// the database loses no views.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	taken := c.counts
	c.counts = map[key]int{}
	c.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	batch := make([]db.PageViewCount, 0, len(taken))
	for k, n := range taken {
		batch = append(batch, db.PageViewCount{Minute: k.minute, Kind: k.kind, PerformanceSlug: k.slug, Views: n})
	}
	if err := c.store.AddPageViews(ctx, batch); err != nil {
		c.mu.Lock()
		for k, n := range taken {
			c.counts[k] += n
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then once more with a fresh
// few seconds, so a server shutting down keeps its last views. Failures
// are logged here (the counts wait for the next flush).
func (c *Counter) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("page views not written yet", "err", err)
			}
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.Flush(last); err != nil {
				c.log.Error("page views lost at shutdown", "err", err)
			}
			return
		}
	}
}

// botMarks are words in the user agents of crawlers and link previewers
// (a link pasted in a class chat is fetched by the chat's server), which
// are not people looking at festa.
var botMarks = []string{"bot", "crawl", "spider", "slurp", "preview", "scrap", "facebookexternalhit", "curl/", "wget/", "python-requests"}

// IsBot reports whether userAgent looks like a program rather than a
// person's browser. An empty user agent is a program too.
func IsBot(userAgent string) bool {
	if userAgent == "" {
		return true
	}
	ua := strings.ToLower(userAgent)
	for _, m := range botMarks {
		if strings.Contains(ua, m) {
			return true
		}
	}
	return false
}

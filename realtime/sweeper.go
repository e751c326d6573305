package realtime

import (
	"context"
	"log/slog"
	"time"

	"festa/db"
)

// SweepHolds frees expired holds every interval until ctx ends, and calls
// changed with the performances it touched (to wake their viewers: the
// caller pokes its Notifier).
// Viewers and bookings already treat an expired hold as free, so the
// sweeper only tidies the tables, writes the audit trail and pushes the
// change live; if it stops, nobody is locked out of a seat. Every instance
// runs one: each sweep locks the rows it frees, so two instances never
// free one hold twice.
func SweepHolds(ctx context.Context, store *db.Store, interval time.Duration, changed func([]int64), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := store.ExpireHolds(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("expire holds", "error", err)
		}
		if len(ids) > 0 {
			changed(ids)
		}
	}
}

package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The traffic view's numbers (migration 011_traffic.sql): page views as
// anonymous counts per minute, and the booking funnel, whose people come
// from the audit log.

// PageViewCount is how many times a kind of page was opened in one minute
// on one instance. PerformanceSlug names the performance of a
// "performance" page and is empty for every other kind; it is a slug, not
// an id, because the counting middleware only knows the URL.
type PageViewCount struct {
	Minute          time.Time // the start of the minute
	Kind            string    // home, performance, login or tickets
	PerformanceSlug string
	Views           int
}

// AddPageViews adds counts to the stored ones in one statement, so
// instances flushing at once add up rather than overwrite each other.
// Counts of a performance that no longer exists are dropped. counts must
// not name the same minute, kind and performance twice (one upsert cannot
// touch a row twice); traffic.Counter sums before it flushes.
func (s *Store) AddPageViews(ctx context.Context, counts []PageViewCount) error {
	if len(counts) == 0 {
		return nil
	}
	minutes := make([]time.Time, len(counts))
	kinds := make([]string, len(counts))
	slugs := make([]string, len(counts))
	views := make([]int32, len(counts))
	for i, c := range counts {
		minutes[i], kinds[i], slugs[i], views[i] = c.Minute.UTC().Truncate(time.Minute), c.Kind, c.PerformanceSlug, int32(c.Views)
	}
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO page_views (minute, kind, performance_id, views)
		SELECT u.minute, u.kind, p.id, u.views
		  FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[]) AS u(minute, kind, slug, views)
		  LEFT JOIN performances p ON u.kind = 'performance' AND p.slug = u.slug
		 WHERE u.views > 0 AND (u.kind <> 'performance' OR p.id IS NOT NULL)
		ON CONFLICT (minute, kind, performance_id) DO UPDATE SET views = page_views.views + EXCLUDED.views`,
		minutes, kinds, slugs, views)
	if err != nil {
		return fmt.Errorf("db: add page views: %w", err)
	}
	return nil
}

// MinuteViews is the page views of one minute.
type MinuteViews struct {
	Minute time.Time
	Views  int
}

// PageViewsPerMinute returns every minute from from (truncated to the
// minute) up to and including the minute of to, oldest first, with its
// page views: of every page when performanceID is 0, else of that
// performance's page. Minutes without views are there with 0, so a chart
// has no gaps.
func (s *Store) PageViewsPerMinute(ctx context.Context, performanceID int64, from, to time.Time) ([]MinuteViews, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT m.minute, coalesce(sum(v.views), 0)::int
		  FROM generate_series($1::timestamptz, $2::timestamptz, interval '1 minute') AS m(minute)
		  LEFT JOIN page_views v ON v.minute = m.minute AND ($3::bigint = 0 OR v.performance_id = $3)
		 GROUP BY m.minute
		 ORDER BY m.minute`,
		from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute), performanceID)
	if err != nil {
		return nil, fmt.Errorf("db: page views per minute: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MinuteViews, error) {
		var m MinuteViews
		err := r.Scan(&m.Minute, &m.Views)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: page views per minute: %w", err)
	}
	return out, nil
}

// Funnel is the booking funnel of a performance (or all of them) since
// some time. Viewed counts page loads (page views keep no people); the
// other steps count distinct students, from the audit log.
//
// Each step counts the students who got at least that far, so the steps
// never grow: a student who confirmed also held, and one who held was
// signed in, even if they signed in before the window or from another
// page (a session lasts; nobody signs in again to book a second show).
type Funnel struct {
	Viewed    int // performance page views
	SignedIn  int // students who signed in (from the performance's page, for one performance), held or confirmed
	Held      int // students who held a seat or confirmed
	Confirmed int // students who confirmed a booking
}

// Funnel counts the funnel of performanceID (0: every performance) from
// since on, truncated to the minute as the page views are. Only students'
// own actions count: seats the ticket desk holds or gives to guests are
// not the students' funnel. A student who holds three times counts once.
//
// A sign-in belongs to a performance when it started from that
// performance's page (RecordSignIn); across all performances every
// student sign-in counts.
func (s *Store) Funnel(ctx context.Context, performanceID int64, since time.Time) (Funnel, error) {
	var f Funnel
	err := s.Pool.QueryRow(ctx, `
		SELECT (SELECT coalesce(sum(views), 0)::int FROM page_views
		         WHERE kind = 'performance' AND minute >= $2 AND ($1::bigint = 0 OR performance_id = $1)),
		       count(DISTINCT actor_id)::int,
		       count(DISTINCT actor_id) FILTER (WHERE action IN ('hold', 'confirm'))::int,
		       count(DISTINCT actor_id) FILTER (WHERE action = 'confirm')::int
		  FROM audit_log
		 WHERE action IN ('login', 'hold', 'confirm') AND actor_kind = 'student'
		   AND at >= $2 AND ($1::bigint = 0 OR performance_id = $1)`,
		performanceID, since.UTC().Truncate(time.Minute)).Scan(&f.Viewed, &f.SignedIn, &f.Held, &f.Confirmed)
	if err != nil {
		return f, fmt.Errorf("db: funnel: %w", err)
	}
	return f, nil
}

// RecordSignIn writes a student's sign-in to the audit log (action
// "login"), with the performance whose page they signed in from, if
// fromSlug names one. It keeps no address or user agent: the funnel needs
// only who and when, and failed sign-ins are counted per address
// elsewhere (login_failures).
func (s *Store) RecordSignIn(ctx context.Context, studentID int64, fromSlug string) error {
	_, err := s.Pool.Exec(ctx, `SELECT festa_audit('student', $1, 'login',
		(SELECT id FROM performances WHERE slug = $2), NULL, '', '', NULL, NULL)`, studentID, fromSlug)
	if err != nil {
		return fmt.Errorf("db: record sign-in: %w", err)
	}
	return nil
}

package traffic

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"festa/db"
)

// fakeStore records what is flushed, and fails while failing is set.
type fakeStore struct {
	mu      sync.Mutex
	failing bool
	got     []db.PageViewCount
}

func (s *fakeStore) AddPageViews(_ context.Context, counts []db.PageViewCount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		return errors.New("database away")
	}
	s.got = append(s.got, counts...)
	return nil
}

func (s *fakeStore) total(kind, slug string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.got {
		if c.Kind == kind && c.PerformanceSlug == slug {
			n += c.Views
		}
	}
	return n
}

// Views are summed per minute, kind and performance before they are
// written; a failed write keeps them for the next flush.
func TestCounterSumsAndKeepsCountsAcrossAFailedFlush(t *testing.T) {
	store := &fakeStore{}
	at := time.Date(2026, 5, 1, 9, 0, 10, 0, time.UTC)
	c := NewCounter(store, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return at })
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { c.Add(Performance, "opening") })
	}
	wg.Wait()
	c.Add(Home, "")
	store.failing = true
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("a failed write was not reported")
	}
	store.failing = false
	at = at.Add(time.Minute)
	c.Add(Performance, "opening")
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := store.total(Performance, "opening"); n != 51 {
		t.Errorf("opening views written %d, want 51", n)
	}
	if len(store.got) != 3 {
		t.Errorf("%d rows written, want 3 (opening in two minutes, home once): %+v", len(store.got), store.got)
	}
	for _, row := range store.got {
		if row.Minute.Second() != 0 || row.Minute.Nanosecond() != 0 {
			t.Errorf("minute %v is not the start of a minute", row.Minute)
		}
	}
	// Nothing is written twice.
	if err := c.Flush(context.Background()); err != nil || len(store.got) != 3 {
		t.Errorf("an empty flush wrote something: %v, %d rows", err, len(store.got))
	}
}

// Run writes what was counted when its context ends, so a server shutting
// down keeps its last views.
func TestRunFlushesOnShutdown(t *testing.T) {
	store := &fakeStore{}
	c := NewCounter(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, time.Hour); close(done) }()
	c.Add(Login, "")
	c.Add(Login, "")
	cancel()
	<-done
	if n := store.total(Login, ""); n != 2 {
		t.Errorf("%d login views written at shutdown, want 2", n)
	}
}

func TestIsBot(t *testing.T) {
	for _, tc := range []struct {
		ua  string
		bot bool
	}{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", false},
		{"Mozilla/5.0 (Linux; Android 14; SM-S921N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36 KAKAOTALK 10.8.0", false},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"facebookexternalhit/1.1", true},
		{"kakaotalk-scrap/1.0; +https://devtalk.kakao.com/", true},
		{"Mozilla/5.0 (compatible; Yeti/1.1; +https://naver.me/spd) NaverBot", true},
		{"curl/8.5.0", true},
		{"", true},
	} {
		if got := IsBot(tc.ua); got != tc.bot {
			t.Errorf("IsBot(%q) = %v, want %v", tc.ua, got, tc.bot)
		}
	}
}

package handlers_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"festa/apptest"
)

// BenchmarkHoldRelease measures the booking path through the real handler
// stack: signed-in students (one cookie jar each) tap random seats of the
// 600-seat demo hall at once, as htmx does (hold, then release what they
// got), over real HTTP on loopback. Each b.N is one hold tap (and the
// release that follows a granted one). It reports taps/s (holds) and the hold latency percentiles; run it
// with -cpuprofile to see where a tap's time goes:
//
//	go test ./handlers -run '^$' -bench HoldRelease -benchtime 4000x -cpuprofile /tmp/cpu.out
func BenchmarkHoldRelease(b *testing.B) {
	const students = 64
	app := apptest.Start(b, apptest.Options{Students: students})
	clients := make([]*apptest.Client, students)
	for i := range clients {
		clients[i] = app.NewClient(b)
		clients[i].SignIn(app.Demo.Students[i].No)
		clients[i].Get("/p/opening")
	}
	var labels []string
	for r := 'A'; r <= 'T'; r++ {
		for n := 1; n <= 30; n++ {
			labels = append(labels, fmt.Sprintf("%c%d", r, n))
		}
	}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		holds []time.Duration
		codes = map[int]int{}
	)
	tap := func(c *apptest.Client, path, seat string) (int, time.Duration) {
		form := url.Values{"seat": {seat}, "_csrf": {c.Token()}}
		req, _ := http.NewRequest(http.MethodPost, app.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		start := time.Now()
		resp, _ := c.Do(req)
		return resp.StatusCode, time.Since(start)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			for next.Add(1) <= int64(b.N) {
				seat := labels[rng.IntN(len(labels))]
				status, d := tap(c, "/p/opening/hold", seat)
				mu.Lock()
				holds = append(holds, d)
				codes[status]++
				mu.Unlock()
				if status == http.StatusOK {
					tap(c, "/p/opening/release", seat)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(holds)
	pct := func(p float64) float64 {
		if len(holds) == 0 {
			return 0
		}
		return float64(holds[int(p*float64(len(holds)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "taps/s")
	b.ReportMetric(pct(0.50), "hold_p50_ms")
	b.ReportMetric(pct(0.99), "hold_p99_ms")
	if codes[http.StatusOK] == 0 {
		b.Fatalf("no hold succeeded: %v", codes)
	}
}

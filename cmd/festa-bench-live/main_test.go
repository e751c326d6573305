package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/db/dbtest"
	"festa/demo"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestHTTPTapsReachEveryViewer runs the benchmark's -via http mode small
// against two test instances on one database: signed-in students tap hold
// and release through the first one's handlers, the viewers are spread
// over both (-watch), and every tap must be answered without a refusal and
// seen by every viewer, the second instance's through NOTIFY. The figures
// are not asserted; that the run measures real taps and real sightings is.
func TestHTTPTapsReachEveryViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("bench: not in -short")
	}
	// An empty database: the command loads the demo festival itself, as it
	// does into DATABASE_URL, and adds its bench students.
	app := apptest.StartEmpty(t, apptest.Options{})
	other := apptest.Serve(t, app.Store, demo.Result{}, apptest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log strings.Builder
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return app.DatabaseURL
		}
		return ""
	}
	args := []string{"festa-bench-live", "-url", app.URL, "-watch", app.URL + "," + other.URL,
		"-viewers", "20", "-rate", "40", "-d", "1s", "-settle", "0s", "-via", "http"}
	if err := run(ctx, args, getenv, &out, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	report := out.String()
	t.Log(report)

	changes := find(t, report, `seat changes \(via http\): (\d+) committed \([0-9.]+/s\), (\d+) failed`)
	if changes[0] < 10 || changes[1] != 0 {
		t.Errorf("want at least 10 taps and none failed, got %d committed, %d failed", changes[0], changes[1])
	}
	taps := find(t, report, `taps \(POST hold/release through the server\): .*\((\d+) answered\)`)
	if taps[0] != changes[0] || strings.Contains(report, "failed: ") {
		t.Errorf("every committed tap should be answered without a refusal:\n%s", report)
	}
	if !strings.Contains(report, "viewers spread in turn over "+app.URL+", "+other.URL) {
		t.Errorf("the report does not say the viewers watched both instances:\n%s", report)
	}
	// Every viewer, on either instance, sees every tap: 20 sightings of each.
	seen := find(t, report, `click-to-screen \(from sending the tap\): .*\((\d+) samples, (\d+) unmatched\)`)
	if seen[0] != 20*changes[0] || seen[1] != 0 {
		t.Errorf("want %d sightings (20 viewers × %d taps) and none unmatched, got %d and %d", 20*changes[0], changes[0], seen[0], seen[1])
	}
}

// find returns the numbers re's groups match in report.
func find(t *testing.T, report, re string) []int {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no line matching %q in:\n%s", re, report)
	}
	var out []int
	for _, s := range m[1:] {
		n, _ := strconv.Atoi(s)
		out = append(out, n)
	}
	return out
}

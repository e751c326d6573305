package db_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/passhash"
	"festa/pgcluster"
)

// BenchmarkHoldConfirm measures the booking write path the spike hits: one
// student holds a free seat and confirms it (two transactions, each under
// the performance lock, each writing the seat, the change feed and the
// audit log). Parallel students contend for the same performance, as they
// do when sales open. Compare with pgbench's simple-update floor; see
// docs/BENCHMARKS.md.
func BenchmarkHoldConfirm(b *testing.B) {
	store := dbtest.New(b)
	ctx := context.Background()
	const students = 1200
	if _, err := demo.Load(ctx, store, demo.Options{Students: students, Hash: passhash.Fast}); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	rows, _ := store.Pool.Query(ctx, `SELECT id FROM students ORDER BY id`)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	var labels []string
	for r := 0; r < 20; r++ {
		for n := 1; n <= 30; n++ {
			l := fmt.Sprintf("%c%d", 'A'+r, n)
			if (l[0] == 'P' || l[0] == 'Q') && n >= 13 && n <= 18 {
				continue
			}
			labels = append(labels, l)
		}
	}
	perf, _ := store.PerformanceBySlug(ctx, "opening")
	floor := pgbenchFloor(b)
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)) - 1
			if i >= len(labels) || i >= len(ids) {
				// The hall is full: start the next round on a fresh hall state.
				b.Fatalf("benchmark ran past %d seats; use -benchtime=%dx or fewer", len(labels), len(labels))
			}
			a := db.Actor{Kind: "student", ID: ids[i]}
			if _, err := store.Hold(ctx, perf.ID, labels[i], ids[i], a); err != nil {
				b.Fatal(err)
			}
			if _, err := store.Confirm(ctx, perf.ID, ids[i], newID, sign, a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	// Each booking is two transactions; pgbench -N counts one update
	// transaction (three writes) as one.
	txps := float64(2*b.N) / time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "bookings/s")
	b.ReportMetric(floor, "pgbench_tps")
	b.ReportMetric(txps/floor, "tx_ratio_to_pgbench")
}

// pgbenchFloor runs pgbench's simple-update workload (-N) against a fresh
// database on the same server with the same parallelism, and returns its
// transactions per second: the floor the booking figures are read against.
func pgbenchFloor(b *testing.B) float64 {
	b.Helper()
	url := dbtest.URL(b)
	bin := "pgbench"
	if dir, err := pgcluster.FindBinaries(); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "pgbench")); err == nil {
			bin = filepath.Join(dir, "pgbench")
		}
	}
	if out, err := exec.Command(bin, "-i", "-q", "-s", "1", url).CombinedOutput(); err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	clients := strconv.Itoa(runtime.GOMAXPROCS(0))
	out, err := exec.Command(bin, "-N", "-c", clients, "-j", "2", "-T", "10", url).CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	return tps
}

package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"festa/db"
)

// FloorResult is the shared booking floor (../shared/bench/booking-floor:
// a bare HTTP server doing one conditional UPDATE per tap) run in the
// same session with the same students, tries and seats, so festa's hold
// figures read as a ratio to it.
type FloorResult struct {
	Output   string    `json:"output"`
	Requests int       `json:"requests"`
	Seconds  float64   `json:"seconds"`
	Hold     Quantiles `json:"hold"`
	// HoldP99Ratio is festa's hold p99 over the floor's.
	HoldP99Ratio float64 `json:"hold_p99_ratio"`
}

var (
	floorHold  = regexp.MustCompile(`hold p50=(\S+) p95=(\S+) p99=(\S+) max=(\S+)`)
	floorBurst = regexp.MustCompile(`(\d+) requests in ([0-9.]+)s`)
)

// runFloor starts the floor's server on a free port against dbURL (a
// scratch database: it recreates its table floor_seats), runs its client
// burst, and stops the server.
func runFloor(ctx context.Context, bin, dbURL string, students, tries, seats int) (*FloorResult, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	var serverOut bytes.Buffer
	server := exec.CommandContext(ctx, bin, "-mode", "server", "-addr", addr, "-db", dbURL, "-seats", strconv.Itoa(seats))
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		return nil, fmt.Errorf("loadtest: start the floor: %w", err)
	}
	defer func() {
		server.Process.Kill()
		server.Wait()
	}()
	up := false
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			up = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !up {
		return nil, fmt.Errorf("loadtest: the floor's server never listened: %s", serverOut.String())
	}
	out, err := exec.CommandContext(ctx, bin, "-mode", "client", "-addr", addr, "-n", strconv.Itoa(students), "-tries", strconv.Itoa(tries)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("loadtest: the floor's burst: %w: %s", err, out)
	}
	return parseFloor(string(out))
}

func parseFloor(out string) (*FloorResult, error) {
	r := &FloorResult{Output: strings.TrimSpace(out)}
	m := floorHold.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("loadtest: unexpected floor output: %s", out)
	}
	var q [4]float64
	for i := range q {
		d, err := time.ParseDuration(m[i+1])
		if err != nil {
			return nil, fmt.Errorf("loadtest: floor output %q: %w", m[i+1], err)
		}
		q[i] = float64(d) / float64(time.Millisecond)
	}
	if b := floorBurst.FindStringSubmatch(out); b != nil {
		r.Requests, _ = strconv.Atoi(b[1])
		r.Seconds, _ = strconv.ParseFloat(b[2], 64)
	}
	r.Hold = Quantiles{Count: r.Requests, P50: q[0], P95: q[1], P99: q[2], Max: q[3]}
	return r, nil
}

// floorDatabase is the scratch database for the floor: given, or
// festa_bench_floor created beside the database behind festa.
func floorDatabase(ctx context.Context, store *db.Store, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	u, err := url.Parse(store.Pool.Config().ConnString())
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", errors.New("loadtest: give the floor a scratch database URL (-floor-db)")
	}
	var exists bool
	if err := store.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'festa_bench_floor')`).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := store.Pool.Exec(ctx, `CREATE DATABASE festa_bench_floor`); err != nil {
			return "", fmt.Errorf("loadtest: create the floor's scratch database (or give -floor-db): %w", err)
		}
	}
	u.Path = "/festa_bench_floor"
	return u.String(), nil
}

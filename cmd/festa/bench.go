package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"festa/db"
	"festa/loadtest"
)

// runBench is `festa bench spike`: the opening-minute load command (see
// package loadtest and docs/BENCHMARKS.md).
func runBench(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "spike" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(e.stdout, "Usage: festa bench spike [flags]\n\nRun the opening-minute spike against a running festa; 'festa bench spike --help' lists the flags.")
			return nil
		}
		return errors.New("bench: usage: festa bench spike [flags]")
	}
	fs := newFlags(e, "bench spike", `Sign in N students and open M live seat maps before sales open, then let every
student hold and confirm at the opening, through -url (festa, or nginx in front).
Reports sign-in rate, tickets/s, hold and confirm p50/p95/p99, errors by kind,
click→screen lag, CPU and memory of -pids, then checks the database (-database-url,
the one behind -url): tickets = seats sold, no seat twice, nobody over the limit,
every successful confirm has its ticket. Exits non-zero when a check fails.
Creates a fresh performance (or uses -performance) and bench students 90000… with
new codes hashed cheaply (passhash.Fast) on every run.`)
	var o loadtest.Options
	base := fs.String("url", "http://127.0.0.1:8080", "festa or nginx base URL")
	dbURL := fs.String("database-url", e.getenv("DATABASE_URL"), "PostgreSQL behind -url (default $DATABASE_URL)")
	fs.IntVar(&o.Students, "students", 300, "students who sign in and book")
	fs.IntVar(&o.Viewers, "viewers", 200, "live seat-map viewers (WebSockets)")
	fs.Func("viewer-urls", "comma-separated base URLs the viewers connect to in turn (default -url), e.g. each instance behind nginx", func(s string) error {
		for _, u := range strings.Split(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				o.ViewerURLs = append(o.ViewerURLs, strings.TrimRight(u, "/"))
			}
		}
		return nil
	})
	fs.IntVar(&o.Seats, "seats", 60, "seats of the fresh performance")
	fs.StringVar(&o.Performance, "performance", "", "use this existing performance (slug) instead of a fresh one")
	fs.IntVar(&o.TicketLimit, "limit", 1, "ticket limit of the fresh performance")
	fs.Float64Var(&o.BestFraction, "best-fraction", 0.3, "share of students who tap \"best available\"")
	fs.Float64Var(&o.Retry, "retry", 0.8, "share of students who try again after losing a seat")
	fs.IntVar(&o.Tries, "tries", 5, "taps a student makes at most")
	fs.DurationVar(&o.Think, "think", 0, "a student's pause before tapping again or confirming (random, up to this)")
	fs.IntVar(&o.SignInConcurrency, "signin-concurrency", 32, "sign-ins in flight at once")
	fs.IntVar(&o.Sources, "sources", 0, "spread students over this many loopback addresses (127.0.0.2…), for per-address limits in front")
	openIn := 3 * time.Second
	fs.Func("open-in", "seconds (or a duration) from the moment everyone is signed in and watching to the opening (default 3)", func(s string) error {
		d, err := secondsOrDuration(s)
		openIn = d
		return err
	})
	var pids []int
	fs.Func("pids", "comma-separated process ids to report CPU and memory of (festa, nginx, postgres…)", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || pid <= 0 {
				return fmt.Errorf("bad pid %q", f)
			}
			pids = append(pids, pid)
		}
		return nil
	})
	fs.StringVar(&o.FloorBin, "floor", "", "a build of ../shared/bench/booking-floor to run after the burst with the same students, tries and seats")
	fs.StringVar(&o.FloorDB, "floor-db", "", "scratch database for -floor (default: festa_bench_floor, created beside -database-url)")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *dbURL == "" {
		return errors.New("bench spike: give -database-url or set DATABASE_URL (the database behind -url)")
	}
	store, err := db.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	o.URL, o.Store, o.OpenIn, o.PIDs = *base, store, openIn, pids
	o.Log = func(format string, a ...any) {
		fmt.Fprintf(e.stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
	r, err := loadtest.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "command: festa bench %s\n", strings.Join(args, " "))
	r.Print(e.stdout)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if !r.OK {
		return errors.New("bench spike: an invariant failed (see FAIL above)")
	}
	return nil
}

// secondsOrDuration reads "15" as 15 seconds and "1m30s" as written.
func secondsOrDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"festa/db"
	"festa/demo"
	"festa/pgcluster"
)

// devDir is where `festa dev` keeps its private cluster and demo codes.
const devDir = ".festa"

func runDev(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "dev", "Run festa locally: a private PostgreSQL under ./.festa (or DATABASE_URL),\nmigrations, the demo festival on first start, and the server. Ctrl-C stops it all.")
	students := fs.Int("students", 1200, "demo roster size on first start")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := serverConfig(e)
	if err != nil {
		return err
	}
	store, stop, err := openDevStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer stop()
	if err := loadDemoIfEmpty(ctx, e, store, *students); err != nil {
		return err
	}
	return serve(ctx, e, store, cfg, func(addr string) {
		port := addr[strings.LastIndex(addr, ":")+1:]
		fmt.Fprintf(e.stdout, "\nfesta is running:\n  home        http://localhost:%s/\n  seat map    http://localhost:%s/p/opening\n  countdown   http://localhost:%s/p/night\n  staff       http://localhost:%s/staff/login\n  demo codes  %s\nPress Ctrl-C to stop.\n\n",
			port, port, port, port, filepath.Join(devDir, "demo-codes.csv"))
	})
}

// loadDemoIfEmpty loads the demo festival into a database without a
// festival, and otherwise prints the demo logins it already has.
func loadDemoIfEmpty(ctx context.Context, e env, store *db.Store, students int) error {
	if _, err := store.FirstEvent(ctx); errors.Is(err, db.ErrNotFound) {
		fmt.Fprintf(e.stdout, "loading the demo festival (%d students; hashing their codes takes a few seconds)…\n", students)
		return loadDemo(ctx, e, store, demo.Options{Students: students}, filepath.Join(devDir, "demo-codes.csv"))
	} else if err != nil {
		return err
	}
	if logins, err := demo.Logins(ctx, store); err == nil {
		printLogins(e, logins)
	}
	return nil
}

// openDevStore opens and migrates the dev database (see devDatabase); stop
// closes the pool, then stops the private cluster: always for `festa dev`
// (stopReused, as Ctrl-C promises), only if it started it for the others.
func openDevStore(ctx context.Context, e env, stopReused bool) (*db.Store, func(), error) {
	url, stopCluster, err := devDatabase(ctx, e, stopReused)
	if err != nil {
		return nil, nil, err
	}
	store, err := db.Open(ctx, url)
	if err != nil {
		stopCluster()
		return nil, nil, err
	}
	stop := func() {
		store.Close()
		stopCluster()
	}
	if err := store.Migrate(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	return store, stop, nil
}

// devDatabase returns DATABASE_URL when set; otherwise it starts (or
// reuses) the private cluster under ./.festa and makes sure its festa
// database exists. The returned stop function stops the cluster.
func devDatabase(ctx context.Context, e env, stopReused bool) (string, func(), error) {
	if url := e.getenv("DATABASE_URL"); url != "" {
		return url, func() {}, nil
	}
	cluster, err := pgcluster.Start(ctx, filepath.Join(devDir, "pg"), pgcluster.Options{
		Log: func(f string, a ...any) { fmt.Fprintf(e.stdout, f+"\n", a...) },
	})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		if cluster.Reused && !stopReused {
			return // another festa (a running `festa dev`) still needs it
		}
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(e.stderr, "festa:", err)
		} else {
			fmt.Fprintln(e.stdout, "private PostgreSQL stopped")
		}
	}
	if err := createDatabase(ctx, cluster.URL("postgres"), "festa"); err != nil {
		stop()
		return "", nil, err
	}
	return cluster.URL("festa"), stop, nil
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("dev: connect to the private cluster: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("dev: create database: %w", err)
	}
	return nil
}

func runDemo(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "demo", "Load the demo festival into DATABASE_URL (or the dev cluster); loading twice changes nothing.")
	students := fs.Int("students", 1200, "number of demo students")
	codes := fs.String("codes", filepath.Join(devDir, "demo-codes.csv"), "write every demo student's access code here as CSV student_no,name,code")
	admin := fs.String("admin-password", "", "set the council account's password")
	gate := fs.String("gate-password", "", "set the gate account's password")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *students < 1 || *students > 3*99*99 {
		return fmt.Errorf("demo: --students must be between 1 and %d", 3*99*99)
	}
	store, stop, err := openDevStore(ctx, e, false)
	if err != nil {
		return err
	}
	defer stop()
	return loadDemo(ctx, e, store, demo.Options{Students: *students, AdminPassword: *admin, GatePassword: *gate}, *codes)
}

func loadDemo(ctx context.Context, e env, store *db.Store, opts demo.Options, codesFile string) error {
	res, err := demo.Load(ctx, store, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(codesFile), 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f, err := os.OpenFile(codesFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := demo.WriteCodes(f, res.Students); err != nil {
		f.Close()
		return fmt.Errorf("demo: write codes: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: write codes: %w", err)
	}
	fmt.Fprintf(e.stdout, "demo festival %q ready: %d students added, %d in the roster; codes in %s\n",
		demo.EventSlug, res.StudentsAdded, len(res.Students), codesFile)
	printLogins(e, res)
	return nil
}

// printLogins shows a student login and the staff logins.
func printLogins(e env, res demo.Result) {
	if len(res.Students) > 0 {
		s := res.Students[0]
		fmt.Fprintf(e.stdout, "  student   %s / %s (%s)\n", s.No, s.Code, s.Name)
	}
	for _, l := range res.Staff {
		pw := l.Password
		if pw == "" {
			pw = "(changed earlier; unchanged)"
		}
		fmt.Fprintf(e.stdout, "  %-8s  %s / %s\n", l.Role, l.Username, pw)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"festa/db"
	"festa/handlers"
	"festa/server"
)

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "Serve festa against DATABASE_URL, applying migrations first.")
	noMigrate := fs.Bool("no-migrate", false, "do not apply migrations on start")
	if err := parse(fs, args); err != nil {
		return err
	}
	url := e.getenv("DATABASE_URL")
	if url == "" {
		return errors.New("serve: DATABASE_URL is not set (use 'festa dev' to run locally without one)")
	}
	cfg, err := serverConfig(e)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer store.Close()
	if !*noMigrate {
		if err := store.Migrate(ctx); err != nil {
			return err
		}
	}
	return serve(ctx, e, store, cfg, nil)
}

// serverConfig reads the handlers' settings from the environment; serve
// and dev read it before touching the database, so a bad value is one
// clear line and nothing started.
func serverConfig(e env) (handlers.Config, error) {
	baseURL := strings.TrimRight(e.get("FESTA_BASE_URL", "http://localhost:8080"), "/")
	proxies, err := handlers.ParseTrustedProxies(e.getenv("FESTA_TRUSTED_PROXIES"))
	if err != nil {
		return handlers.Config{}, err
	}
	return handlers.Config{BaseURL: baseURL, SecureCookies: strings.HasPrefix(baseURL, "https://"), TrustedProxies: proxies}, nil
}

func runMigrate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate", "Apply every pending migration to DATABASE_URL and exit.")
	if err := parse(fs, args); err != nil {
		return err
	}
	url := e.getenv("DATABASE_URL")
	if url == "" {
		return errors.New("migrate: DATABASE_URL is not set")
	}
	if err := db.MigrateURL(ctx, url); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

// serve runs the HTTP server until ctx ends, then drains it. ready, when
// set, is called with the bound address once it accepts connections.
func serve(ctx context.Context, e env, store *db.Store, cfg handlers.Config, ready func(addr string)) error {
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ring, err := ticketRing(ctx, e, store, log)
	if err != nil {
		return err
	}
	holderTags, err := holders(ctx, store)
	if err != nil {
		return err
	}
	// The live parts stop after the HTTP server: viewers first (close
	// 1012), then the last NOTIFY and page views.
	app, err := server.New(server.Options{
		Store: store, Config: cfg, Logger: log, Registry: reg, Tickets: ring, Holders: holderTags,
	})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			app.Close(ctx)
		}
	}()
	addr := e.get("FESTA_ADDR", ":8080")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           app.Handler.Echo(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "trusted_proxies", len(cfg.TrustedProxies))
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Shutdown does not track WebSockets (they are hijacked); as soon as it
	// stops accepting, every viewer is sent 1012 and reconnects elsewhere.
	srv.RegisterOnShutdown(func() { app.Live.Close(shutdownCtx) })
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	closed = true
	if err := app.Close(shutdownCtx); err != nil {
		return fmt.Errorf("serve: close live viewers: %w", err)
	}
	return nil
}

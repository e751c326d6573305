// Package server wires one festa instance together: the HTTP handlers, the
// live broker with its notifier and LISTEN connection, the hold sweeper and
// the page-view counter. `festa serve` and the test servers (apptest) both
// build their instance here, so a test runs exactly what production runs.
package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"festa/db"
	"festa/handlers"
	"festa/i18n"
	"festa/realtime"
	"festa/seatview"
	"festa/static"
	"festa/tickets"
	"festa/traffic"
)

// Options are what differs between instances; zero values take the
// production defaults.
type Options struct {
	Store    *db.Store
	Config   handlers.Config
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Tickets  *tickets.Ring
	Holders  seatview.Holders
	// Now is the handlers' and the page counter's clock; default time.Now.
	Now func() time.Time
	// LiveCatchUp is the LISTEN connection's periodic catch-up; default
	// realtime.Listener's.
	LiveCatchUp time.Duration
	// SweepEvery is how often expired holds are freed and announced;
	// default 5 s.
	SweepEvery time.Duration
}

// Server is a running instance's parts. Handler serves HTTP; Close stops
// the rest.
type Server struct {
	Handler   *handlers.Handler
	Live      *realtime.Broker
	Notifier  *realtime.Notifier
	PageViews *traffic.Counter

	stop func()
	wg   sync.WaitGroup
}

// sweepEvery is the hold sweeper's default interval. An expired hold is
// free the moment it runs out whether or not it has been swept (every
// reader treats it so); the sweep only writes it down and tells viewers.
const sweepEvery = 5 * time.Second

// New builds an instance on opts.Store and starts its background work:
// the notifier, the LISTEN connection, the hold sweeper and the page-view
// flushes. They run until Close.
func New(opts Options) (*Server, error) {
	messages, err := i18n.New()
	if err != nil {
		return nil, err
	}
	assets, err := static.New()
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = sweepEvery
	}
	store := opts.Store
	// Live seat maps: this instance's hubs and sockets, the NOTIFY sender
	// the booking handlers poke, and the one LISTEN connection.
	live := realtime.NewBroker(realtime.Config{
		Store: store, Messages: messages, Logger: log, Registry: opts.Registry, HolderTag: opts.Holders.Tag,
	})
	notifier := realtime.NewNotifier(store, live, log)
	listener := realtime.NewListener(store, live, log)
	if opts.LiveCatchUp > 0 {
		listener.CatchUpEvery = opts.LiveCatchUp
	}
	// Page views for the traffic view are counted in memory and written
	// every few seconds; Close writes the last ones.
	pageViews := traffic.NewCounter(store, log, opts.Now)

	background, stop := context.WithCancel(context.Background())
	s := &Server{Live: live, Notifier: notifier, PageViews: pageViews, stop: stop}
	s.wg.Go(func() { notifier.Run(background) })
	s.wg.Go(func() { listener.Run(background) })
	s.wg.Go(func() {
		realtime.SweepHolds(background, store, opts.SweepEvery, func(ids []int64) {
			for _, id := range ids {
				notifier.Poke(id)
			}
		}, log)
	})
	s.wg.Go(func() { pageViews.Run(background, traffic.FlushEvery) })

	s.Handler = handlers.New(handlers.Deps{
		Store: store, Messages: messages, Assets: assets, Logger: log, Registry: opts.Registry,
		Config:  opts.Config,
		Tickets: opts.Tickets, Holders: opts.Holders,
		Now:      opts.Now,
		Notifier: notifier, Live: live,
		PageViews: pageViews,
	})
	return s, nil
}

// Close ends every live socket (close 1012, so pages reconnect to another
// instance), then stops the background work: the last NOTIFY and the last
// page views are written before it returns. Call it after the HTTP server
// has stopped taking requests.
func (s *Server) Close(ctx context.Context) error {
	err := s.Live.Close(ctx)
	s.stop()
	s.wg.Wait()
	return err
}

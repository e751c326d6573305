// Package handlers is festa's HTTP layer: one Handler built by New, every
// route listed in routes.go, one file per feature. Handlers stay thin —
// fetch, guard, act, render — and leave rules to the domain packages and
// SQL to db.
package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"festa/booking"
	"festa/components"
	"festa/db"
	"festa/i18n"
	"festa/realtime"
	"festa/tickets"
)

// Config holds the settings handlers need.
type Config struct {
	BaseURL string // public URL, for links and QR pages
	// SecureCookies marks cookies Secure; on whenever BaseURL is https.
	SecureCookies bool
}

// SeatNotifier wakes live viewers (on every app instance) after a seat
// change has committed. Poke must not block.
type SeatNotifier interface {
	Poke(performanceID int64)
}

type noNotifier struct{}

func (noNotifier) Poke(int64) {}

// Deps are what New needs. Every field is required but Notifier and Now.
type Deps struct {
	Store    *db.Store
	Messages *i18n.Bundle
	Assets   Assets
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Config   Config
	Notifier SeatNotifier
	Tickets  *tickets.Ring    // signs and verifies ticket tokens
	Holders  booking.Holders  // holder tags for the live seat map
	Live     *realtime.Broker // live seat maps over WebSocket; nil answers /ws/… with 404
	Now      func() time.Time
}

// Assets are the embedded static files: hashed URLs for templates and the
// handler that serves them.
type Assets interface {
	URL(name string) string
	Handler() http.Handler
}

// Handler serves every festa route.
type Handler struct {
	store    *db.Store
	messages *i18n.Bundle
	assets   components.Assets
	static   http.Handler
	log      *slog.Logger
	registry *prometheus.Registry
	cfg      Config
	now      func() time.Time
	metrics  *httpMetrics
	sessions *scs.SessionManager
	notifier SeatNotifier
	tickets  *tickets.Ring
	holders  booking.Holders
	live     *realtime.Broker
}

// New builds a Handler.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Notifier == nil {
		d.Notifier = noNotifier{}
	}
	return &Handler{
		store:    d.Store,
		messages: d.Messages,
		assets:   d.Assets,
		static:   d.Assets.Handler(),
		log:      d.Logger,
		registry: d.Registry,
		cfg:      d.Config,
		now:      d.Now,
		metrics:  newHTTPMetrics(d.Registry),
		sessions: newSessions(d.Store, d.Config.SecureCookies),
		notifier: d.Notifier,
		tickets:  d.Tickets,
		holders:  d.Holders,
		live:     d.Live,
	}
}

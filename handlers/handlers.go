// Package handlers is festa's HTTP layer: one Handler built by New, every
// route listed in routes.go, one file per feature. Handlers stay thin —
// fetch, guard, act, render — and leave rules to the domain packages and
// SQL to db.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"festa/components"
	"festa/db"
	"festa/i18n"
	"festa/realtime"
	"festa/seatview"
	"festa/tickets"
	"festa/traffic"
)

// Config holds the settings handlers need.
type Config struct {
	BaseURL string // public URL, for links and QR pages
	// SecureCookies marks cookies Secure; on whenever BaseURL is https.
	SecureCookies bool
	// TrustedProxies are the addresses of the reverse proxies in front of
	// festa (FESTA_TRUSTED_PROXIES). X-Forwarded-For is believed only from
	// them; with none, a client's address is the TCP peer's.
	TrustedProxies []netip.Prefix
	// SignInChecks is how many argon2id checks may run at once (default
	// half the cores, at least one) and SignInWait how long a sign-in may
	// queue for one (default 10 s); see signInGate.
	SignInChecks int
	SignInWait   time.Duration
}

// SeatNotifier wakes live viewers (on every app instance) after a seat
// change has committed. Poke must not block.
//
// PokeCheckIns does the same for admissions at the gate, so the doors' and
// the projection screen's counts move at once (NOTIFY festa_seats
// "checkin:{id}" after the check-in has committed).
type SeatNotifier interface {
	Poke(performanceID int64)
	PokeCheckIns(performanceID int64)
}

// noNotifier leaves every live update to the listener's periodic catch-up.
type noNotifier struct{}

func (noNotifier) Poke(int64)         {}
func (noNotifier) PokeCheckIns(int64) {}

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
	Holders  seatview.Holders // holder tags for the live seat map
	Live     *realtime.Broker // live seat maps over WebSocket; nil answers /ws/… with 404
	Now      func() time.Time

	// PageViews counts page views for the traffic view (pageviews.go);
	// nil counts none. Its owner runs its flushes.
	PageViews *traffic.Counter
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
	holders  seatview.Holders
	// recentSeats shares seat readings among best-available taps.
	recentSeats seatSnapshots
	// claims are the seats this instance's taps are going for.
	claims seatClaims
	live   *realtime.Broker
	gate   *signInGate

	pageViews *traffic.Counter // nil when nothing counts views
}

// New builds a Handler.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Notifier == nil {
		d.Notifier = noNotifier{}
	}
	if d.Config.SignInChecks <= 0 {
		d.Config.SignInChecks = max(1, runtime.NumCPU()/2)
	}
	if d.Config.SignInWait <= 0 {
		d.Config.SignInWait = signInWait
	}
	// Times are shown in the festival's zone (events.time_zone).
	if d.Store != nil {
		if ev, err := d.Store.FirstEvent(context.Background()); err == nil {
			if loc, err := time.LoadLocation(ev.TimeZone); err == nil {
				components.SetZone(loc)
			}
		}
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
		gate:     newSignInGate(d.Config.SignInChecks, d.Config.SignInWait),

		pageViews: d.PageViews,
	}
}

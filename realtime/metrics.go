package realtime

import "github.com/prometheus/client_golang/prometheus"

// metrics are the live pipeline's Prometheus series. They are registered
// on the registry the Broker is given; with none they are kept but not
// exported.
type metrics struct {
	viewers       prometheus.Gauge
	sent          prometheus.Counter
	kicked        prometheus.Counter
	latency       prometheus.Histogram
	batches       prometheus.Counter
	notifications prometheus.Counter
	reconnects    prometheus.Counter
	first         *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		viewers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "festa_live_viewers",
			Help: "WebSocket viewers connected to this instance (seat maps and the home page).",
		}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "festa_live_messages_sent_total",
			Help: "WebSocket messages written to viewers.",
		}),
		kicked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "festa_live_viewers_kicked_total",
			Help: "Viewers dropped (close 1013) because they fell a full queue behind.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "festa_live_commit_to_write_seconds",
			Help:    "From the oldest seat change in a batch (seat_changes.changed_at, database clock) to the write to a viewer.",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .25, .35, .5, .75, 1, 2.5, 5},
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "festa_live_batches_rendered_total",
			Help: "Live updates rendered, once per language, and written as the same bytes to every viewer of that language.",
		}),
		notifications: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "festa_live_notifications_total",
			Help: "NOTIFY festa_seats wake-ups received by this instance's listener.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "festa_live_listener_reconnects_total",
			Help: "Times the LISTEN connection was lost and reopened.",
		}),
		first: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "festa_live_first_messages_total",
			Help: "What (re)connecting viewers were sent first: kind=none (the page was current), changes (the seats it lacked) or full (the whole state).",
		}, []string{"kind"}),
	}
	for _, kind := range []string{"none", "changes", "full"} {
		m.first.WithLabelValues(kind) // exported from the start, at zero
	}
	if reg != nil {
		reg.MustRegister(m.viewers, m.sent, m.kicked, m.latency, m.batches, m.notifications, m.reconnects, m.first)
	}
	return m
}

package realtime

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"festa/components"
	"festa/db"
)

// The gate scanners' live counts: how many tickets of a performance each
// door has let in, and the total. A check-in changes no seat, so it has a
// notification of its own on the seat changes' channel ("checkin:12", see
// db.CheckInChannelPrefix): the handler pokes the Notifier after the
// check-in commits (Notifier.PokeCheckIns), every instance's Listener
// hears it and calls WakeCheckIns, and the performance's gate hub and
// projection screen hub recount.

// gateKeyBase starts the keys of the gate scanners' hubs, far below the
// projection screens' (screenKey, -id): performance hubs are positive, the
// event home 0.
const gateKeyBase = -1 << 48

// gateKey is the hub of a performance's gate scanners.
func gateKey(performanceID int64) int64 { return gateKeyBase - performanceID }

// isGateKey reports whether key is a gateKey.
func isGateKey(key int64) bool { return key < gateKeyBase }

// ServeGate is ServePerformance for the gate scanners of a performance:
// every door's admissions and the total, all of it first (a few hundred
// bytes, so every (re)connect gets it), then again whenever a check-in
// changes them. The caller has checked the performance exists and that
// the viewer is staff.
func (b *Broker) ServeGate(w http.ResponseWriter, r *http.Request, performanceID int64, lang string) {
	b.serve(w, r, gateKey(performanceID), lang, nil)
}

// WakeCheckIns tells the broker that tickets of the performance were let
// in: its gate scanners' hub and its projection screen's hub recount. The
// seat map and the home page have nothing to redraw. It never blocks.
func (b *Broker) WakeCheckIns(performanceID int64) {
	b.mu.RLock()
	gate, screen := b.hubs[gateKey(performanceID)], b.hubs[screenKey(performanceID)]
	b.mu.RUnlock()
	if gate != nil {
		gate.poke()
	}
	if screen != nil {
		screen.poke()
	}
}

// checkInPayload reads the performance id out of a check-in notification
// ("checkin:12"); ok is false for any other payload.
func checkInPayload(payload string) (id int64, ok bool) {
	s, found := strings.CutPrefix(payload, db.CheckInChannelPrefix)
	if !found {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// gateFeed is what a gate scanner shows live: db.GateTally, drawn as
// components.GateTally. Each page picks its own door's count out of it.
type gateFeed struct {
	store *db.Store
	id    int64
	tally db.GateTally
}

func (f *gateFeed) load(ctx context.Context) error {
	t, err := f.store.GateTally(ctx, f.id)
	if err != nil {
		return err
	}
	f.tally = t
	return nil
}

// refresh recounts, and sends the counts when they moved. A wake-up that
// changed nothing here (the periodic catch-up, another hub's news) costs
// one small query and sends nothing.
func (f *gateFeed) refresh(ctx context.Context) (*delta, error) {
	t, err := f.store.GateTally(ctx, f.id)
	if err != nil {
		return nil, err
	}
	if t.Total == f.tally.Total && slices.Equal(t.Gates, f.tally.Gates) {
		return nil, nil
	}
	f.tally = t
	v := GateTallyView(t)
	return &delta{render: func(ctx context.Context, b *builder) error {
		return b.add(ctx, "gate-tally", components.GateTally(v, true))
	}}, nil
}

func (f *gateFeed) expire(time.Time) *delta { return nil }

func (f *gateFeed) nextExpiry() time.Time { return time.Time{} }

// catchUp always asks for the whole tally: see ServeGate.
func (f *gateFeed) catchUp(Position) (*delta, bool) { return nil, true }

func (f *gateFeed) full(ctx context.Context, b *builder) error {
	return b.add(ctx, "gate-tally", components.GateTally(GateTallyView(f.tally), true))
}

// GateTallyView converts the database's tally for components.GateTally,
// as the scanner page and its socket both draw it.
func GateTallyView(t db.GateTally) components.GateTallyView {
	v := components.GateTallyView{Total: t.Total}
	for _, g := range t.Gates {
		v.Doors = append(v.Doors, components.GateDoor{Gate: g.Gate, Count: g.Count})
	}
	return v
}

package realtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"festa/apptest"
	"festa/components"
	"festa/db"
	"festa/db/dbtest"
	"festa/demo"
	"festa/passhash"
)

var council = db.Actor{Kind: "staff", IP: "192.0.2.1", UserAgent: "test"}

// A pause made on one instance reaches the viewers of another, on the
// performance page and on the home page, by its NOTIFY alone (no periodic
// catch-up runs here): a #sales-banner with the council's message, swapped
// inside (the live region stays). A resume empties both.
func TestPauseBannerReachesEveryInstance(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	open := func() *db.Store {
		s, err := db.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	storeA, storeB := open(), open()
	res, err := demo.Load(context.Background(), storeA, demo.Options{Students: 5, Hash: passhash.Fast})
	if err != nil {
		t.Fatal(err)
	}
	apptest.Serve(t, storeA, res, apptest.Options{LiveCatchUp: time.Hour})
	b := apptest.Serve(t, storeB, res, apptest.Options{LiveCatchUp: time.Hour})
	waitFor(t, "both listeners", func() bool { return listeners(t, storeA) == 2 })

	perf := performance(t, storeA, "opening")
	version, at := pagePosition(t, storeA, perf)
	page := dial(t, b.URL, since("opening", version, at)+"&s=open", "ko", nil)
	home := dial(t, b.URL, "/ws/home", "ko", nil)
	home.next()
	if home.banner == nil || home.banner.text != "" {
		t.Fatalf("the home's first message: banner %+v, want an empty one", home.banner)
	}
	waitFor(t, "the page's socket admitted", func() bool {
		return apptest.Metric(t, b.Registry, "festa_live_first_messages_total") >= 1
	})

	const msg = "음향 점검 중이에요. 10분 뒤에 다시 열어요."
	if _, err := storeA.PauseSales(context.Background(), perf, msg, council); err != nil {
		t.Fatal(err)
	}
	page.until("the pause banner on the page", func() bool { return page.banner != nil && strings.Contains(page.banner.text, msg) })
	home.until("the pause banner at home", func() bool { return home.banner != nil && strings.Contains(home.banner.text, msg) })
	if !strings.Contains(home.banner.text, "개막 공연") {
		t.Errorf("the home banner does not name the performance: %q", home.banner.text)
	}
	// The badges beside the banners say so too.
	if p := page.pills["sales-pill"].text; !strings.Contains(p, "일시 중지") {
		t.Errorf("the page's badge after the pause: %q", p)
	}
	home.until("the card's badge paused", func() bool { return strings.Contains(home.pills["sales-pill-opening"].text, "일시 중지") })

	if _, err := storeA.ResumeSales(context.Background(), perf, council, ""); err != nil {
		t.Fatal(err)
	}
	page.until("the banner emptied on the page", func() bool { return page.banner.text == "" })
	if p := page.pills["sales-pill"].text; !strings.Contains(p, "예매 중") {
		t.Errorf("the page's badge after the resume: %q", p)
	}
	home.until("the banner emptied at home", func() bool { return home.banner.text == "" })
}

// A page whose socket was down during a pause says which banner it shows
// (?s=) when it reconnects, and gets the pause first; a page that already
// shows it gets nothing.
func TestReconnectBringsAMissedPause(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{Students: 5, LiveCatchUp: time.Hour})
	perf := performance(t, app.Store, "opening")
	version, at := pagePosition(t, app.Store, perf)
	p, err := app.Store.PauseSales(context.Background(), perf, "잠시만요", council)
	if err != nil {
		t.Fatal(err)
	}
	stale := dial(t, app.URL, since("opening", version, at)+"&s=open", "en", nil)
	els := stale.next()
	if got := ids(els); got != "sales-banner,sales-pill" || !strings.Contains(stale.banner.text, "잠시만요") {
		t.Fatalf("a page drawn before the pause got %s (banner %+v), want the banner", got, stale.banner)
	}

	key := components.SalesBannerView{Status: "paused", Message: p.PauseMessage}.Key()
	current := dial(t, app.URL, since("opening", version, at)+"&s="+key, "en", nil)
	waitFor(t, "the current page admitted", func() bool {
		return apptest.Metric(t, app.Registry, `festa_live_first_messages_total`) >= 2
	})
	// The current page gets nothing first: the next thing it reads is the
	// resume.
	if _, err := app.Store.ResumeSales(context.Background(), perf, council, ""); err != nil {
		t.Fatal(err)
	}
	if got := ids(current.next()); got != "sales-banner,sales-pill" || current.banner.text != "" {
		t.Fatalf("after the resume the current page got %s (banner %+v), want the empty banner", got, current.banner)
	}
}

// A page drawn after a pause whose NOTIFY has not reached this instance
// yet shows the pause; its socket must not send the hub's older banner
// over it. The hub re-reads the sales state before it admits a viewer.
func TestJoinNeverBringsAnOlderBanner(t *testing.T) {
	t.Parallel()
	app := apptest.Start(t, apptest.Options{Students: 5, LiveCatchUp: time.Hour})
	perf := performance(t, app.Store, "opening")
	other := dial(t, app.URL, "/ws/p/opening", "en", nil)
	other.next()
	// The pause, without its NOTIFY: as this instance sees a pause made
	// on another one a moment before the notification arrives.
	if _, err := app.Store.Pool.Exec(context.Background(),
		`UPDATE performances SET paused = true, pause_message = '잠시만요' WHERE id = $1`, perf); err != nil {
		t.Fatal(err)
	}
	version, at := pagePosition(t, app.Store, perf)
	key := components.SalesBannerView{Status: "paused", Message: "잠시만요"}.Key()
	v := dial(t, app.URL, since("opening", version, at)+"&s="+key, "ko", nil)
	waitFor(t, "the page admitted", func() bool {
		return apptest.Metric(t, app.Registry, "festa_live_first_messages_total") == 2
	})
	// The page is current: the first thing it reads is the next change.
	hold(t, app.Store, perf, students(t, app.Store, 1)[0], time.Hour, "C3")
	app.Notifier.Poke(perf)
	if got := ids(v.next()); got != "seat-C3,occupancy" {
		t.Fatalf("a page showing the pause got %s first (banner %+v), want seat-C3,occupancy", got, v.banner)
	}
	other.until("the pause", func() bool { return other.banner != nil && strings.Contains(other.banner.text, "잠시만요") })
}

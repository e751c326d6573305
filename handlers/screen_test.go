package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"festa/apptest"
)

var screenKeyURL = regexp.MustCompile(`data-new-key-url[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-new-key-url`)

// screenKey makes a display key for perf in the console as the council
// and returns the key from the address shown once.
func screenKey(t *testing.T, app *apptest.App, council *apptest.Client, perf, label string) string {
	t.Helper()
	council.Get("/admin/p/" + perf + "/screen-keys")
	status, body := council.Post("/admin/p/"+perf+"/screen-keys", url.Values{"label": {label}}, false)
	if status != http.StatusOK {
		t.Fatalf("make a key: %d\n%s", status, body)
	}
	return shownKey(t, body)
}

func shownKey(t *testing.T, body string) string {
	t.Helper()
	m := screenKeyURL.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the page shows no new key:\n%s", body)
	}
	raw := strings.ReplaceAll(m[1]+m[2], "&amp;", "&")
	u, err := url.Parse(raw)
	if err != nil || u.Query().Get("key") == "" {
		t.Fatalf("the new key's address %q has no key", raw)
	}
	return u.Query().Get("key")
}

// The screen opens with a display key of its performance and for the
// council; a wrong, revoked or rotated key, or another performance's,
// gets the refusal page; gate staff and students without a key are
// refused; signed out, the page sends to the staff sign-in.
func TestScreenOpensWithAKeyOrForTheCouncil(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	key := screenKey(t, app, council, "opening", "강당 프로젝터")

	if n := app.Count(t, `SELECT count(*) FROM display_keys WHERE key_hash = sha256(convert_to($1, 'UTF8')) AND hint = right($1, 4)`, key); n != 1 {
		t.Fatalf("the key is not stored as its SHA-256 (%d rows)", n)
	}
	if n := app.Count(t, `SELECT count(*) FROM display_keys k WHERE position($1 in k::text) > 0`, key); n != 0 {
		t.Error("the whole key is stored")
	}

	anon := app.NewClient(t)
	status, body := anon.Get("/screen/opening?key=" + url.QueryEscape(key))
	if status != http.StatusOK || !strings.Contains(body, `id="occupancy"`) || !strings.Contains(body, `data-checked-in="0"`) {
		t.Fatalf("a key: %d\n%s", status, body)
	}
	if !strings.Contains(body, `ws-connect="/ws/screen/opening?key=`+url.QueryEscape(key)+`"`) {
		t.Error("the screen's socket does not carry its key")
	}
	refused := func(who *apptest.Client, path, why string) {
		t.Helper()
		status, body := who.Get(path)
		if status != http.StatusForbidden || !strings.Contains(body, "data-refused") || !strings.Contains(body, why) {
			t.Errorf("%s: %d, want 403 saying %q\n%s", path, status, why, body)
		}
	}
	refused(anon, "/screen/opening?key=wrong", "디스플레이 키가 틀렸거나")
	// The key with its last character changed (to one it does not have).
	last := "A"
	if strings.HasSuffix(key, last) {
		last = "B"
	}
	refused(anon, "/screen/opening?key="+url.QueryEscape(key[:len(key)-1]+last), "디스플레이 키가 틀렸거나")
	refused(anon, "/screen/night?key="+url.QueryEscape(key), "디스플레이 키가 틀렸거나")
	refused(anon, "/screen/opening?key="+strings.Repeat("k", 5000), "디스플레이 키가 틀렸거나")

	// Without a key: the council yes; gate staff and students no;
	// signed out, to the staff sign-in.
	if status, _ := council.Get("/screen/opening"); status != http.StatusOK {
		t.Errorf("council without a key: %d", status)
	}
	refused(gateStaff(t, app, "gate"), "/screen/opening", "학생회 계정이나")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	refused(student, "/screen/opening", "학생회 계정이나")
	resp, _ := anon.Do(mustRequest(t, http.MethodGet, app.URL+"/screen/opening"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login?next=") {
		t.Errorf("signed out without a key: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if status, _ := anon.Get("/screen/nowhere?key=" + key); status != http.StatusNotFound {
		t.Errorf("unknown performance: %d", status)
	}

	// The socket checks the same way.
	ws := func(path string, cookies bool) error {
		t.Helper()
		opts := &websocket.DialOptions{}
		if cookies {
			opts.HTTPClient = council.HTTP
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+path, opts)
		if err != nil {
			return err
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		_, msg, err := c.Read(ctx)
		if err == nil && !strings.Contains(string(msg), `id="seatmap"`) {
			t.Errorf("%s: the first message is not the whole screen: %.200s", path, msg)
		}
		return err
	}
	if err := ws("/ws/screen/opening?key="+url.QueryEscape(key), false); err != nil {
		t.Errorf("socket with the key: %v", err)
	}
	if err := ws("/ws/screen/opening", true); err != nil {
		t.Errorf("socket with the council's session: %v", err)
	}
	if err := ws("/ws/screen/opening?key=wrong", false); err == nil {
		t.Error("a socket opened with a wrong key")
	}
	if err := ws("/ws/screen/opening", false); err == nil {
		t.Error("a socket opened with neither key nor session")
	}

	// Rotating: the old key stops, the new one opens. Revoking stops it.
	var id string
	app.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM display_keys WHERE revoked_at IS NULL`).Scan(&id)
	status, body = council.Post("/admin/p/opening/screen-keys/"+id+"/rotate", nil, false)
	if status != http.StatusOK {
		t.Fatalf("rotate: %d\n%s", status, body)
	}
	rotated := shownKey(t, body)
	refused(anon, "/screen/opening?key="+url.QueryEscape(key), "디스플레이 키가 틀렸거나")
	if status, _ := anon.Get("/screen/opening?key=" + url.QueryEscape(rotated)); status != http.StatusOK {
		t.Errorf("the rotated key: %d", status)
	}
	app.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM display_keys WHERE revoked_at IS NULL`).Scan(&id)
	// A screen open with the key when it is revoked is made to reconnect
	// (1012), and its key is checked again.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+"/ws/screen/opening?key="+url.QueryEscape(rotated), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer open.CloseNow()
	open.SetReadLimit(1 << 20)
	if _, _, err := open.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if status, body := council.Post("/admin/p/opening/screen-keys/"+id+"/revoke", nil, false); status != http.StatusOK || strings.Contains(body, "data-new-key-url") {
		t.Fatalf("revoke: %d", status)
	}
	for {
		_, _, err := open.Read(ctx)
		if err == nil {
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusServiceRestart {
			t.Errorf("the revoked key's open screen: %v, want close 1012", err)
		}
		break
	}
	refused(anon, "/screen/opening?key="+url.QueryEscape(rotated), "디스플레이 키가 틀렸거나")
	if status, _ := council.Post("/admin/p/opening/screen-keys/"+id+"/revoke", nil, false); status != http.StatusConflict {
		t.Errorf("revoking a revoked key: %d", status)
	}
	if err := ws("/ws/screen/opening?key="+url.QueryEscape(rotated), false); err == nil {
		t.Error("a socket opened with a revoked key")
	}

	// Each change is in the audit log, by the council member, never with
	// the key.
	for _, action := range []string{"screen_key_create", "screen_key_rotate", "screen_key_revoke"} {
		if n := app.Count(t, `SELECT count(*) FROM audit_log a JOIN staff s ON s.id = a.actor_id
			WHERE a.action = $1 AND a.actor_kind = 'staff' AND s.username = 'council'`, action); n != 1 {
			t.Errorf("%d %s audit rows by the council, want 1", n, action)
		}
	}
	if n := app.Count(t, `SELECT count(*) FROM audit_log WHERE position($1 in coalesce(after::text, '') || coalesce(before::text, '')) > 0
		OR position($2 in coalesce(after::text, '') || coalesce(before::text, '')) > 0`, key, rotated); n != 0 {
		t.Error("a key is in the audit log")
	}
}

// The display key pages are the council's: gate staff and students are
// refused, signed out goes to the sign-in, and a POST without the CSRF
// token changes nothing.
func TestScreenKeyRoutesAreTheCouncils(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 2})
	council := gateStaff(t, app, "council")
	screenKey(t, app, council, "opening", "lobby")
	var id string
	app.Store.Pool.QueryRow(context.Background(), `SELECT id::text FROM display_keys`).Scan(&id)

	gate := gateStaff(t, app, "gate")
	student := app.NewClient(t)
	student.SignIn(app.Demo.Students[0].No)
	anon := app.NewClient(t)
	anon.Get("/")
	gets := []string{"/admin/screens", "/admin/p/opening/screen-keys"}
	posts := []string{"/admin/p/opening/screen-keys", "/admin/p/opening/screen-keys/" + id + "/rotate", "/admin/p/opening/screen-keys/" + id + "/revoke"}
	before := app.Fingerprint(t) + keysDigest(t, app)
	for _, p := range gets {
		if status, _ := council.Get(p); status != http.StatusOK && status != http.StatusSeeOther {
			t.Errorf("council GET %s: %d", p, status)
		}
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student} {
			if status, _ := c.Get(p); status != http.StatusForbidden && status != http.StatusSeeOther {
				t.Errorf("%s GET %s: %d", name, p, status)
			}
		}
		resp, _ := anon.Do(mustRequest(t, http.MethodGet, app.URL+p))
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login") {
			t.Errorf("signed out GET %s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, p := range posts {
		for name, c := range map[string]*apptest.Client{"gate": gate, "student": student, "signed out": anon} {
			if status, _ := c.Post(p, url.Values{"label": {"x"}}, false); status < 400 {
				t.Errorf("%s POST %s: %d", name, p, status)
			}
		}
		if status, _ := council.Post(p, url.Values{"label": {"x"}, "_csrf": {"forged"}}, false); status != http.StatusForbidden {
			t.Errorf("council POST %s without its token: %d", p, status)
		}
	}
	if after := app.Fingerprint(t) + keysDigest(t, app); after != before {
		t.Error("a refused request changed something")
	}
}

func keysDigest(t *testing.T, app *apptest.App) string {
	var s string
	app.Store.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(k::text, ',' ORDER BY id), '') FROM display_keys k`).Scan(&s)
	return s
}

// Nothing on the screen names a student: not on the page, not on its
// socket, even with tickets sold and let in at a door.
func TestScreenShowsNoPersonalData(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	council := gateStaff(t, app, "council")
	for i, seat := range []string{"C12", "C13"} {
		_, token := gateTicket(t, app, app.Demo.Students[i].No, "opening", seat)
		if i == 0 {
			if v := gateScanJSON(t, app, council, "north", token, nil); v.Result != "admitted" {
				t.Fatalf("scan: %+v", v)
			}
		}
	}
	hold := app.NewClient(t)
	hold.SignIn(app.Demo.Students[2].No)
	if status, _ := hold.Post("/p/opening/hold", seat("D4"), true); status != http.StatusOK {
		t.Fatal("hold D4")
	}
	key := screenKey(t, app, council, "opening", "hall")
	_, page := app.NewClient(t).Get("/screen/opening?key=" + url.QueryEscape(key))
	for _, want := range []string{`data-sold="2"`, `data-held="1"`, `data-checked-in="1"`, `id="seat-C12"`, `data-state="sold"`, "north"} {
		if !strings.Contains(page, want) {
			t.Errorf("the screen lacks %s", want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(app.URL, "http")+"/ws/screen/opening?key="+url.QueryEscape(key), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	_, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"page": page, "socket": string(msg)} {
		for _, s := range app.Demo.Students {
			if strings.Contains(text, s.Name) || strings.Contains(text, s.No) {
				t.Errorf("the screen's %s names student %s", where, s.No)
			}
		}
		if strings.Contains(text, "data-holder") {
			t.Errorf("the screen's %s carries holder tags", where)
		}
		if !strings.Contains(text, `data-checked-in="1"`) {
			t.Errorf("the screen's %s lacks the admissions", where)
		}
	}
}

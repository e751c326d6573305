package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"festa/i18n"
)

// Client is one student's phone: its own connection, cookie jar and CSRF
// token, sending what the page's htmx sends (HX-Request, X-CSRF-Token).
// Redirects are not followed: every answer goes through step, the one
// place a detour (a waiting room's HX-Redirect or 303 to a queue page) is
// noticed and handed to the run's Waiter.
type Client struct {
	base   string
	http   *http.Client
	csrf   string
	waiter Waiter
	words  *refusals
}

// Waiter takes a student through a detour: an answer that sends them to
// to (a path) instead of answering the step they took, as a waiting room
// in front of sales would. It returns once the student may take the step
// again (after polling the queue page, say), or an error to give up.
// Without a Waiter a detour counts as an error of kind "detour <path>".
type Waiter interface {
	Wait(ctx context.Context, c *Client, to string) error
}

// newClient makes a student's client. source, when set, is the local
// address its connection comes from (so a proxy's per-address limits see
// many phones rather than one machine).
func newClient(base string, source net.IP, waiter Waiter, words *refusals) *Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if source != nil {
		d.LocalAddr = &net.TCPAddr{IP: source}
	}
	tr := &http.Transport{
		DialContext: d.DialContext, MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1,
		IdleConnTimeout: 5 * time.Minute,
	}
	return &Client{base: base, waiter: waiter, words: words, http: &http.Client{
		Jar: jar, Timeout: 60 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// NewClient is a student's phone for other load commands
// (festa-bench-live): one connection from the default address, no waiting
// room; refusals are told apart for a performance of ticketLimit.
func NewClient(base string, ticketLimit int) (*Client, error) {
	words, err := newRefusals(ticketLimit)
	if err != nil {
		return nil, err
	}
	return newClient(base, nil, nil, words), nil
}

// Answer is one response, read whole.
type Answer struct {
	Status   int
	Body     []byte
	Redirect string // Location or HX-Redirect, when there is one
	Took     time.Duration
	Sent     time.Time
	Err      error // network or timeout
}

// Get fetches path as a page load (not htmx).
func (c *Client) Get(ctx context.Context, path string) Answer {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	return c.send(req)
}

// Post submits form to path with the CSRF token, as htmx when htmx is set.
func (c *Client) Post(ctx context.Context, path string, form url.Values, htmx bool) Answer {
	if form == nil {
		form = url.Values{}
	}
	if !htmx {
		form.Set("_csrf", c.csrf)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.send(req)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func (c *Client) send(req *http.Request) Answer {
	// English answers: refusals are told apart by their catalogue text.
	req.Header.Set("Accept-Language", "en")
	req.Header.Set("User-Agent", "festa-bench-spike")
	a := Answer{Sent: time.Now()}
	resp, err := c.http.Do(req)
	if err == nil {
		a.Body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	a.Took = time.Since(a.Sent)
	if err != nil {
		a.Err = err
		return a
	}
	a.Status = resp.StatusCode
	a.Redirect = resp.Header.Get("HX-Redirect")
	if a.Redirect == "" {
		a.Redirect = resp.Header.Get("Location")
	}
	if m := csrfMeta.FindSubmatch(a.Body); m != nil {
		c.csrf = string(m[1])
	}
	return a
}

// step sends one request of the flow and, when the answer is a detour
// (a redirect whose path does not start with want), lets the Waiter take
// the student through it and sends the request again. want is "" for a
// step that expects no redirect at all.
func (c *Client) step(ctx context.Context, want string, send func() Answer) (Answer, string) {
	for {
		a := send()
		to := redirectPath(a.Redirect)
		if a.Err != nil || to == "" || leadsTo(to, want) || strings.HasPrefix(to, "/login") {
			return a, ""
		}
		if c.waiter == nil {
			return a, "detour " + firstSegment(to)
		}
		if err := c.waiter.Wait(ctx, c, to); err != nil {
			return a, "detour " + firstSegment(to)
		}
	}
}

// leadsTo reports whether the path to is want or under it ("/tickets"
// covers "/tickets/ID"; "/" is the home page alone).
func leadsTo(to, want string) bool {
	switch want {
	case "":
		return false
	case "/":
		return to == "/"
	}
	return to == want || strings.HasPrefix(to, want+"/")
}

func redirectPath(loc string) string {
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return u.Path
}

func firstSegment(p string) string {
	if i := strings.IndexByte(strings.TrimPrefix(p, "/"), '/'); i >= 0 {
		return p[:i+1]
	}
	return p
}

// SignIn loads the sign-in page and signs in as cred, then loads the
// performance page, as a student does before the opening.
func (c *Client) SignIn(ctx context.Context, cred Credential, slug string) (Answer, error) {
	if a := c.Get(ctx, "/login"); a.Err != nil || a.Status != http.StatusOK {
		return a, fmt.Errorf("GET /login: %s", kindOf(a, c.words, "", ""))
	}
	a, detour := c.step(ctx, "/", func() Answer {
		return c.Post(ctx, "/login", url.Values{"student_no": {cred.No}, "code": {cred.Code}}, false)
	})
	if detour != "" {
		return a, errors.New(detour)
	}
	if a.Err != nil || a.Status != http.StatusSeeOther {
		return a, fmt.Errorf("POST /login: %s", kindOf(a, c.words, "", "/login"))
	}
	if p := c.Get(ctx, "/p/"+slug); p.Err != nil || p.Status != http.StatusOK {
		return a, fmt.Errorf("GET /p/%s: %s", slug, kindOf(p, c.words, "", ""))
	}
	return a, nil
}

// Hold taps seat: POST /p/{slug}/hold.
func (c *Client) Hold(ctx context.Context, slug, seat string) (Answer, string) {
	return c.step(ctx, "", func() Answer {
		return c.Post(ctx, "/p/"+slug+"/hold", url.Values{"seat": {seat}}, true)
	})
}

// Release gives a held seat back: POST /p/{slug}/release.
func (c *Client) Release(ctx context.Context, slug, seat string) (Answer, string) {
	return c.step(ctx, "", func() Answer {
		return c.Post(ctx, "/p/"+slug+"/release", url.Values{"seat": {seat}}, true)
	})
}

// Best taps "best available": POST /p/{slug}/best.
func (c *Client) Best(ctx context.Context, slug string) (Answer, string) {
	return c.step(ctx, "", func() Answer {
		return c.Post(ctx, "/p/"+slug+"/best", nil, true)
	})
}

// Confirm books what the student holds: POST /p/{slug}/confirm; a
// booking answers with HX-Redirect to the new ticket.
func (c *Client) Confirm(ctx context.Context, slug string) (Answer, string) {
	return c.step(ctx, "/tickets", func() Answer {
		return c.Post(ctx, "/p/"+slug+"/confirm", nil, true)
	})
}

// heldSeat is the seat a hold answer draws as the student's own.
func heldSeat(body []byte) string {
	for _, s := range seatStates(body) {
		if s.state == "mine" {
			return s.label
		}
	}
	return ""
}

// refusals tells refused bookings apart by the catalogue's English text,
// so a kind survives a change of wording.
type refusals struct {
	taken, soldOut, busy, notOpen, limit, noHold, expired, csrf string
}

func newRefusals(limit int) (*refusals, error) {
	b, err := i18n.New()
	if err != nil {
		return nil, err
	}
	l := b.Localizer("en")
	esc := func(s string) string { return html.EscapeString(s) }
	return &refusals{
		taken:   esc(l.T("booking.seat_taken", "seat", "\x00")),
		soldOut: esc(l.T("booking.sold_out")),
		busy:    esc(l.T("booking.busy")),
		notOpen: esc(l.T("booking.sales_not_open")),
		limit:   esc(l.T("booking.limit", "count", limit)),
		noHold:  esc(l.T("booking.no_hold")),
		expired: esc(l.T("booking.hold_expired")),
		csrf:    esc(l.T("error.csrf")),
	}, nil
}

// has reports whether body shows msg; a "\x00" in msg stands for the
// seat label, which may be any.
func has(body []byte, msg string) bool {
	if msg == "" {
		return false
	}
	for _, part := range strings.Split(msg, "\x00") {
		if part != "" && !bytes.Contains(body, []byte(part)) {
			return false
		}
	}
	return true
}

// Kind names what went wrong with an answer to a booking tap ("" for a
// success): a refusal by its message, else the status or the network.
func (c *Client) Kind(a Answer) string { return kindOf(a, c.words, "", "") }

// kindOf names what went wrong with an answer, for the report's errors by
// kind ("" for a success).
func kindOf(a Answer, w *refusals, detour, okRedirect string) string {
	switch {
	case detour != "":
		return detour
	case a.Err != nil:
		if errors.Is(a.Err, context.DeadlineExceeded) || strings.Contains(a.Err.Error(), "Timeout") {
			return "timeout"
		}
		return "network"
	case a.Status >= 500:
		return fmt.Sprintf("%d", a.Status)
	case a.Status == http.StatusTooManyRequests:
		return "429"
	case a.Status < 300:
		if strings.HasPrefix(redirectPath(a.Redirect), "/login") {
			return "signed out"
		}
		return ""
	case a.Status < 400:
		if leadsTo(redirectPath(a.Redirect), okRedirect) {
			return ""
		}
		return fmt.Sprintf("%d %s", a.Status, redirectPath(a.Redirect))
	case a.Status == http.StatusUnauthorized:
		return "401 signed out"
	}
	for _, k := range []struct{ name, msg string }{
		{"taken", w.taken}, {"sold out", w.soldOut}, {"busy", w.busy}, {"not open", w.notOpen},
		{"limit", w.limit}, {"no hold", w.noHold}, {"hold expired", w.expired}, {"csrf", w.csrf},
	} {
		if has(a.Body, k.msg) {
			return fmt.Sprintf("%d %s", a.Status, k.name)
		}
	}
	return fmt.Sprintf("%d other", a.Status)
}

package e2e

import (
	"bytes"
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// A student on a phone: sign in, pick a seat on the map, confirm, and get a
// ticket whose QR code decodes to the token the page shows.
func TestStudentBooksASeatOnAPhone(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})
	student := app.Demo.Students[0]
	ctx := browsertest.New(t, browsertest.Options{Width: 390, Height: 844, Mobile: true, Scale: 2})
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/login?next=%2Fp%2Fopening"),
		chromedp.WaitVisible(`input[name="student_no"]`),
		chromedp.SendKeys(`input[name="student_no"]`, student.No),
		chromedp.SendKeys(`input[name="code"]`, strings.ToLower(student.Code)),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#seat-E15`),
	)
	save(t, ctx, "seatmap-phone.png")
	// The map is an overview on a phone; tapping zooms, a second tap picks.
	browsertest.Run(t, ctx,
		chromedp.Evaluate(`document.getElementById('seat-E15').click()`, nil),
		chromedp.WaitVisible(`#seat-E15[data-state="mine"]`),
		chromedp.WaitVisible(`#confirm-hold`),
	)
	var held string
	browsertest.Run(t, ctx, chromedp.Text(`#hold-panel`, &held))
	if !strings.Contains(held, "E15") {
		t.Errorf("hold panel shows %q, want E15", held)
	}
	save(t, ctx, "seatmap-held-phone.png")
	var token, qrSrc string
	browsertest.Run(t, ctx,
		chromedp.Click(`#confirm-hold`),
		chromedp.WaitVisible(`[data-ticket-token]`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-ticket-token]`, "data-ticket-token", &token, nil),
		chromedp.AttributeValue(`figure img`, "src", &qrSrc, nil),
	)
	save(t, ctx, "ticket-phone.png")
	claims, err := app.Ring.Verify(token)
	if err != nil || claims.Seat != "E15" {
		t.Fatalf("page token: %+v %v", claims, err)
	}
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(qrSrc, "data:image/png;base64,"))
	if err != nil {
		t.Fatalf("QR image source: %v", err)
	}
	cmd := exec.Command("zbarimg", "--quiet", "--raw", "-")
	cmd.Stdin = bytes.NewReader(png)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != token {
		t.Errorf("the QR on the page decodes to %q, the page shows %q", got, token)
	}
	if n := app.Count(t, `SELECT count(*) FROM tickets WHERE status = 'active'`); n != 1 {
		t.Errorf("%d tickets", n)
	}
}

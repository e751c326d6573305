package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// The staff accounts page in a browser: the council adds a gate account
// with the form, disables it, and trying to disable their own (the last
// council) account is refused in words, with nothing changed.
func TestStaffAccountsPage(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	var notice, refusal, state, councilState string
	browsertest.Run(t, ctx, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fstaff"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#staff-add`),
		chromedp.SendKeys(`#staff-username`, "east-door"),
		chromedp.SetValue(`#staff-role`, "gate"),
		chromedp.SendKeys(`#staff-password`, "a door password"),
		chromedp.Submit(`#staff-password`),
		chromedp.WaitVisible(`tr[data-staff="east-door"]`),
		chromedp.Text(`[role="status"]`, &notice),
		chromedp.Click(`tr[data-staff="east-door"] form[action$="/disable"] button`),
		chromedp.WaitVisible(`tr[data-staff="east-door"][data-staff-state="disabled"]`),
		chromedp.Click(`tr[data-staff="council"] form[action$="/disable"] button`),
		chromedp.WaitVisible(`#staff-error`),
		chromedp.Text(`#staff-error`, &refusal),
		chromedp.AttributeValue(`tr[data-staff="east-door"]`, "data-staff-state", &state, nil),
		chromedp.AttributeValue(`tr[data-staff="council"]`, "data-staff-state", &councilState, nil),
	)
	if !strings.Contains(notice, "east-door 계정을 만들었어요") {
		t.Errorf("notice after adding: %q", notice)
	}
	if !strings.Contains(refusal, "학생회 계정이 하나뿐이라") || councilState != "enabled" || state != "disabled" {
		t.Errorf("refusal %q, council %q, east-door %q", refusal, councilState, state)
	}
	save(t, ctx, "admin-staff.png")
}

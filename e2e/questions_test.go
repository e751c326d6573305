package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"festa/apptest"
	"festa/browsertest"
)

// The questions inbox in two browsers: a student on a phone asks on
// /questions (a blank question first, refused in words on screen), the
// council's inbox on a desktop shows the question without reloading,
// the council answers with a canned answer it edits, and the student's
// page shows the answer without reloading. A second answer reaches the
// student on the home page as the notice, whose link shows it.
func TestQuestionInboxInTwoBrowsers(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 3})

	council := browsertest.New(t, browsertest.Options{Width: 1280, Height: 900})
	browsertest.Run(t, council, dark(),
		chromedp.Navigate(app.URL+"/staff/login?next=%2Fadmin%2Fquestions"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "council"),
		chromedp.SendKeys(`input[name="password"]`, staffPassword(t, app, "council")),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#inbox-list`),
		chromedp.WaitVisible(`#inbox-count[data-waiting="0"]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
	)

	student := phone(t)
	signIn(t, student, app, app.Demo.Students[0], "/questions")
	browsertest.Run(t, student, chromedp.WaitVisible(`#question-body`), chromedp.Evaluate(`window.__notReloaded = true`, nil))

	// A question of only spaces passes the browser's "required" and is
	// refused by the server, in words, with the text kept.
	refusedOnScreen(t, app, student, "질문을 입력해 주세요.", chromedp.ActionFunc(func(ctx context.Context) error {
		return chromedp.Run(ctx,
			chromedp.SendKeys(`#question-body`, "   "),
			chromedp.Click(`#question-form button[type="submit"]`),
		)
	}))

	const question = "공연 당일 입장은 몇 시부터 할 수 있나요?"
	browsertest.Run(t, student,
		chromedp.Evaluate(`document.getElementById("question-body").value = ""`, nil),
		chromedp.SendKeys(`#question-body`, question),
		chromedp.Click(`#question-form button[type="submit"]`),
		chromedp.WaitVisible(`#my-questions [data-state="waiting"]`, chromedp.ByQuery),
	)
	// Two classmates ask too (over HTTP), so the inbox has a queue.
	for i, q := range []string{"표를 친구에게 넘길 수 있나요?", "접속 코드를 잃어버렸어요. 어떻게 하나요?"} {
		c := app.NewClient(t)
		c.SignIn(app.Demo.Students[i+1].No)
		c.Get("/questions")
		if status, _ := c.Post("/questions", url.Values{"body": {q}}, false); status != http.StatusSeeOther {
			t.Fatalf("classmate %d asks: %d", i+1, status)
		}
	}

	// The council's inbox shows them live; choosing the first opens its
	// answer panel; the canned "입장 시간" fills the box and is edited.
	var notReloaded bool
	var answerText string
	browsertest.Run(t, council,
		chromedp.WaitVisible(`#inbox-count[data-waiting="3"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#inbox-list a[data-state="waiting"]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded === true`, &notReloaded),
	)
	if !notReloaded {
		t.Fatal("the council's inbox reloaded to show the question")
	}
	firstID := app.Count(t, `SELECT min(id)::int FROM questions`)
	// Clicks and picks repeat until they take: a link or picker that has
	// just arrived may not be wired by htmx yet.
	until(t, council, "the first question's panel", `document.querySelector('#answer-question[data-question="`+strconv.Itoa(firstID)+`"]') ||
		void document.querySelector('#inbox-list a[data-question="`+strconv.Itoa(firstID)+`"]').click()`)
	until(t, council, "the canned answer in the box", `document.getElementById("answer-body").value.indexOf("30분 전부터") >= 0 || (function () {
		var s = document.getElementById("canned-pick");
		for (var o of s.options) if (o.text === "입장 시간") s.value = o.value;
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
	browsertest.Run(t, council,
		// Typing goes on after the canned text, as a person would.
		chromedp.Evaluate(`(function () {
			var a = document.getElementById("answer-body");
			a.focus();
			a.setSelectionRange(a.value.length, a.value.length);
		})()`, nil),
		chromedp.SendKeys(`#answer-body`, " 늦지 않게 와 주세요!"),
		chromedp.Value(`#answer-body`, &answerText),
	)
	if !strings.HasPrefix(answerText, "입장은 공연 시작 30분 전부터예요") || !strings.HasSuffix(answerText, "늦지 않게 와 주세요!") {
		t.Fatalf("the answer box holds %q", answerText)
	}
	browsertest.Run(t, council,
		chromedp.Click(`#answer-form button[type="submit"]`),
		chromedp.WaitVisible(`#answer-question[data-state="answered"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#inbox-count[data-waiting="2"]`, chromedp.ByQuery),
	)

	// The student's page shows the answer without reloading.
	var answer, notice string
	browsertest.Run(t, student,
		chromedp.WaitVisible(`#my-questions [data-state="answered"] [data-answer]`, chromedp.ByQuery),
		chromedp.Text(`#my-questions [data-state="answered"] [data-answer]`, &answer, chromedp.ByQuery),
		chromedp.Text(`#question-notice`, &notice, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded === true`, &notReloaded),
	)
	if !notReloaded || !strings.Contains(answer, "늦지 않게 와 주세요!") || !strings.Contains(notice, "답변이 도착했어요") {
		t.Fatalf("the student's page: reloaded %v, answer %q, notice %q", !notReloaded, answer, notice)
	}
	var sideways bool
	browsertest.Run(t, student, chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &sideways))
	if sideways {
		t.Error("/questions scrolls sideways on a phone")
	}
	save(t, student, "questions-student-phone.png")
	a11yCheck(t, student, "/questions")

	// The council opens the next question for the screenshot.
	secondID := firstID + 1
	until(t, council, "the second question's panel", `document.querySelector('#answer-question[data-question="`+strconv.Itoa(secondID)+`"]') ||
		void document.querySelector('#inbox-list a[data-question="`+strconv.Itoa(secondID)+`"]').click()`)
	// The panel's address was pushed: a reload draws the same page in
	// full, the navigation counting the waiting questions.
	var badge string
	browsertest.Run(t, council,
		chromedp.Reload(),
		chromedp.WaitVisible(`#answer-question[data-question="`+strconv.Itoa(secondID)+`"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`[data-questions-waiting]`, "data-questions-waiting", &badge, nil, chromedp.ByQuery),
	)
	if badge != "2" {
		t.Errorf("the navigation counts %q waiting, want 2", badge)
	}
	save(t, council, "admin-questions.png")
	a11yCheck(t, council, "/admin/questions")

	// A second question, then the home page: the answer's notice shows
	// there live, and its link leads to the answer.
	browsertest.Run(t, student,
		chromedp.SendKeys(`#question-body`, "공연 중에 사진을 찍어도 되나요?"),
		chromedp.Click(`#question-form button[type="submit"]`),
		chromedp.WaitVisible(`#my-questions [data-state="waiting"]`, chromedp.ByQuery),
		chromedp.Navigate(app.URL+"/"),
		chromedp.WaitVisible(`[data-questions-live]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded = true`, nil),
	)
	lastID := app.Count(t, `SELECT max(id)::int FROM questions`)
	browsertest.Run(t, council,
		chromedp.Navigate(app.URL+"/admin/questions/"+strconv.Itoa(lastID)),
		chromedp.WaitVisible(`#answer-body`),
		chromedp.SendKeys(`#answer-body`, "플래시 없이 찍는 건 괜찮아요."),
		chromedp.Click(`#answer-form button[type="submit"]`),
		chromedp.WaitVisible(`#answer-question[data-state="answered"]`, chromedp.ByQuery),
	)
	var page string
	browsertest.Run(t, student,
		chromedp.WaitVisible(`#question-notice [data-unread]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__notReloaded === true`, &notReloaded),
		chromedp.Click(`#question-notice a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#question-form`),
		chromedp.Text(`#my-questions`, &page, chromedp.ByQuery),
	)
	if !notReloaded || !strings.Contains(page, "플래시 없이 찍는 건 괜찮아요.") || !strings.Contains(page, "새 답변") {
		t.Fatalf("home notice: reloaded %v; /questions shows %q", !notReloaded, page)
	}
}

// refusedOnScreen runs act and checks that the refusal's words show in
// #messages, visible, with the questions unchanged.
func refusedOnScreen(t *testing.T, app *apptest.App, ctx context.Context, want string, act chromedp.Action) {
	t.Helper()
	before := app.Count(t, `SELECT count(*)::int FROM questions`)
	browsertest.Run(t, ctx, act)
	expectAlert(t, ctx, "#messages", want)
	if app.Count(t, `SELECT count(*)::int FROM questions`) != before {
		t.Errorf("refusal %q: a question was written", want)
	}
}

// until evaluates js (which should come out truthy once what has
// happened, and may act to make it happen) every 200 ms for up to 10 s.
func until(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var ok bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`!!(`+js+`)`, &ok)); err == nil && ok {
			return
		}
	}
	t.Fatalf("waited 10 s for %s", what)
}

// The header's questions link fits a small phone's header (360 px) in
// both languages, next to the tickets, sign-out and language links.
func TestQuestionsLinkFitsASmallPhone(t *testing.T) {
	app := apptest.Start(t, apptest.Options{Students: 1})
	for _, lang := range []string{"ko-KR,ko", "en-US,en"} {
		ctx := browsertest.New(t, browsertest.Options{Width: 360, Height: 740, Mobile: true, Scale: 2, Lang: lang})
		signIn(t, ctx, app, app.Demo.Students[0], "/")
		var sideways bool
		var link string
		browsertest.Run(t, ctx,
			chromedp.WaitVisible(`a[data-ask]`, chromedp.ByQuery),
			chromedp.Text(`a[data-ask]`, &link, chromedp.ByQuery),
			// Every header control lies wholly on screen.
			chromedp.Evaluate(`document.documentElement.scrollWidth > innerWidth ||
				Array.from(document.querySelectorAll("header a, header button")).some(function (e) {
					var r = e.getBoundingClientRect();
					return r.left < 0 || r.right > innerWidth;
				})`, &sideways),
		)
		if sideways || link == "" {
			t.Errorf("%s: the header's questions link %q; a header control off screen: %v", lang, link, sideways)
		}
	}
}

package realtime

import (
	"testing"
	"time"

	"festa/db"
)

// A question notification names the student; anything else is not one.
func TestQuestionPayload(t *testing.T) {
	for payload, want := range map[string]int64{"question:7": 7, "question:0": 0, "question:x": 0, "7": 0, "checkin:7": 0, "question:-3": 0} {
		id, ok := questionPayload(payload)
		if ok != (want != 0) || id != want && ok {
			t.Errorf("%q: %d %v", payload, id, ok)
		}
	}
	if studentQuestionsKey(1) >= gateKey(1<<40) || !isQuestionKey(studentQuestionsKey(1)) || isQuestionKey(gateKey(1<<40)) || !isGateKey(gateKey(1)) {
		t.Error("the questions' hub keys overlap the gate's")
	}
}

// A list's version changes when a question is asked or answered, not when
// the student reads an answer: /questions marks answers read without a
// NOTIFY, and a version that moved would redraw the page it just drew.
func TestQuestionsVersion(t *testing.T) {
	asked := []db.Question{{ID: 1, Body: "?"}}
	answered := []db.Question{{ID: 1, Body: "?", Answer: "!", AnsweredAt: time.Now()}}
	read := []db.Question{{ID: 1, Body: "?", Answer: "!", AnsweredAt: time.Now(), Read: true}}
	two := []db.Question{{ID: 2}, {ID: 1}}
	if QuestionsVersion(asked) == QuestionsVersion(answered) || QuestionsVersion(asked) == QuestionsVersion(two) {
		t.Error("asking or answering keeps the version")
	}
	if QuestionsVersion(answered) != QuestionsVersion(read) {
		t.Error("reading an answer moves the version")
	}
	f := &myQuestionsFeed{list: answered, version: QuestionsVersion(answered)}
	if _, full := f.catchUp(Position{Horizon: QuestionsVersion(read)}); full {
		t.Error("a page showing the current list is sent it again")
	}
	if _, full := f.catchUp(Position{Horizon: QuestionsVersion(asked)}); !full {
		t.Error("a page showing an older list is not sent the new one")
	}
	if UnreadAnswers(answered) != 1 || UnreadAnswers(read) != 0 || WaitingQuestions(asked) != 1 || WaitingQuestions(answered) != 0 {
		t.Error("counts")
	}
}

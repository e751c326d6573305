package seatview_test

import (
	"testing"

	"festa/seatview"
)

func TestHolderTags(t *testing.T) {
	a, b := seatview.NewHolders([]byte("key a")), seatview.NewHolders([]byte("key b"))
	if a.Tag(1, 0) != "" {
		t.Error("no student must have no tag")
	}
	if a.Tag(1, 1) == a.Tag(1, 2) || a.Tag(1, 1) == b.Tag(1, 1) || a.Tag(1, 1) != a.Tag(1, 1) {
		t.Error("tags must differ by student and key and be stable")
	}
	if len(a.Tag(1, 1)) != 12 {
		t.Errorf("tag %q", a.Tag(1, 1))
	}
}

// A student's tag differs from one performance to the next, so the public
// seat maps cannot be joined to follow one student.
func TestHolderTagsDifferAcrossPerformances(t *testing.T) {
	h := seatview.NewHolders([]byte("key"))
	seen := map[string]int64{}
	for perf := int64(1); perf <= 50; perf++ {
		tag := h.Tag(perf, 7)
		if other, ok := seen[tag]; ok {
			t.Fatalf("student 7 has tag %s on performances %d and %d", tag, other, perf)
		}
		seen[tag] = perf
	}
	// Nor does a tag on one performance equal another student's on another
	// (the message is unambiguous: "1:23" is not "12:3").
	if h.Tag(1, 23) == h.Tag(12, 3) {
		t.Error("performance and student are not separated in the hashed message")
	}
}

package handlers

import (
	"testing"
	"time"
)

// The codec gives back what it was given: strings, int64s and bools as
// tagged JSON (ids past 2^53 too, which a JSON number would round), and a
// session with any other value whole as gob.
func TestSessionCodecRoundTrips(t *testing.T) {
	deadline := time.Date(2026, 11, 28, 9, 0, 0, 123456789, time.UTC)
	for _, values := range []map[string]any{
		{"student_id": int64(1<<62 + 1), "name": "김하늘 \"quoted\"", "questions_live": true, "staff_role": ""},
		{"student_id": int64(7), "at": 2.5}, // a float is not festa's: gob
		{},
	} {
		b, err := SessionCodec{}.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		_, hasTime := values["at"]
		if json := len(b) > 0 && b[0] == '{'; json == hasTime {
			t.Errorf("%v encoded as %.30q", values, b)
		}
		d, got, err := SessionCodec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Equal(deadline) || len(got) != len(values) {
			t.Errorf("deadline %v, values %v; want %v, %v", d, got, deadline, values)
		}
		for k, v := range values {
			if got[k] != v {
				t.Errorf("%s = %#v, want %#v", k, got[k], v)
			}
		}
	}
	if _, _, err := (SessionCodec{}).Decode([]byte(`{"festa":1,"d":"2026-11-28T09:00:00Z","v":{"x":["f","1"]}}`)); err == nil {
		t.Error("an unknown value type decoded")
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestBenchSpikeRefusesWhatItCannotRun covers the command line's own
// refusals; the spike itself is tested in package loadtest.
func TestBenchSpikeRefusesWhatItCannotRun(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"festa", "bench"}, "usage: festa bench spike"},
		{[]string{"festa", "bench", "flood"}, "usage: festa bench spike"},
		{[]string{"festa", "bench", "spike"}, "DATABASE_URL"},
		{[]string{"festa", "bench", "spike", "-pids", "12,x"}, "bad pid"},
		{[]string{"festa", "bench", "spike", "-open-in", "soon"}, "open-in"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), tc.args, getenv(nil), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one mentioning %q", tc.args[1:], err, tc.want)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"festa", "bench", "spike", "--help"}, getenv(nil), &out, &out); err != nil ||
		!strings.Contains(out.String(), "-best-fraction") {
		t.Errorf("bench spike --help: %v %q", err, out.String())
	}
}

func TestSecondsOrDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"15": 15 * time.Second, "2.5": 2500 * time.Millisecond, "1m": time.Minute} {
		if got, err := secondsOrDuration(in); err != nil || got != want {
			t.Errorf("secondsOrDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

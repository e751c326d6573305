package handlers

import "testing"

func TestRedactURI(t *testing.T) {
	for in, want := range map[string]string{
		"/screen/opening?key=s3cret":        "/screen/opening?key=REDACTED",
		"/ws/screen/opening?key=s3cret&v=2": "/ws/screen/opening?key=REDACTED&v=2",
		"/p/opening?seat=C12":               "/p/opening?seat=C12",
		"/admin/audit?monkey=1":             "/admin/audit?monkey=1",
	} {
		if got := redactURI(in); got != want {
			t.Errorf("redactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

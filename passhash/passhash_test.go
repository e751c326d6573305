package passhash

import (
	"syscall"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	for _, p := range []Params{Fast, Code, Default} {
		h, err := Hash("K7M2QP", p)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := Verify(h, "K7M2QP"); !ok || err != nil {
			t.Fatalf("right secret rejected: %v %v", ok, err)
		}
		if ok, _ := Verify(h, "K7M2QQ"); ok {
			t.Fatal("wrong secret accepted")
		}
		h2, _ := Hash("K7M2QP", p)
		if h == h2 {
			t.Fatal("two hashes of one secret are equal: salt missing")
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=x$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$"} {
		if _, err := Verify(h, "x"); err == nil {
			t.Errorf("Verify(%q) accepted a malformed hash", h)
		}
	}
}

// BenchmarkVerifyCode measures one access-code check (passhash.Code), the
// cost of each student's sign-in.
func BenchmarkVerifyCode(b *testing.B) { benchmarkVerify(b, Code) }

// BenchmarkVerifyDefault measures one argon2id check at production cost:
// its inverse is the sign-in checks per second one check slot gives (see
// README "Sign-in security"). cpu-ms/op is the process's CPU time per
// check, which a machine busy with other work inflates less than the wall
// time.
func BenchmarkVerifyDefault(b *testing.B) { benchmarkVerify(b, Default) }

func benchmarkVerify(b *testing.B, p Params) {
	h, err := Hash("K7M2QPX4RT", p)
	if err != nil {
		b.Fatal(err)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	for b.Loop() {
		Verify(h, "K7M2QPX4RU")
	}
	b.ReportMetric(float64(cpu()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

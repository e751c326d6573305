package tickets

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// b64Alphabet is the base64url alphabet, in the order the encoding uses it.
const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// testKey derives a fixed key from label, so tokens (and fuzz corpus entries) are
// the same on every run and a failure can be replayed.
func testKey(tb testing.TB, id, label string) Key {
	tb.Helper()
	seed := sha256.Sum256([]byte("festa tickets test key " + label))
	return Key{ID: id, Private: ed25519.NewKeyFromSeed(seed[:])}
}

func testRing(tb testing.TB, keys ...Key) *Ring {
	tb.Helper()
	r, err := NewRing(keys...)
	if err != nil {
		tb.Fatalf("NewRing: %v", err)
	}
	return r
}

func sampleClaims(tb testing.TB) Claims {
	tb.Helper()
	id, err := ParseID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
	if err != nil {
		tb.Fatalf("ParseID: %v", err)
	}
	return Claims{
		TicketID:    id,
		Performance: "opening",
		Seat:        "C12",
		IssuedAt:    time.Date(2026, 5, 14, 18, 30, 5, 0, time.UTC),
	}
}

func mustSign(tb testing.TB, r *Ring, c Claims) string {
	tb.Helper()
	tok, err := r.Sign(c)
	if err != nil {
		tb.Fatalf("Sign(%+v): %v", c, err)
	}
	return tok
}

func sameClaims(a, b Claims) bool {
	return a.TicketID == b.TicketID && a.Performance == b.Performance &&
		a.Seat == b.Seat && a.IssuedAt.Equal(b.IssuedAt)
}

// wantInvalid fails unless token is rejected with ErrInvalid.
func wantInvalid(t *testing.T, r *Ring, token, what string) {
	t.Helper()
	c, err := r.Verify(token)
	if err == nil {
		t.Fatalf("%s: Verify(%q) accepted a changed token, claims %+v", what, token, c)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("%s: Verify(%q) error %v does not wrap ErrInvalid", what, token, err)
	}
}

func TestRoundTrip(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	want := sampleClaims(t)
	tok := mustSign(t, r, want)
	if !strings.HasPrefix(tok, "F1.k1.") {
		t.Fatalf("token %q does not start with F1.k1.", tok)
	}
	if strings.ContainsAny(tok, "=+/ \n") {
		t.Fatalf("token %q is not unpadded base64url", tok)
	}
	got, err := r.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !sameClaims(got, want) {
		t.Fatalf("Verify = %+v, want %+v", got, want)
	}
	if got.IssuedAt.Location() != time.UTC {
		t.Errorf("IssuedAt location = %v, want UTC", got.IssuedAt.Location())
	}
	// Ed25519 is deterministic, so signing the same claims twice gives one token.
	if again := mustSign(t, r, want); again != tok {
		t.Errorf("second Sign = %q, want %q", again, tok)
	}
}

func TestRoundTripDropsSubsecondsAndZone(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	c := sampleClaims(t)
	seoul := time.FixedZone("KST", 9*60*60)
	c.IssuedAt = time.Date(2026, 5, 15, 3, 30, 5, 999_999_999, seoul)
	got, err := r.Verify(mustSign(t, r, c))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := c.IssuedAt.Truncate(time.Second); !got.IssuedAt.Equal(want) {
		t.Fatalf("IssuedAt = %v, want %v", got.IssuedAt, want)
	}
}

func TestRoundTripLimits(t *testing.T) {
	r := testRing(t, testKey(t, "abcdefghij012345", "long id"))
	c := sampleClaims(t)
	c.Performance = strings.Repeat("a-9", 21) + "z"
	c.Seat = "ZZ999999"
	c.IssuedAt = time.Unix(maxIssuedAt, 0)
	c.TicketID = ID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	tok := mustSign(t, r, c)
	if len(tok) > MaxTokenLen {
		t.Fatalf("largest token is %d bytes, over MaxTokenLen %d", len(tok), MaxTokenLen)
	}
	got, err := r.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !sameClaims(got, c) {
		t.Fatalf("Verify = %+v, want %+v", got, c)
	}
	c.IssuedAt = time.Unix(minIssuedAt, 0)
	if _, err := r.Verify(mustSign(t, r, c)); err != nil {
		t.Fatalf("Verify at the earliest issue time: %v", err)
	}
}

// TestEveryBitFlipIsInvalid flips each bit of each byte of a real token; no variant
// may verify. Some flips turn a character into '\n' or '\r', which the base64
// decoder skips, and some touch only the unused low bits of a segment's last
// character, which a lenient decoder ignores.
func TestEveryBitFlipIsInvalid(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	tok := mustSign(t, r, sampleClaims(t))
	for i := range len(tok) {
		for bit := range 8 {
			b := []byte(tok)
			b[i] ^= 1 << bit
			wantInvalid(t, r, string(b), fmt.Sprintf("bit %d of byte %d", bit, i))
		}
	}
}

// TestEveryCharacterSwapIsInvalid replaces each character with every other
// base64url character (and the separators). Swaps in the last character of the
// payload and signature test canonical decoding: those characters carry unused
// low bits that a lenient decoder would ignore.
func TestEveryCharacterSwapIsInvalid(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	tok := mustSign(t, r, sampleClaims(t))
	for i := range len(tok) {
		for _, c := range []byte(b64Alphabet + ".=") {
			if tok[i] == c {
				continue
			}
			b := []byte(tok)
			b[i] = c
			wantInvalid(t, r, string(b), fmt.Sprintf("byte %d set to %q", i, c))
		}
	}
}

func TestEveryLengthChangeIsInvalid(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	tok := mustSign(t, r, sampleClaims(t))
	for n := range len(tok) {
		wantInvalid(t, r, tok[:n], fmt.Sprintf("truncated to %d bytes", n))
		wantInvalid(t, r, tok[:n]+tok[n+1:], fmt.Sprintf("byte %d deleted", n))
		for _, c := range []string{"\n", "\r", " ", "=", "A", "."} {
			wantInvalid(t, r, tok[:n]+c+tok[n:], fmt.Sprintf("%q inserted at %d", c, n))
		}
	}
	for _, suffix := range []string{"\n", "\r\n", " ", "=", "==", "A", "AA", "AAAA", ".", ".x"} {
		wantInvalid(t, r, tok+suffix, fmt.Sprintf("suffix %q", suffix))
	}
}

// TestDecodeSegmentIsCanonical pins the decoder on its own, since through Verify the
// signature length check already hides a missing alphabet check.
func TestDecodeSegmentIsCanonical(t *testing.T) {
	if b, err := decodeSegment("QUJDRA"); err != nil || string(b) != "ABCD" {
		t.Fatalf("decodeSegment(QUJDRA) = %q, %v; want ABCD", b, err)
	}
	for _, s := range []string{"QUJD\nRA", "QUJD\rRA", "QUJDRA\n", "QUJDRA==", "QUJDRB", "QUJD RA", "QUJD+RA", "QUJD/RA", "Q"} {
		if b, err := decodeSegment(s); err == nil {
			t.Errorf("decodeSegment(%q) = %q, want an error", s, b)
		}
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	tok := mustSign(t, r, sampleClaims(t))
	parts := strings.Split(tok, ".")
	payload, sig := parts[2], parts[3]
	cases := map[string]string{
		"empty":             "",
		"prefix only":       "F1.",
		"wrong version":     "F2.k1." + payload + "." + sig,
		"lowercase prefix":  "f1.k1." + payload + "." + sig,
		"no key id":         "F1.." + payload + "." + sig,
		"uppercase key id":  "F1.K1." + payload + "." + sig,
		"missing signature": "F1.k1." + payload,
		"empty signature":   "F1.k1." + payload + ".",
		"empty payload":     "F1.k1.." + sig,
		"extra segment":     tok + ".AAAA",
		"padded payload":    "F1.k1." + payload + "==." + sig,
		"standard base64":   "F1.k1." + strings.NewReplacer("-", "+", "_", "/").Replace(payload+"."+sig),
		"leading space":     " " + tok,
		"too long":          tok + strings.Repeat("A", MaxTokenLen),
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			if token == tok {
				t.Fatal("case is the valid token")
			}
			wantInvalid(t, r, token, name)
		})
	}
}

// TestVerifyLengthLimit checks that the limit is enforced before any other work,
// at exactly one byte over.
func TestVerifyLengthLimit(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	sig := strings.Split(mustSign(t, r, sampleClaims(t)), ".")[3]
	over := "F1.k1." + strings.Repeat("A", MaxTokenLen+1-len("F1.k1..")-len(sig)) + "." + sig
	if len(over) != MaxTokenLen+1 {
		t.Fatalf("test token is %d bytes, want %d", len(over), MaxTokenLen+1)
	}
	_, err := r.Verify(over)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Verify(%d bytes) error = %v, want the length limit", len(over), err)
	}
	_, err = r.Verify(over[1:])
	if err == nil || strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Verify(%d bytes) error = %v, want a rejection other than the length limit", len(over)-1, err)
	}
}

func TestUnknownKeyID(t *testing.T) {
	signer := testRing(t, testKey(t, "k1", "one"))
	verifier := testRing(t, testKey(t, "k2", "two"))
	wantInvalid(t, verifier, mustSign(t, signer, sampleClaims(t)), "unknown key id")
}

// TestSameKeyIDOtherKey guards against trusting the key id alone: a second ring
// that reuses the id with a different key must not verify the first ring's tokens.
func TestSameKeyIDOtherKey(t *testing.T) {
	a := testRing(t, testKey(t, "k1", "one"))
	b := testRing(t, testKey(t, "k1", "impostor"))
	tok := mustSign(t, b, sampleClaims(t))
	wantInvalid(t, a, tok, "same key id, other key")
	// Grafting the genuine signer's key id onto an impostor token is the same case;
	// grafting an impostor payload onto a genuine signature must fail too.
	genuine := strings.Split(mustSign(t, a, sampleClaims(t)), ".")
	forged := strings.Split(tok, ".")
	c := sampleClaims(t)
	c.Seat = "A1"
	other := strings.Split(mustSign(t, a, c), ".")
	wantInvalid(t, a, strings.Join([]string{"F1", "k1", other[2], genuine[3]}, "."), "payload swap")
	wantInvalid(t, a, strings.Join([]string{"F1", "k1", genuine[2], forged[3]}, "."), "signature swap")
}

// TestKeyIDIsSigned checks that the key id is inside the signed bytes: the same key
// under two ids must not accept each other's tokens.
func TestKeyIDIsSigned(t *testing.T) {
	k := testKey(t, "ka", "shared")
	kb := Key{ID: "kb", Private: k.Private}
	r := testRing(t, k, kb)
	tok := mustSign(t, r, sampleClaims(t))
	if _, err := r.Verify(tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	wantInvalid(t, r, strings.Replace(tok, "F1.ka.", "F1.kb.", 1), "key id relabelled")
}

func TestKeyRotation(t *testing.T) {
	oldKey := testKey(t, "old", "old")
	newKey := testKey(t, "new", "new")
	c := sampleClaims(t)
	oldTok := mustSign(t, testRing(t, oldKey), c)

	both := testRing(t, newKey, oldKey)
	got, err := both.Verify(oldTok)
	if err != nil {
		t.Fatalf("ring [new, old] rejected a token from [old]: %v", err)
	}
	if !sameClaims(got, c) {
		t.Fatalf("Verify = %+v, want %+v", got, c)
	}
	newTok := mustSign(t, both, c)
	if !strings.HasPrefix(newTok, "F1.new.") {
		t.Fatalf("ring [new, old] signed %q, want key new", newTok)
	}
	if _, err := both.Verify(newTok); err != nil {
		t.Fatalf("ring [new, old] rejected its own token: %v", err)
	}
	wantInvalid(t, testRing(t, newKey), oldTok, "ring [new] with a token from [old]")
}

func TestSignRejectsBadClaims(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	cases := map[string]func(*Claims){
		"zero ticket id":         func(c *Claims) { c.TicketID = ID{} },
		"empty performance":      func(c *Claims) { c.Performance = "" },
		"long performance":       func(c *Claims) { c.Performance = strings.Repeat("a", maxPerformanceLen+1) },
		"uppercase performance":  func(c *Claims) { c.Performance = "Opening" },
		"performance with space": func(c *Claims) { c.Performance = "open ing" },
		"performance with slash": func(c *Claims) { c.Performance = "open/ing" },
		"performance with dot":   func(c *Claims) { c.Performance = "open.ing" },
		"non-ASCII performance":  func(c *Claims) { c.Performance = "개막" },
		"empty seat":             func(c *Claims) { c.Seat = "" },
		"long seat":              func(c *Claims) { c.Seat = "ABCDEFGH9" },
		"lowercase seat":         func(c *Claims) { c.Seat = "c12" },
		"seat with dash":         func(c *Claims) { c.Seat = "C-12" },
		"seat with NUL":          func(c *Claims) { c.Seat = "C1\x00" },
		"zero issue time":        func(c *Claims) { c.IssuedAt = time.Time{} },
		"issue time at epoch":    func(c *Claims) { c.IssuedAt = time.Unix(0, 0) },
		"issue time after 9999":  func(c *Claims) { c.IssuedAt = time.Unix(maxIssuedAt+1, 0) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := sampleClaims(t)
			mutate(&c)
			tok, err := r.Sign(c)
			if err == nil {
				t.Fatalf("Sign(%+v) = %q, want an error", c, tok)
			}
			if !errors.Is(err, ErrInvalidClaims) {
				t.Fatalf("Sign error %v does not wrap ErrInvalidClaims", err)
			}
		})
	}
}

// TestVerifyRejectsSignedBadPayloads signs malformed payloads with the ring's own
// key, so the signature is good and only the strict decoder can reject them.
func TestVerifyRejectsSignedBadPayloads(t *testing.T) {
	r := testRing(t, testKey(t, "k1", "one"))
	good, err := encodePayload(sampleClaims(t))
	if err != nil {
		t.Fatalf("encodePayload: %v", err)
	}
	// The sample payload: version, 16-byte id, 7 "opening", 3 "C12", 8-byte time.
	const perfLen, seatLen, timeAt = 17, 25, 29
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":                 {},
		"version only":          {payloadVersion},
		"version 0":             edit(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":             edit(func(b []byte) []byte { b[0] = 2; return b }),
		"trailing byte":         append(bytes.Clone(good), 0),
		"missing last byte":     good[:len(good)-1],
		"zero ticket id":        edit(func(b []byte) []byte { clear(b[1:17]); return b }),
		"performance too short": edit(func(b []byte) []byte { b[perfLen] = 6; return b }),
		"performance too long":  edit(func(b []byte) []byte { b[perfLen] = 8; return b }),
		"performance overruns":  edit(func(b []byte) []byte { b[perfLen] = 255; return b }),
		"empty performance":     edit(func(b []byte) []byte { return append(append(b[:perfLen], 0), b[seatLen:]...) }),
		"uppercase performance": edit(func(b []byte) []byte { b[perfLen+1] = 'O'; return b }),
		"seat length wrong":     edit(func(b []byte) []byte { b[seatLen] = 2; return b }),
		"lowercase seat":        edit(func(b []byte) []byte { b[seatLen+1] = 'c'; return b }),
		"seat with NUL":         edit(func(b []byte) []byte { b[seatLen+3] = 0; return b }),
		"negative issue time": edit(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[timeAt:], uint64(0xffffffffffffffff))
			return b
		}),
		"zero issue time": edit(func(b []byte) []byte { clear(b[timeAt:]); return b }),
		"long performance": func() []byte {
			c := sampleClaims(t)
			b := []byte{payloadVersion}
			b = append(b, c.TicketID[:]...)
			b = append(b, maxPerformanceLen+1)
			b = append(b, strings.Repeat("a", maxPerformanceLen+1)...)
			return append(b, good[seatLen:]...)
		}(),
	}
	if _, err := decodePayload(good); err != nil {
		t.Fatalf("decodePayload(good): %v", err)
	}
	if _, err := r.Verify(r.signPayload(good)); err != nil {
		t.Fatalf("Verify(signPayload(good)): %v", err)
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			if c, err := decodePayload(payload); err == nil {
				t.Fatalf("decodePayload(%x) = %+v, want an error", payload, c)
			}
			wantInvalid(t, r, r.signPayload(payload), name)
		})
	}
}

func TestID(t *testing.T) {
	id := ID{0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0}
	const text = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	if got := id.String(); got != text {
		t.Fatalf("String = %q, want %q", got, text)
	}
	got, err := ParseID(text)
	if err != nil || got != id {
		t.Fatalf("ParseID(%q) = %v, %v; want %v", text, got, err, id)
	}
	for _, bad := range []string{
		"",
		"0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
		"0f1e2d3c4b5a697887 96a5b4c3d2e1f0xxxx",
		"0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		"{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",
		"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg",
		"0f1e2d3c-4b5a-6978-8796_a5b4c3d2e1f0",
		"0f1e2d3c-4b5a-69788-796-a5b4c3d2e1f0",
		"urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	} {
		if id, err := ParseID(bad); err == nil || !errors.Is(err, ErrInvalidID) {
			t.Errorf("ParseID(%q) = %v, %v; want ErrInvalidID", bad, id, err)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := make(map[ID]bool)
	for range 100 {
		id, err := NewID()
		if err != nil {
			t.Fatalf("NewID: %v", err)
		}
		if id == (ID{}) || seen[id] {
			t.Fatalf("NewID returned %v twice or zero", id)
		}
		seen[id] = true
		back, err := ParseID(id.String())
		if err != nil || back != id {
			t.Fatalf("ParseID(%q) = %v, %v; want %v", id.String(), back, err, id)
		}
	}
}

func TestParseRing(t *testing.T) {
	k1 := testKey(t, "k1", "one")
	k2 := testKey(t, "k2", "two")
	// Whitespace around entries and parts is tolerated, and hex may be uppercase.
	spec := "  " + k2.Spec() + " ,\n\t k1 : " + strings.ToUpper(hex.EncodeToString(k1.Private.Seed())) + "\t"
	r, err := ParseRing(spec)
	if err != nil {
		t.Fatalf("ParseRing: %v", err)
	}
	if got := r.String(); got != "tickets.Ring{k2,k1}" {
		t.Fatalf("ring = %s, want k2 then k1", got)
	}
	tok := mustSign(t, r, sampleClaims(t))
	if !strings.HasPrefix(tok, "F1.k2.") {
		t.Fatalf("ring signed %q, want the first entry's key k2", tok)
	}
	if _, err := testRing(t, k2).Verify(tok); err != nil {
		t.Fatalf("token from the parsed ring does not verify with k2: %v", err)
	}
	if _, err := r.Verify(mustSign(t, testRing(t, k1), sampleClaims(t))); err != nil {
		t.Fatalf("parsed ring rejects a token from k1: %v", err)
	}
	pubs := r.PublicKeys()
	if len(pubs) != 2 || !pubs["k1"].Equal(k1.Private.Public()) || !pubs["k2"].Equal(k2.Private.Public()) {
		t.Fatalf("PublicKeys = %v, want k1 and k2", pubs)
	}
	// The returned map is a copy: changing it must not change the ring.
	pubs["k1"][0] ^= 0xff
	delete(pubs, "k2")
	if again := r.PublicKeys(); len(again) != 2 || !again["k1"].Equal(k1.Private.Public()) {
		t.Fatal("changing the PublicKeys result changed the ring")
	}
}

func TestParseRingErrors(t *testing.T) {
	k1 := testKey(t, "k1", "one")
	seed := hex.EncodeToString(k1.Private.Seed())
	good := k1.Spec()
	cases := []struct {
		name, spec, want string
	}{
		{"empty", "", "no keys"},
		{"blank", " \t\n", "no keys"},
		{"empty entry", good + ",", "entry 2: empty entry"},
		{"empty first entry", " ," + good, "entry 1: empty entry"},
		{"no colon", seed, "entry 1: want"},
		{"empty id", ":" + seed, "entry 1: key id"},
		{"uppercase id", "K1:" + seed, "entry 1: key id"},
		{"id with dash", "k-1:" + seed, "entry 1: key id"},
		{"id too long", "abcdefghijklmnopq:" + seed, "entry 1: key id"},
		{"seed as id", good + "," + seed + ":" + seed, "entry 2: key id"},
		{"bad hex", "k2:" + seed[:62] + "zz", "entry 1: key \"k2\": seed is not hexadecimal"},
		{"short seed", "k2:" + seed[:62], "entry 1: key \"k2\": seed is 62 characters"},
		{"long seed", "k2:" + seed + "00", "entry 1: key \"k2\": seed is 66 characters"},
		{"private key not seed", "k2:" + hex.EncodeToString(k1.Private), "entry 1: key \"k2\": seed is 128 characters"},
		{"empty seed", "k2:", "entry 1: key \"k2\": seed is 0 characters"},
		{"duplicate id", good + ", k2:" + seed + " ,k1:" + seed, "entry 3: duplicate key id \"k1\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRing(tc.spec)
			if err == nil {
				t.Fatalf("ParseRing(%q) = %v, want an error", tc.spec, r)
			}
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not mention %q", msg, tc.want)
			}
			if strings.Contains(msg, seed[:16]) || strings.Contains(strings.ToLower(msg), "0x") {
				t.Fatalf("error %q shows seed material", msg)
			}
		})
	}
}

func TestNewRingErrors(t *testing.T) {
	k1 := testKey(t, "k1", "one")
	mismatched := bytes.Clone(k1.Private)
	mismatched[ed25519.SeedSize] ^= 1
	cases := map[string][]Key{
		"no keys":           nil,
		"bad id":            {{ID: "K1", Private: k1.Private}},
		"missing key":       {{ID: "k1"}},
		"seed only":         {{ID: "k1", Private: ed25519.PrivateKey(k1.Private.Seed())}},
		"mismatched public": {{ID: "k1", Private: mismatched}},
		"duplicate id":      {k1, testKey(t, "k1", "two")},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			if r, err := NewRing(keys...); err == nil || !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("NewRing = %v, %v; want ErrInvalidKey", r, err)
			}
		})
	}
}

// TestNewRingCopiesKeys makes sure a caller that reuses or wipes its key slice
// after building the ring cannot change what the ring signs with.
func TestNewRingCopiesKeys(t *testing.T) {
	k := testKey(t, "k1", "one")
	priv := bytes.Clone(k.Private)
	r := testRing(t, Key{ID: "k1", Private: priv})
	clear(priv)
	if _, err := testRing(t, k).Verify(mustSign(t, r, sampleClaims(t))); err != nil {
		t.Fatalf("ring changed when the caller's key slice was wiped: %v", err)
	}
}

func TestGenerateKeySpecRoundTrip(t *testing.T) {
	k, err := GenerateKey("k2026")
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	spec := k.Spec()
	if id, seed, _ := strings.Cut(spec, ":"); id != "k2026" || len(seed) != 64 {
		t.Fatalf("Spec = %q, want k2026: and 64 hex characters", spec)
	}
	parsed, err := ParseRing(spec)
	if err != nil {
		t.Fatalf("ParseRing(Spec()): %v", err)
	}
	direct := testRing(t, k)
	if !parsed.PublicKeys()["k2026"].Equal(k.Private.Public()) {
		t.Fatal("parsed ring has a different public key")
	}
	c := sampleClaims(t)
	if a, b := mustSign(t, parsed, c), mustSign(t, direct, c); a != b {
		t.Fatalf("parsed ring signs %q, original key signs %q", a, b)
	}
	other, err := GenerateKey("k2026")
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	if other.Private.Equal(k.Private) {
		t.Fatal("GenerateKey returned the same key twice")
	}
	for _, bad := range []string{"", "K1", "k_1", "abcdefghijklmnopq"} {
		if _, err := GenerateKey(bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("GenerateKey(%q) error = %v, want ErrInvalidKey", bad, err)
		}
	}
}

// TestKeysDoNotLeakWhenPrinted covers the easy accidents: formatting a Key or Ring
// with fmt, or logging one through slog's text or JSON handler.
func TestKeysDoNotLeakWhenPrinted(t *testing.T) {
	k := testKey(t, "k1", "one")
	r := testRing(t, k)
	seedHex := hex.EncodeToString(k.Private.Seed())
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s %v %+v %#v %s", k, k, k, k, r, r, r, r)
	fmt.Fprintf(&out, " %v %+v", []Key{k}, struct{ K Key }{k})
	slog.New(slog.NewTextHandler(&out, nil)).Info("keys", "key", k, "ring", r)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("keys", "key", k, "ring", r)
	for _, secret := range []string{
		seedHex,
		base64.StdEncoding.EncodeToString(k.Private)[:12],
		strings.Trim(fmt.Sprint([]byte(k.Private[:4])), "[]"),
		fmt.Sprintf("%#x", k.Private[:4])[2:],
	} {
		if strings.Contains(out.String(), secret) {
			t.Fatalf("printed output %q contains key material %q", out.String(), secret)
		}
	}
}

// FuzzVerify feeds arbitrary strings to Verify. Verify must never panic, must
// reject with ErrInvalid, and anything it accepts must be the one canonical token
// for its claims: re-signing with the same key reproduces it byte for byte.
func FuzzVerify(f *testing.F) {
	newKey := testKey(f, "new", "new")
	oldKey := testKey(f, "old", "old")
	ring := testRing(f, newKey, oldKey)
	byID := map[string]*Ring{"new": ring, "old": testRing(f, oldKey)}
	c := sampleClaims(f)
	tok := mustSign(f, ring, c)
	oldTok := mustSign(f, byID["old"], c)
	for _, s := range []string{
		tok,
		oldTok,
		"",
		"F1.",
		"F1.new..",
		"F1.new.AQ.AA",
		tok + "\n",
		tok[:len(tok)-1] + "B",
		strings.Replace(tok, ".", "\n.", 2),
		strings.Replace(oldTok, "F1.old.", "F1.new.", 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ring.Verify(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		again, err := ring.Sign(got)
		if err != nil {
			t.Fatalf("Verify(%q) accepted claims %+v that Sign rejects: %v", s, got, err)
		}
		back, err := ring.Verify(again)
		if err != nil {
			t.Fatalf("re-signed token %q does not verify: %v", again, err)
		}
		if !sameClaims(back, got) {
			t.Fatalf("re-signed token gives %+v, want %+v", back, got)
		}
		keyID := strings.SplitN(s, ".", 3)[1]
		signer, ok := byID[keyID]
		if !ok {
			t.Fatalf("Verify(%q) accepted key id %q that no test ring signs with", s, keyID)
		}
		if canonical := mustSign(t, signer, got); canonical != s {
			t.Fatalf("Verify accepted %q, but the canonical token is %q", s, canonical)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	r := testRing(b, testKey(b, "k1", "one"))
	c := sampleClaims(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	r := testRing(b, testKey(b, "k2", "two"), testKey(b, "k1", "one"))
	tok := mustSign(b, r, sampleClaims(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// Package tickets signs and verifies the ticket tokens that the QR codes carry.
//
// A token is one ASCII string, F1.{keyid}.{payload}.{signature}, where payload and
// signature are unpadded base64url and the Ed25519 signature covers every byte before
// the last dot, so the key id is bound as well as the claims. The payload is a compact
// binary record without personal data: the ticket's random id, the performance slug,
// the seat label and the issue time.
//
// Verification is strict on purpose. For given claims and a given key there is exactly
// one accepted spelling, so any change to any byte of a token makes it invalid and a
// gate never has to reason about near-misses. Signing keys live in a Ring; the first
// key signs and all keys verify, so keys can rotate without voiding issued tickets.
package tickets

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalid is returned by Ring.Verify for every token it does not accept: a wrong
// prefix, an unknown key id, bad base64, a bad signature, a bad payload or an oversized
// token. Callers should treat all of these alike; the wrapped detail is for logs only.
var ErrInvalid = errors.New("tickets: invalid token")

// ErrInvalidClaims is returned by Ring.Sign when the claims cannot be encoded, which
// means a caller bug or bad data upstream, never a forged token.
var ErrInvalidClaims = errors.New("tickets: invalid claims")

// ErrInvalidID is returned by ParseID for text that is not a canonical ticket id.
var ErrInvalidID = errors.New("tickets: invalid ticket id")

// MaxTokenLen is the longest token Verify will look at. The largest token Sign can
// produce is well under half of it, so the limit only bounds work on hostile input.
const MaxTokenLen = 512

const (
	// tokenPrefix names the token format; a new format gets a new prefix.
	tokenPrefix = "F1."
	// payloadVersion is the first payload byte, so the binary layout can change
	// under the same prefix without old gates misreading new tickets.
	payloadVersion = 1

	maxPerformanceLen = 64
	maxSeatLen        = 8

	// minIssuedAt and maxIssuedAt bound the issue time to 1970-01-01T00:00:01Z ..
	// 9999-12-31T23:59:59Z: a zero time.Time is rejected rather than signed, and
	// decoding never yields a time that formats oddly.
	minIssuedAt = 1
	maxIssuedAt = 253402300799

	// signatureB64Len is the unpadded base64 length of an Ed25519 signature.
	signatureB64Len = (ed25519.SignatureSize*8 + 5) / 6
)

// ID is a ticket's random 128-bit identifier. Its text form is the canonical
// lowercase UUID spelling, as in /tickets/{id}.
type ID [16]byte

// NewID returns a fresh ID with all 128 bits drawn from crypto/rand. No UUID version
// bits are set: the id is only ever compared, and every bit makes it harder to guess.
func NewID() (ID, error) {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		return ID{}, fmt.Errorf("tickets: new id: %w", err)
	}
	return id, nil
}

// String returns the id as lowercase 8-4-4-4-12 hexadecimal text.
func (id ID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], id[10:16])
	return string(b[:])
}

// ParseID parses the text String produces. Only that exact spelling is accepted
// (lowercase, with dashes, no braces or "urn:uuid:" prefix), so every ticket has
// exactly one URL.
func ParseID(s string) (ID, error) {
	if len(s) != 36 {
		return ID{}, fmt.Errorf("%w: want 36 characters, got %d", ErrInvalidID, len(s))
	}
	var digits [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return ID{}, fmt.Errorf("%w: want a dash at position %d", ErrInvalidID, i+1)
			}
			continue
		}
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ID{}, fmt.Errorf("%w: want lowercase hexadecimal at position %d", ErrInvalidID, i+1)
		}
		digits[n] = c
		n++
	}
	var id ID
	if _, err := hex.Decode(id[:], digits[:]); err != nil {
		// The loop above admits only hex digits, so this is unreachable.
		return ID{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	return id, nil
}

// Claims is what a ticket token asserts. It holds no personal data: whoever holds
// the token may show it, and the gate learns only which seat it opens.
type Claims struct {
	// TicketID is the ticket's random id; it must not be the zero ID.
	TicketID ID
	// Performance is the performance slug: 1–64 bytes of a–z, 0–9 and '-'.
	Performance string
	// Seat is the seat label: 1–8 bytes of A–Z and 0–9, such as "C12".
	Seat string
	// IssuedAt is kept to the second; Sign drops any fraction and Verify returns UTC.
	IssuedAt time.Time
}

// Sign returns the token for c, signed with the ring's first key. It fails only
// when c does not validate (see Claims), with an error wrapping ErrInvalidClaims.
func (r *Ring) Sign(c Claims) (string, error) {
	payload, err := encodePayload(c)
	if err != nil {
		// The error already reads "tickets: invalid claims: ...".
		return "", err
	}
	return r.signPayload(payload), nil
}

// signPayload builds the token around already encoded payload bytes. It is separate
// from Sign so tests can sign malformed payloads and prove Verify still rejects them.
func (r *Ring) signPayload(payload []byte) string {
	var b strings.Builder
	b.Grow(len(tokenPrefix) + len(r.signer.ID) + 1 +
		base64.RawURLEncoding.EncodedLen(len(payload)) + 1 + signatureB64Len)
	b.WriteString(tokenPrefix)
	b.WriteString(r.signer.ID)
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	signed := b.String()
	sig := ed25519.Sign(r.signer.Private, []byte(signed))
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(sig))
	return b.String()
}

// Verify checks token against every key in the ring and returns its claims. Every
// rejection wraps ErrInvalid. The signature is checked before the payload is parsed,
// so unauthenticated bytes never reach the decoder.
func (r *Ring) Verify(token string) (Claims, error) {
	if len(token) > MaxTokenLen {
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxTokenLen)
	}
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return Claims{}, fmt.Errorf("%w: does not start with %q", ErrInvalid, tokenPrefix)
	}
	keyID, rest, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, fmt.Errorf("%w: missing payload", ErrInvalid)
	}
	payloadB64, sigB64, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, fmt.Errorf("%w: missing signature", ErrInvalid)
	}
	// The map holds only well-formed ids, so a malformed id is simply unknown.
	pub, ok := r.public[keyID]
	if !ok {
		return Claims{}, fmt.Errorf("%w: unknown key id", ErrInvalid)
	}
	if len(sigB64) != signatureB64Len {
		return Claims{}, fmt.Errorf("%w: signature is %d characters, want %d", ErrInvalid, len(sigB64), signatureB64Len)
	}
	sig, err := decodeSegment(sigB64)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: signature: %w", ErrInvalid, err)
	}
	payload, err := decodeSegment(payloadB64)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: payload: %w", ErrInvalid, err)
	}
	signed := token[:len(token)-len(sigB64)-1]
	if !ed25519.Verify(pub, []byte(signed), sig) {
		return Claims{}, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	c, err := decodePayload(payload)
	if err != nil {
		// %v, not %w: a bad payload under a good signature is still just an invalid
		// token to callers, and must not also match ErrInvalidClaims.
		return Claims{}, fmt.Errorf("%w: payload: %v", ErrInvalid, err)
	}
	return c, nil
}

// decodeSegment decodes one unpadded base64url segment, accepting only its canonical
// spelling. The payload's text is signed as it stands, but the signature segment is
// not, so a lenient decoder would let several strings carry the same signature:
// Strict rejects non-zero unused bits in the last character (a real hole, which the
// tests catch), and the alphabet check rejects '\r' and '\n', which the decoder
// skips even in Strict mode (today also caught by the signature length check).
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return nil, fmt.Errorf("byte %d is not base64url", i+1)
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// encodePayload lays out c as: version byte, 16-byte ticket id, length-prefixed
// performance, length-prefixed seat, issue time as big-endian int64 Unix seconds.
func encodePayload(c Claims) ([]byte, error) {
	if err := validateClaims(c); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+len(c.TicketID)+1+len(c.Performance)+1+len(c.Seat)+8)
	b = append(b, payloadVersion)
	b = append(b, c.TicketID[:]...)
	b = append(b, byte(len(c.Performance)))
	b = append(b, c.Performance...)
	b = append(b, byte(len(c.Seat)))
	b = append(b, c.Seat...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.IssuedAt.Unix()))
	return b, nil
}

// decodePayload is the exact inverse of encodePayload: it accepts nothing that
// encodePayload would not have produced, trailing bytes included.
func decodePayload(b []byte) (Claims, error) {
	if len(b) < 1+len(ID{}) {
		return Claims{}, fmt.Errorf("%w: %d bytes is too short", ErrInvalidClaims, len(b))
	}
	if b[0] != payloadVersion {
		return Claims{}, fmt.Errorf("%w: unsupported payload version %d", ErrInvalidClaims, b[0])
	}
	var c Claims
	copy(c.TicketID[:], b[1:1+len(ID{})])
	b = b[1+len(ID{}):]
	perf, b, err := readLengthPrefixed(b)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: performance: %w", ErrInvalidClaims, err)
	}
	seat, b, err := readLengthPrefixed(b)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: seat: %w", ErrInvalidClaims, err)
	}
	if len(b) != 8 {
		return Claims{}, fmt.Errorf("%w: %d bytes after the seat, want 8", ErrInvalidClaims, len(b))
	}
	c.Performance = string(perf)
	c.Seat = string(seat)
	c.IssuedAt = time.Unix(int64(binary.BigEndian.Uint64(b)), 0).UTC()
	if err := validateClaims(c); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// readLengthPrefixed splits one byte-length-prefixed field off the front of b.
func readLengthPrefixed(b []byte) (field, rest []byte, err error) {
	if len(b) < 1 {
		return nil, nil, errors.New("missing length")
	}
	n := int(b[0])
	if len(b)-1 < n {
		return nil, nil, fmt.Errorf("length %d exceeds the %d bytes left", n, len(b)-1)
	}
	return b[1 : 1+n], b[1+n:], nil
}

// validateClaims holds the rules shared by Sign and Verify, so that whatever
// verifies can be signed again and whatever is signed verifies.
func validateClaims(c Claims) error {
	if c.TicketID == (ID{}) {
		return fmt.Errorf("%w: zero ticket id", ErrInvalidClaims)
	}
	if !validField(c.Performance, maxPerformanceLen, isSlugByte) {
		return fmt.Errorf("%w: performance %q must be 1–%d bytes of a-z, 0-9 and '-'",
			ErrInvalidClaims, c.Performance, maxPerformanceLen)
	}
	if !validField(c.Seat, maxSeatLen, isSeatByte) {
		return fmt.Errorf("%w: seat %q must be 1–%d bytes of A-Z and 0-9",
			ErrInvalidClaims, c.Seat, maxSeatLen)
	}
	if s := c.IssuedAt.Unix(); s < minIssuedAt || s > maxIssuedAt {
		return fmt.Errorf("%w: issue time %d is outside %d..%d",
			ErrInvalidClaims, s, minIssuedAt, maxIssuedAt)
	}
	return nil
}

func validField(s string, maxLen int, ok func(byte) bool) bool {
	if len(s) == 0 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isSlugByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
}

func isSeatByte(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

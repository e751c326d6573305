package tickets

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ErrInvalidKey is returned by ParseRing, NewRing and GenerateKey for a key or key
// ring that cannot be used. Messages name the entry by position and never include
// seed material.
var ErrInvalidKey = errors.New("tickets: invalid ticket key")

const maxKeyIDLen = 16

// Key is one named Ed25519 signing key. The ID travels in every token it signs, so
// gates can pick the right public key while keys rotate.
//
// Key's String, GoString and LogValue methods redact the private key, so printing
// or logging a Key by accident does not leak it.
type Key struct {
	// ID is 1–16 characters of a–z and 0–9.
	ID string
	// Private is the full 64-byte Ed25519 private key (seed followed by public key).
	Private ed25519.PrivateKey
}

// GenerateKey returns a new key with a random seed from crypto/rand.
func GenerateKey(id string) (Key, error) {
	if err := checkKeyID(id); err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return Key{}, fmt.Errorf("tickets: generate key: %w", err)
	}
	return Key{ID: id, Private: priv}, nil
}

// Spec returns the key as "id:hexseed", one entry of FESTA_TICKET_KEYS; it is what
// `festa keygen` prints and what ParseRing reads back. It panics if k.Private is
// not a 64-byte private key, as the crypto/ed25519 functions do.
func (k Key) Spec() string {
	return k.ID + ":" + hex.EncodeToString(k.Private.Seed())
}

// String names the key without revealing it.
func (k Key) String() string {
	return "tickets.Key{ID: " + k.ID + ", Private: [redacted]}"
}

// GoString keeps %#v from printing the private key bytes.
func (k Key) GoString() string { return k.String() }

// LogValue keeps slog handlers, the JSON one included, from logging the private key.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Ring holds the ticket keys: the first one signs, all of them verify. Keep the
// retiring key after the new one until every ticket it signed is past its
// performance. A Ring is immutable and safe for concurrent use.
type Ring struct {
	signer Key
	ids    []string
	public map[string]ed25519.PublicKey
}

// ParseRing reads the FESTA_TICKET_KEYS format: comma-separated "id:hexseed"
// entries, where the seed is 32 bytes (64 hexadecimal characters) and the first
// entry signs. Whitespace around entries and around their parts is ignored.
func ParseRing(spec string) (*Ring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("%w: no keys given", ErrInvalidKey)
	}
	entries := strings.Split(spec, ",")
	keys := make([]Key, 0, len(entries))
	for i, entry := range entries {
		k, err := parseKeySpec(entry)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidKey, i+1, err)
		}
		keys = append(keys, k)
	}
	return NewRing(keys...)
}

// parseKeySpec parses one "id:hexseed" entry. Its errors quote neither the seed nor
// a malformed id, since a malformed id may well be a misplaced seed.
func parseKeySpec(entry string) (Key, error) {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return Key{}, errors.New("empty entry")
	}
	id, seedHex, ok := strings.Cut(entry, ":")
	if !ok {
		return Key{}, errors.New(`want "id:hexseed"`)
	}
	id, seedHex = strings.TrimSpace(id), strings.TrimSpace(seedHex)
	if err := checkKeyID(id); err != nil {
		return Key{}, err
	}
	if len(seedHex) != 2*ed25519.SeedSize {
		return Key{}, fmt.Errorf("key %q: seed is %d characters, want %d hexadecimal characters (%d bytes)",
			id, len(seedHex), 2*ed25519.SeedSize, ed25519.SeedSize)
	}
	seed, err := hex.DecodeString(seedHex)
	if err != nil {
		// The hex error quotes the offending character; leave it out.
		return Key{}, fmt.Errorf("key %q: seed is not hexadecimal", id)
	}
	return Key{ID: id, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// NewRing builds a ring from keys; keys[0] signs. It copies the keys, so later
// changes to the arguments do not affect the ring. Errors name keys by their
// 1-based position, matching ParseRing's entries.
func NewRing(keys ...Key) (*Ring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys given", ErrInvalidKey)
	}
	r := &Ring{
		ids:    make([]string, 0, len(keys)),
		public: make(map[string]ed25519.PublicKey, len(keys)),
	}
	for i, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidKey, i+1, err)
		}
		if len(k.Private) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: entry %d: key %q: private key is %d bytes, want %d",
				ErrInvalidKey, i+1, k.ID, len(k.Private), ed25519.PrivateKeySize)
		}
		// Rebuilding from the seed both copies the key and catches a private key
		// whose public half does not match, which would sign unverifiable tokens.
		priv := ed25519.NewKeyFromSeed(k.Private.Seed())
		if !priv.Equal(k.Private) {
			return nil, fmt.Errorf("%w: entry %d: key %q: public half does not match the seed",
				ErrInvalidKey, i+1, k.ID)
		}
		if _, dup := r.public[k.ID]; dup {
			return nil, fmt.Errorf("%w: entry %d: duplicate key id %q", ErrInvalidKey, i+1, k.ID)
		}
		if i == 0 {
			r.signer = Key{ID: k.ID, Private: priv}
		}
		r.ids = append(r.ids, k.ID)
		r.public[k.ID] = priv.Public().(ed25519.PublicKey)
	}
	return r, nil
}

// PublicKeys returns every verifying key by id, for gates that verify offline. The
// map is a fresh copy the caller may keep or change.
func (r *Ring) PublicKeys() map[string]ed25519.PublicKey {
	out := make(map[string]ed25519.PublicKey, len(r.public))
	for id, pub := range r.public {
		out[id] = append(ed25519.PublicKey(nil), pub...)
	}
	return out
}

// String lists the key ids, signer first, and never the keys themselves.
func (r *Ring) String() string {
	return "tickets.Ring{" + strings.Join(r.ids, ",") + "}"
}

// GoString keeps %#v from printing the private key bytes.
func (r *Ring) GoString() string { return r.String() }

// LogValue keeps slog handlers from descending into the ring.
func (r *Ring) LogValue() slog.Value { return slog.StringValue(r.String()) }

func checkKeyID(id string) error {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return fmt.Errorf("key id must be 1–%d characters, got %d", maxKeyIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Errorf("key id may hold only a-z and 0-9 (character %d is not)", i+1)
		}
	}
	return nil
}

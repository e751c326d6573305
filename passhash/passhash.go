// Package passhash stores access codes and staff passwords as slow,
// salted argon2id hashes in the PHC string format, and compares them in
// constant time. The cost parameters travel inside each hash, so hashes made
// with cheaper test parameters still verify under production settings.
package passhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows OWASP's minimum for argon2id (19 MiB, 2 passes): about
// 25 ms of one core here (BenchmarkVerifyDefault), so one core checks about
// 40 sign-ins a second, and an offline guesser with a stolen hash guesses
// at about that rate per core. The sign-in gate in handlers bounds how
// many checks run at once, and with them the memory (19 MiB each).
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Code is the cost for access codes (2 MiB, 1 pass): about 1.3 ms of one
// core here, so 3,000 students signing in during the opening minute cost
// about 4 s of CPU, not a minute (at Default). It is safe because a code
// is not a password a person chose: it is 10 characters drawn at random
// from 31 (roster.CodeAlphabet), about 2^49.5 possibilities. Guessing one
// from a leaked hash means about 2^48.5 argon2id evaluations of 2 MiB
// each: decades of a GPU per code, long after the festival, and any code
// can be re-issued at once (the old one stops working). Staff passwords
// are chosen by people and keep Default.
var Code = Params{Memory: 2 * 1024, Time: 1, Threads: 1}

// Fast is for tests and load tools only: cheap hashes of throwaway codes.
var Fast = Params{Memory: 64, Time: 1, Threads: 1}

// ErrMalformed means a stored hash could not be parsed.
var ErrMalformed = errors.New("passhash: malformed hash")

const saltLen, keyLen = 16, 32

var b64 = base64.RawStdEncoding

// Hash returns the PHC string for secret under p.
func Hash(secret string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether secret matches the stored hash.
func Verify(hash, secret string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, ErrMalformed
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

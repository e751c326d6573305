package roster

import (
	"crypto/rand"
	"strings"
)

// CodeAlphabet is the access codes' alphabet, the demo's: it leaves out
// look-alikes (0/O, 1/I/L) so a code survives being read off paper.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLen is a code's length: 31^10 ≈ 8.2e14 codes.
const CodeLen = 10

// NewCode returns a fresh random code as printed, XXXXX-XXXXX. Each
// character is uniform over CodeAlphabet (bytes at or above the largest
// multiple of 31 are drawn again, so no character is likelier).
func NewCode() string {
	const limit = 256 - 256%len(CodeAlphabet)
	var out strings.Builder
	buf := make([]byte, 32)
	for out.Len() < CodeLen+1 {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			if out.Len() == 5 {
				out.WriteByte('-')
			}
			out.WriteByte(CodeAlphabet[int(b)%len(CodeAlphabet)])
			if out.Len() == CodeLen+1 {
				break
			}
		}
	}
	return out.String()
}

// CodeSecret is what is hashed for a printed code: the code without its
// dash, as sign-in reads what a student types.
func CodeSecret(code string) string {
	return strings.ReplaceAll(code, "-", "")
}

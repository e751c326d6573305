package booking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Holders turns student ids into opaque holder tags. The live seat map
// sends the same bytes to every viewer, so a seat cannot say "yours" to
// one viewer only; it carries its holder's tag instead, and each page,
// knowing its own student's tag, shows matching seats as "mine". The tag is
// a keyed hash: it reveals no student number and cannot be guessed.
type Holders struct {
	key []byte
}

// NewHolders uses key (shared by every app instance, kept in the database).
func NewHolders(key []byte) Holders { return Holders{key: key} }

// Tag returns the holder tag of a student, or "" for no student.
func (h Holders) Tag(studentID int64) string {
	if studentID == 0 {
		return ""
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("holder:" + strconv.FormatInt(studentID, 10)))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

package seatview

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
//
// The hash covers the performance as well as the student, so the public
// seat maps of two performances share no tag: nobody can follow one
// student's seats from one performance to the next (within a performance
// the tag is stable, which the page needs to recognise its own seats).
type Holders struct {
	key []byte
}

// NewHolders uses key (shared by every app instance, kept in the database).
func NewHolders(key []byte) Holders { return Holders{key: key} }

// Tag returns the holder tag of a student on the seat map of a
// performance, or "" for no student.
func (h Holders) Tag(performanceID, studentID int64) string {
	if studentID == 0 {
		return ""
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("holder:" + strconv.FormatInt(performanceID, 10) + ":" + strconv.FormatInt(studentID, 10)))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

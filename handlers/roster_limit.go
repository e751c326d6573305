package handlers

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// A roster post larger than maxUpload is refused by the roster page itself
// ("larger than 2 MB, nothing was changed"), in the console, to the
// signed-in council, like any other refused file, instead of with the
// generic 413 page that the body limit gives every other path.
//
// Its body is never buffered: refuseLargeRoster streams through it, keeps
// only the CSRF field (so the post still passes the same CSRF check and
// council gate as any other) and the file's name, and throws the rest away
// as it arrives. Reading it out, up to maxRosterDrain, is what lets a
// browser that is still sending read the answer instead of a reset
// connection.

// maxRosterDrain is the most of an oversized roster post that is read
// (and thrown away); past it the answer is sent and the connection closed.
const maxRosterDrain = 32 << 20

// oversizedRosterKey marks, in the echo.Context, a roster post that
// refuseLargeRoster refused; its value is an oversizedRoster.
const oversizedRosterKey = "festa_roster_oversized"

type oversizedRoster struct {
	fileName string
}

// refuseLargeRoster replaces the body of a council's roster post whose
// declared length is over maxUpload by its CSRF field alone, and marks the
// request so importRoster answers with the roster's too-large refusal. A
// post from anyone else, or of unknown length (chunked, which browsers do
// not send for forms), is left to the body limit that follows and its
// generic refusal.
func (h *Handler) refuseLargeRoster(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.URL.Path != rosterUploadPath || r.Method != http.MethodPost || r.ContentLength <= maxUpload {
			return next(c)
		}
		// Only the council's posts are read through; anyone else's is
		// refused unread by the body limit that follows.
		if s, ok := h.staff(c); !ok || s.Role != "council" {
			return next(c)
		}
		token, name := drainRosterPost(r)
		form := url.Values{}
		if token != "" {
			form.Set(csrfField, token)
		}
		body := form.Encode()
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		c.Set(oversizedRosterKey, oversizedRoster{fileName: name})
		return next(c)
	}
}

// drainRosterPost reads a multipart roster post through, up to
// maxRosterDrain, holding on to nothing but its CSRF token and the name of
// its file.
func drainRosterPost(r *http.Request) (token, fileName string) {
	body := io.LimitReader(r.Body, maxRosterDrain)
	// Whatever the parts leave (a broken or non-multipart body) is read
	// out too.
	defer io.Copy(io.Discard, body)
	_, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || params["boundary"] == "" {
		return "", ""
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return token, fileName
		}
		switch {
		case part.FileName() != "" && fileName == "":
			fileName = part.FileName()
		case part.FormName() == csrfField && token == "":
			b, _ := io.ReadAll(io.LimitReader(part, 64))
			token = string(b)
		}
		part.Close() // reads the rest of the part out
	}
}

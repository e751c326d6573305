package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"festa/components"
	"festa/db"
	"festa/i18n"
	"festa/passhash"
	"festa/roster"
)

// The console's roster (routes.go puts it behind the council role):
// /admin/students shows the homerooms, imports a school's student list and
// issues access codes.
//
// An import is two posts to the same address. The first carries the file
// (`file`) and answers a preview: what applying would add, update, leave
// and disable, counted inside a transaction that is rolled back, and every
// bad line. The preview's apply button posts the same bytes back (`data`,
// base64, with their SHA-256 and the encoding that was used), and only that
// second post (or a first one with `apply=1`, for scripts) writes. Posting
// the bytes back keeps the server stateless, so the preview and the apply
// may reach different instances behind the proxy; the file is parsed and
// checked again in full on apply, so nothing the browser sends can skip a
// check. A file with any bad line is never applied.
//
// Codes are shown once, on the page that answers the post that made them,
// and stored only as argon2id hashes; a lost slip means re-issuing.

// rosterUploadPath is the one path whose body may exceed maxBody.
const rosterUploadPath = "/admin/students/import"

// maxUpload caps a roster post, in bytes: the 2 MB file, base64 on the
// way back (4/3 of it) and the form around it. A larger one is refused by
// refuseLargeRoster (roster_limit.go).
const maxUpload = 3 << 20

func (h *Handler) showStudents(c echo.Context) error {
	return h.renderStudents(c, "", "")
}

func (h *Handler) renderStudents(c echo.Context, notice, refusal string) error {
	classes, err := h.store.RosterClasses(c.Request().Context())
	if err != nil {
		return err
	}
	v := components.StudentsView{CSRF: csrfToken(c), Notice: notice, Error: refusal}
	for _, cl := range classes {
		v.Classes = append(v.Classes, components.StudentsClass(cl))
		v.Total += cl.Students
		v.NoCode += cl.WithoutCode
	}
	status := http.StatusOK
	if refusal != "" {
		status = http.StatusUnprocessableEntity
	}
	return h.render(c, status, components.StudentsPage(h.page(c, tr(c, "roster.title")), v))
}

// importRoster previews a roster file, or applies it (see above).
func (h *Handler) importRoster(c echo.Context) error {
	if big, ok := c.Get(oversizedRosterKey).(oversizedRoster); ok {
		return h.renderPreview(c, components.RosterPreviewView{FileName: big.fileName, Refusal: tr(c, "roster.refused.too_large")})
	}
	raw, name, err := rosterUpload(c)
	if err != nil {
		return h.renderPreview(c, components.RosterPreviewView{Refusal: tr(c, "roster.refused.no_file")})
	}
	sum := sha256.Sum256(raw)
	v := components.RosterPreviewView{
		FileName:       name,
		DisableMissing: c.FormValue("disable_missing") == "1",
		SHA256:         hex.EncodeToString(sum[:]),
		CSRF:           csrfToken(c),
	}
	if want := c.FormValue("sha256"); want != "" && want != v.SHA256 {
		v.Refusal = tr(c, "roster.refused.changed")
		return h.renderPreview(c, v)
	}
	res, err := roster.Parse(bytes.NewReader(raw), roster.ParseEncoding(c.FormValue("encoding")))
	switch {
	case errors.Is(err, roster.ErrTooLarge):
		v.Refusal = tr(c, "roster.refused.too_large")
	case errors.Is(err, roster.ErrHeader):
		v.Refusal = tr(c, "roster.refused.header")
	case errors.Is(err, roster.ErrEmpty):
		v.Refusal = tr(c, "roster.refused.empty")
	case err != nil:
		return err
	}
	if v.Refusal != "" {
		return h.renderPreview(c, v)
	}
	v.Encoding, v.Lines = string(res.Encoding), len(res.Students)
	for _, e := range res.Errors {
		v.Problems = append(v.Problems, components.RosterProblem{Line: e.Line, No: e.No,
			Reason: tr(c, reasonKey(e.Reason), "first", e.FirstLine)})
	}
	rows := make([]db.RosterRow, len(res.Students))
	for i, s := range res.Students {
		rows[i] = db.RosterRow{No: s.No, Name: s.Name}
	}
	apply := c.FormValue("apply") == "1" && res.OK()
	counts, err := h.store.ImportRoster(c.Request().Context(), rows, v.DisableMissing, apply, h.consoleActor(c))
	if err != nil {
		return err
	}
	if apply {
		h.log.Info("roster imported", "new", counts.New, "updated", counts.Updated, "disabled", counts.Disabled)
		return h.renderStudents(c, tr(c, "roster.imported", "new", counts.New, "updated", counts.Updated,
			"unchanged", counts.Unchanged, "disabled", counts.Disabled), "")
	}
	v.New, v.Updated, v.Unchanged, v.Disabled = counts.New, counts.Updated, counts.Unchanged, counts.Disabled
	v.Data = base64.StdEncoding.EncodeToString(raw)
	return h.renderPreview(c, v)
}

// reasonKey is the catalogue id of a bad line's reason.
func reasonKey(r roster.Reason) string { return "roster.reason." + string(r) }

// rosterUpload returns the posted file: the multipart `file`, or the
// preview's `data` posted back.
func rosterUpload(c echo.Context) ([]byte, string, error) {
	if data := c.FormValue("data"); data != "" {
		raw, err := base64.StdEncoding.DecodeString(data)
		return raw, "", err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", err
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	// One byte more than the cap, so Parse can tell a file that is too large.
	raw, err := io.ReadAll(io.LimitReader(f, roster.MaxBytes+1))
	return raw, fh.Filename, err
}

func (h *Handler) renderPreview(c echo.Context, v components.RosterPreviewView) error {
	v.CSRF = csrfToken(c)
	status := http.StatusOK
	if v.Refusal != "" || len(v.Problems) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return h.render(c, status, components.RosterPreviewPage(h.page(c, tr(c, "roster.preview.title")), v))
}

// issueCodes makes codes for every enabled student without one, or for
// everyone of one homeroom (`class`, e.g. 203: their old codes stop
// working), and shows the slips.
func (h *Handler) issueCodes(c echo.Context) error {
	ctx := c.Request().Context()
	class := c.FormValue("class")
	if class != "" && (len(class) != 3 || strings.Trim(class, "0123456789") != "") {
		return h.renderStudents(c, "", tr(c, "roster.refused.class"))
	}
	holders, err := h.store.StudentsForCodes(ctx, class)
	if err != nil {
		return err
	}
	if len(holders) == 0 {
		return h.renderStudents(c, "", tr(c, "roster.refused.nobody"))
	}
	scope := class
	if scope == "" {
		scope = "missing"
	}
	return h.printCodes(c, holders, scope)
}

// reissueCode gives one student a new code; the old one stops working.
func (h *Handler) reissueCode(c echo.Context) error {
	st, err := h.store.StudentByNo(c.Request().Context(), strings.TrimSpace(c.FormValue("student_no")))
	if errors.Is(err, db.ErrNotFound) {
		return h.renderStudents(c, "", tr(c, "roster.refused.no_student"))
	}
	if err != nil {
		return err
	}
	return h.printCodes(c, []db.CodeHolder{st}, "student:"+st.No)
}

// printCodes stores fresh codes for holders and renders the slips, in
// Korean whatever the console's language (they go to homerooms).
func (h *Handler) printCodes(c echo.Context, holders []db.CodeHolder, scope string) error {
	ctx := c.Request().Context()
	codes := make([]string, len(holders))
	hashes, err := hashCodes(holders, codes)
	if err != nil {
		return err
	}
	if err := h.store.SetStudentCodes(ctx, hashes, scope, h.consoleActor(c)); err != nil {
		return err
	}
	h.log.Info("access codes issued", "count", len(holders), "scope", scope)
	ev, err := h.store.FirstEvent(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	// Without a configured public URL (development) the slips name the
	// address the council reached the console at.
	site := h.cfg.BaseURL
	if site == "" {
		site = c.Scheme() + "://" + c.Request().Host
	}
	v := components.CodeSlipsView{EventName: ev.Name, SiteURL: site, Count: len(holders)}
	for i, st := range holders {
		grade, class := int(st.No[0]-'0'), int(st.No[1]-'0')*10+int(st.No[2]-'0')
		if n := len(v.Classes); n == 0 || v.Classes[n-1].Grade != grade || v.Classes[n-1].Class != class {
			v.Classes = append(v.Classes, components.SlipClass{Grade: grade, Class: class})
		}
		last := &v.Classes[len(v.Classes)-1]
		last.Slips = append(last.Slips, components.CodeSlip{No: st.No, Name: st.Name, Code: codes[i]})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(r.Context(), h.messages.Localizer("ko"))))
	p := h.page(c, tr(c, "roster.slips.title"))
	return h.render(c, http.StatusOK, components.CodeSlipsPage(p, v))
}

// hashCodes fills codes with fresh codes for holders and returns their
// hashes. argon2id is slow on purpose (about 25 ms a code), so the work is
// spread over every core: a school of 1,200 takes seconds, not half a
// minute.
func hashCodes(holders []db.CodeHolder, codes []string) ([]db.NewCode, error) {
	out := make([]db.NewCode, len(holders))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				codes[i] = roster.NewCode()
				hash, err := passhash.Hash(roster.CodeSecret(codes[i]), passhash.Code)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					continue
				}
				out[i] = db.NewCode{StudentID: holders[i].ID, CodeHash: hash}
			}
		})
	}
	for i := range holders {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, firstErr
}

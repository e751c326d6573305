// Package static embeds festa's browser files (vendored htmx and its
// WebSocket extension, the built Tailwind CSS, festa.js, the offline
// tickets' service worker, the icons and the Pretendard web font) and
// serves them under content-hashed names, so browsers may cache every file
// for a year and a deploy is picked up by the next page.
//
// The files are produced by `npm run vendor` and `npm run build:css` and
// committed; building the Go binary needs no Node. static/src holds the
// CSS input and the icons' drawing (static/src/icons/render.go, which
// writes static/icons) and is not embedded.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// files is the embedded tree. It is the package's only package-level
// variable: go:embed needs one, and it is never written.
//
//go:embed css js vendor fonts icons
var files embed.FS

// Prefix is the URL path every asset is served under.
const Prefix = "/static/"

// hashLen is how many hex digits of the SHA-256 go into a name: 40 bits,
// ample to tell apart the versions of one file.
const hashLen = 10

// Assets maps the embedded files' logical names ("css/app.css") to
// content-hashed ones ("css/app.3f2a1b9c0d.css") and serves the latter.
// It is immutable after New and safe for concurrent use.
type Assets struct {
	hashed map[string]string // logical name → hashed name
	served map[string]*asset // hashed name → content
}

// asset is one servable file, with its gzip form when that is smaller.
type asset struct {
	body        []byte
	gzipped     []byte // nil when compression does not pay (fonts)
	contentType string
	etag        string
}

// New reads every embedded file and names it by its content. CSS files go
// last: their url(...) references to other embedded files are rewritten to
// the hashed names first, so a CSS file's hash covers the fonts it points
// at and the fonts resolve under their immutable names.
func New() (*Assets, error) {
	a := &Assets{hashed: map[string]string{}, served: map[string]*asset{}}

	var names []string
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: walk: %w", err)
	}
	// Non-CSS files first, then CSS, each group in name order; the order
	// only matters in that CSS must see the other files' hashed names.
	slices.SortFunc(names, func(x, y string) int {
		if cx, cy := isCSS(x), isCSS(y); cx != cy {
			if cy {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})

	cssURL := regexp.MustCompile(`url\(\s*(['"]?)([^'")]+)(['"]?)\s*\)`)
	for _, name := range names {
		body, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("static: read %s: %w", name, err)
		}
		if isCSS(name) {
			body = a.rewriteCSS(cssURL, name, body)
		}
		if err := a.add(name, body); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// add registers one file under its hashed name.
func (a *Assets) add(name string, body []byte) error {
	h := hash(body)
	hashedName := hashedName(name, h)
	as := &asset{body: body, contentType: contentType(name), etag: `"` + h + `"`}
	if compressible(as.contentType) {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return fmt.Errorf("static: gzip %s: %w", name, err)
		}
		if _, err := zw.Write(body); err != nil {
			return fmt.Errorf("static: gzip %s: %w", name, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("static: gzip %s: %w", name, err)
		}
		if buf.Len() < len(body) {
			as.gzipped = buf.Bytes()
		}
	}
	a.hashed[name] = hashedName
	a.served[hashedName] = as
	return nil
}

// rewriteCSS replaces relative url(...) references to embedded files with
// their hashed names, keeping them relative so the CSS works under any
// prefix. cssURL matches url(...) with or without quotes; its group 2 is
// the reference. References it cannot resolve (absolute, data:, other
// hosts, files not embedded, other CSS files) are left as they are.
func (a *Assets) rewriteCSS(cssURL *regexp.Regexp, name string, body []byte) []byte {
	dir := path.Dir(name)
	return cssURL.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := cssURL.FindSubmatch(m)
		quote, ref := string(sub[1]), string(sub[2])
		if quote != string(sub[3]) || strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
			return m
		}
		// Keep a query or fragment (font hacks like ?#iefix) as written.
		target, suffix := ref, ""
		if i := strings.IndexAny(ref, "?#"); i >= 0 {
			target, suffix = ref[:i], ref[i:]
		}
		hashedName, ok := a.hashed[path.Join(dir, target)]
		if !ok {
			return m
		}
		newRef := path.Join(path.Dir(target), path.Base(hashedName))
		if strings.HasPrefix(target, "./") {
			newRef = "./" + newRef
		}
		return []byte("url(" + quote + newRef + suffix + quote + ")")
	})
}

// URL returns the path at which the embedded file name is served, for
// example "css/app.css" → "/static/css/app.3f2a1b9c0d.css". An unknown
// name is a programming error, so it panics; a test rendering every page
// catches it before a deploy does.
func (a *Assets) URL(name string) string {
	h, ok := a.hashed[name]
	if !ok {
		panic("static: no embedded file " + name)
	}
	return Prefix + h
}

// File returns the embedded file name as it is, for the few files that
// must live at a fixed address rather than under a hashed name: the service
// worker at /sw.js (its address is its identity, and its scope follows
// from it) and /favicon.ico (which browsers ask for by that name).
// ContentType gives its Content-Type.
func File(name string) ([]byte, error) {
	return files.ReadFile(name)
}

// ContentType is the Content-Type festa serves the file name with.
func ContentType(name string) string { return contentType(name) }

// Handler serves the hashed names under Prefix (mount it there, without
// stripping the prefix). The names change with the content, so responses
// are cacheable forever. A logical (unhashed) or unknown name is a 404:
// serving it would let a browser cache a name whose content can change.
//
// CSS and JavaScript are sent gzip-compressed (best compression, done once
// in New) to clients that accept it; do not put another compression
// middleware in front of this handler.
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		as := a.served[name]
		if !ok || as == nil {
			http.NotFound(w, r)
			return
		}

		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Type", as.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		body, etag := as.body, as.etag
		if as.gzipped != nil {
			h.Add("Vary", "Accept-Encoding")
			if acceptsGzip(r) {
				h.Set("Content-Encoding", "gzip")
				body = as.gzipped
				etag = etag[:len(etag)-1] + `-gz"`
				// ServeContent leaves Content-Length out once
				// Content-Encoding is set; a whole gzip body has a known
				// length, and without it nginx serves its cached copy
				// chunked, about a quarter slower (docs/BENCHMARKS.md).
				if r.Header.Get("Range") == "" {
					h.Set("Content-Length", strconv.Itoa(len(body)))
				}
			}
		}
		h.Set("ETag", etag)
		// ServeContent answers If-None-Match with 304, HEAD and ranges.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}

// hash is the content part of a hashed name: the first hashLen hex digits
// of the SHA-256 of body.
func hash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])[:hashLen]
}

// hashedName puts h before the last extension: "fonts/a.b.woff2" with h
// "0123456789" → "fonts/a.b.0123456789.woff2".
func hashedName(name, h string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + h + ext
}

func isCSS(name string) bool { return path.Ext(name) == ".css" }

// contentType fixes the Content-Type of the kinds of file festa ships
// rather than trusting the host's mime tables, which differ between
// machines (.js and .woff2 above all).
func contentType(name string) string {
	switch ext := path.Ext(name); ext {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".json", ".map":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
		return "application/octet-stream"
	}
}

// compressible says whether gzip is worth trying; fonts and images are
// compressed already. WebAssembly is not: the gate's barcode reader
// shrinks from 1.1 MB to 0.46 MB.
func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") ||
		strings.HasPrefix(contentType, "application/json") ||
		strings.HasPrefix(contentType, "application/wasm") ||
		strings.HasPrefix(contentType, "image/svg+xml")
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip:
// listed with a non-zero q, or not listed while "*" is.
func acceptsGzip(r *http.Request) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					q = f
				}
			}
			switch coding = strings.ToLower(strings.TrimSpace(coding)); coding {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

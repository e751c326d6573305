package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"festa/db"
	"festa/static"
)

// The files at fixed addresses that make festa an installable web app with
// tickets that open offline. The service worker itself is
// static/js/sw.js; static/js/pwa.js registers it.

// serveServiceWorker answers /sw.js from the embedded file. Its address is
// its identity (a worker is replaced when the bytes at its address change),
// so it is never served under a hashed name, and browsers must check it
// for a new version rather than trust a copy.
func (h *Handler) serveServiceWorker(c echo.Context) error {
	return serveFixed(c, "js/sw.js", "no-cache")
}

// serveFavicon answers /favicon.ico, which browsers and bookmark tools ask
// for by that name whatever the page links.
func (h *Handler) serveFavicon(c echo.Context) error {
	return serveFixed(c, "icons/favicon.ico", "public, max-age=86400")
}

func serveFixed(c echo.Context, name, cacheControl string) error {
	body, err := static.File(name)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", cacheControl)
	return c.Blob(http.StatusOK, static.ContentType(name), body)
}

// webManifest is the web app manifest, in the fields browsers read.
type webManifest struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	ShortName       string         `json:"short_name"`
	Description     string         `json:"description"`
	Lang            string         `json:"lang"`
	StartURL        string         `json:"start_url"`
	Scope           string         `json:"scope"`
	Display         string         `json:"display"`
	BackgroundColor string         `json:"background_color"`
	ThemeColor      string         `json:"theme_color"`
	Icons           []manifestIcon `json:"icons"`
}

type manifestIcon struct {
	Src     string `json:"src"`
	Sizes   string `json:"sizes"`
	Type    string `json:"type"`
	Purpose string `json:"purpose,omitempty"`
}

// serveManifest answers /manifest.webmanifest. Installed, festa opens on
// the student's tickets, the page that must work at the gate. The name is
// the festival's; the text follows the browser's language (a manifest is
// fetched without cookies, so the language cookie does not reach it).
func (h *Handler) serveManifest(c echo.Context) error {
	name := "festa"
	ev, err := h.store.FirstEvent(c.Request().Context())
	switch {
	case err == nil:
		name = ev.Name + " · festa"
	case !errors.Is(err, db.ErrNotFound):
		return err
	}
	icon := func(file, sizes, typ, purpose string) manifestIcon {
		return manifestIcon{Src: h.assets.URL(file), Sizes: sizes, Type: typ, Purpose: purpose}
	}
	m := webManifest{
		ID: "/", Name: name, ShortName: "festa", Description: tr(c, "layout.description"),
		Lang: localizer(c).Lang(), StartURL: "/tickets", Scope: "/", Display: "standalone",
		BackgroundColor: "#0d1117", ThemeColor: "#0d1117",
		Icons: []manifestIcon{
			icon("icons/icon-192.png", "192x192", "image/png", "any"),
			icon("icons/icon-512.png", "512x512", "image/png", "any"),
			icon("icons/icon-maskable-192.png", "192x192", "image/png", "maskable"),
			icon("icons/icon-maskable-512.png", "512x512", "image/png", "maskable"),
			icon("icons/favicon.svg", "any", "image/svg+xml", "any"),
		},
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	// Chromium fetches the manifest with every page load: five minutes in
	// the browser's cache keep that off the server at the opening minute.
	// The icons' hashed names change with a deploy, so not much longer.
	c.Response().Header().Set("Cache-Control", "private, max-age=300")
	return c.Blob(http.StatusOK, "application/manifest+json", body)
}

// clearSiteData tells the browser, at a student's sign-out, to drop what
// it kept for this site: the HTTP cache and the storage, which holds the
// offline tickets and their service worker. Cookies are left alone (the
// language choice stays); the session cookie is already void. Browsers
// that do not know the header are covered by pwa.js, which empties the
// ticket cache on the next page that shows nobody signed in.
func clearSiteData(c echo.Context) {
	c.Response().Header().Set("Clear-Site-Data", `"cache", "storage"`)
}

// clearHTTPCache is the staff sign-out's share of clearSiteData: the HTTP
// cache only. A gate phone keeps in its storage the scans it made offline
// and has not sent yet; they must survive a change of staff, so the
// storage is not cleared (gate.js drops the ticket list itself).
func clearHTTPCache(c echo.Context) {
	c.Response().Header().Set("Clear-Site-Data", `"cache"`)
}

// Package e2e holds festa's browser tests: a real chromium (headless)
// against the real server on a real database. Set FESTA_SCREENSHOTS=DIR to
// also save the screenshots the README and docs show.
package e2e

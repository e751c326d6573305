package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored by `npm run vendor:axe` from the version
// package.json pins. It lives in testdata and is compiled only into this
// test helper package: festa never serves it.
//
//go:embed testdata/axe.min.js
var axeSource string

// AxeViolation is one axe-core rule that failed on the page, with the
// elements it failed on.
type AxeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"` // minor, moderate, serious or critical
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []AxeNode `json:"nodes"`
}

// AxeNode is one element a rule failed on. Target is axe's selector path:
// CSS selectors, nested in arrays for shadow roots and frames.
type AxeNode struct {
	Target         []json.RawMessage `json:"target"`
	HTML           string            `json:"html"`
	FailureSummary string            `json:"failureSummary"`
}

// Selector is the node's target as one readable string.
func (n AxeNode) Selector() string {
	parts := make([]string, 0, len(n.Target))
	for _, raw := range n.Target {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
		} else {
			parts = append(parts, string(raw))
		}
	}
	return strings.Join(parts, " >>> ")
}

// String names the rule, its impact, how many elements fail and the first
// few of them, for a test failure message.
func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %d nodes): %s", v.ID, v.Impact, len(v.Nodes), v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-i)
			break
		}
		fmt.Fprintf(&b, "\n    %s", n.Selector())
		if n.FailureSummary != "" {
			fmt.Fprintf(&b, "\n      %s", strings.ReplaceAll(n.FailureSummary, "\n", "\n      "))
		}
	}
	return b.String()
}

// axeRun runs axe on the whole document and keeps only the violations
// that block people (serious and critical); minor and moderate findings
// are for a person to weigh, not for a test to fail on.
const axeRun = `(async () => {
	const r = await axe.run(document, {resultTypes: ["violations"]});
	return r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary}))}));
})()`

// Axe injects axe-core into the current page of ctx (once per document)
// and returns its serious and critical violations. The page should be
// settled first: axe sees the DOM as it is at the call.
func Axe(t testing.TB, ctx context.Context) []AxeViolation {
	t.Helper()
	var loaded bool
	Run(t, ctx, chromedp.Evaluate(`typeof window.axe === "object"`, &loaded))
	if !loaded {
		Run(t, ctx, chromedp.Evaluate(axeSource+"\n;true", nil))
	}
	var out []AxeViolation
	Run(t, ctx, chromedp.Evaluate(axeRun, &out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	return out
}

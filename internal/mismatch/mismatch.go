// Package mismatch formats the "nothing loaded" errors of strict weight
// loading (model.LoadWeights, weights.Import): a header, then every
// non-empty titled list, sorted, so a user sees all problems at once.
package mismatch

import (
	"fmt"
	"slices"
	"strings"
)

// Section is one titled list of problems (e.g. "missing" tensors).
type Section struct {
	Title string
	Items []string
}

// Format is header followed by each non-empty section as
// "\n  N title:\n    item" lines, items sorted.
func Format(header string, sections ...Section) string {
	var b strings.Builder
	b.WriteString(header)
	for _, s := range sections {
		if len(s.Items) == 0 {
			continue
		}
		items := slices.Clone(s.Items)
		slices.Sort(items)
		fmt.Fprintf(&b, "\n  %d %s:", len(items), s.Title)
		for _, it := range items {
			b.WriteString("\n    " + it)
		}
	}
	return b.String()
}

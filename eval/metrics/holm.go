package metrics

import (
	"math"
	"sort"
)

// Holm returns Holm-Bonferroni step-down adjusted p-values (as
// statsmodels' multipletests(method="holm")): with the m p-values sorted
// ascending, p_(j) is adjusted to max over k <= j of min(1, (m-k+1) p_(k)).
// Reject hypothesis i at level alpha when adjusted[i] <= alpha; this
// controls the family-wise error rate. NaN p-values (tests that could not be
// run) are left out of the family and stay NaN. Ties keep input order.
func Holm(p []float64) []float64 {
	adj := make([]float64, len(p))
	var idx []int
	for i, v := range p {
		adj[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m := len(idx)
	run := 0.0
	for k, i := range idx {
		v := math.Min(1, float64(m-k)*p[i])
		run = math.Max(run, v)
		adj[i] = run
	}
	return adj
}

// HolmReject reports, for each p-value, whether Holm's procedure rejects it
// at level alpha (false for NaN).
func HolmReject(p []float64, alpha float64) []bool {
	out := make([]bool, len(p))
	for i, a := range Holm(p) {
		out[i] = a <= alpha
	}
	return out
}

package metrics

import (
	"math"
	"sort"

	"github.com/cpllm/cpllm/internal/corr"
)

// The correlations training needs live in internal/corr (train may not
// import eval); these names keep them part of this package's API.
var (
	ErrLength    = corr.ErrLength
	ErrTooFew    = corr.ErrTooFew
	ErrNonFinite = corr.ErrNonFinite
)

// MinSamples is the smallest vector length accepted by the metrics.
const MinSamples = corr.MinSamples

// MetricFunc computes one statistic of predictions against MOS.
type MetricFunc func(pred, mos []float64) (float64, error)

// PLCC is the Pearson linear correlation (no mapping).
func PLCC(pred, mos []float64) (float64, error) { return corr.PLCC(pred, mos) }

// SRCC is Spearman's rank correlation with average ranks for ties.
func SRCC(pred, mos []float64) (float64, error) { return corr.SRCC(pred, mos) }

// Rank returns 1-based ranks with ties given their average rank
// (scipy.stats.rankdata method="average").
func Rank(v []float64) []float64 { return corr.Rank(v) }

func checkFinite(name string, v []float64) error { return corr.CheckFinite(name, v) }
func validatePair(pred, mos []float64) error     { return corr.ValidatePair(pred, mos) }
func validateN(min int, names []string, vs ...[]float64) error {
	return corr.Validate(min, names, vs...)
}
func isConstant(v []float64) bool    { return corr.IsConstant(v) }
func mean(v []float64) float64       { return corr.Mean(v) }
func pearson(x, y []float64) float64 { return corr.Pearson(x, y) }

// KRCC is Kendall's tau-b (scipy.stats.kendalltau default).
func KRCC(pred, mos []float64) (float64, error) {
	if err := validatePair(pred, mos); err != nil {
		return math.NaN(), err
	}
	return kendallTauB(pred, mos), nil
}

// kendallTauB uses Knight's O(n log n) algorithm with scipy's tie terms.
func kendallTauB(x, y []float64) float64 {
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if x[i] != x[j] {
			return x[i] < x[j]
		}
		return y[i] < y[j]
	})
	tot := int64(n) * int64(n-1) / 2
	var xtie, ntie int64
	for i := 0; i < n; {
		j, k := i+1, i+1
		for j < n && x[idx[j]] == x[idx[i]] {
			j++
		}
		xtie += pairs(j - i)
		// joint ties inside the x group (already sorted by y)
		for s := i; s < j; s = k {
			k = s + 1
			for k < j && y[idx[k]] == y[idx[s]] {
				k++
			}
			ntie += pairs(k - s)
		}
		i = j
	}
	ys := make([]float64, n)
	for i, id := range idx {
		ys[i] = y[id]
	}
	dis := countInversions(ys, make([]float64, n))
	var ytie int64
	for i := 0; i < n; { // ys is sorted now
		j := i + 1
		for j < n && ys[j] == ys[i] {
			j++
		}
		ytie += pairs(j - i)
		i = j
	}
	if xtie == tot || ytie == tot {
		return math.NaN()
	}
	cmd := float64(tot - xtie - ytie + ntie - 2*dis)
	tau := cmd / math.Sqrt(float64(tot-xtie)) / math.Sqrt(float64(tot-ytie))
	return math.Max(-1, math.Min(1, tau))
}

func pairs(t int) int64 { return int64(t) * int64(t-1) / 2 }

// countInversions merge-sorts v in place and returns the number of pairs
// i<j with v[i] > v[j] (strict, so ties are not counted).
func countInversions(v, buf []float64) int64 {
	if len(v) < 2 {
		return 0
	}
	m := len(v) / 2
	inv := countInversions(v[:m], buf[:m]) + countInversions(v[m:], buf[m:])
	i, j, k := 0, m, 0
	for i < m && j < len(v) {
		if v[j] < v[i] {
			buf[k] = v[j]
			inv += int64(m - i)
			j++
		} else {
			buf[k] = v[i]
			i++
		}
		k++
	}
	k += copy(buf[k:], v[i:m])
	copy(buf[k:], v[j:])
	copy(v, buf[:len(v)])
	return inv
}

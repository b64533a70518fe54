package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Sentinel errors, wrapped with details by the validators.
var (
	ErrLength    = errors.New("metrics: length mismatch")
	ErrTooFew    = errors.New("metrics: too few samples")
	ErrNonFinite = errors.New("metrics: non-finite value")
)

// MinSamples is the smallest vector length accepted by the metrics.
const MinSamples = 3

// MetricFunc computes one statistic of predictions against MOS.
type MetricFunc func(pred, mos []float64) (float64, error)

func checkFinite(name string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNonFinite, name, i, x)
		}
	}
	return nil
}

// validatePair checks lengths, size and finiteness of a pred/MOS pair.
func validatePair(pred, mos []float64) error {
	return validateN(MinSamples, []string{"pred", "mos"}, pred, mos)
}

func validateN(min int, names []string, vs ...[]float64) error {
	n := len(vs[0])
	for i, v := range vs {
		if len(v) != n {
			return fmt.Errorf("%w: len(%s)=%d, len(%s)=%d",
				ErrLength, names[0], n, names[i], len(v))
		}
	}
	if n < min {
		return fmt.Errorf("%w: n=%d, need at least %d", ErrTooFew, n, min)
	}
	for i, v := range vs {
		if err := checkFinite(names[i], v); err != nil {
			return err
		}
	}
	return nil
}

func isConstant(v []float64) bool {
	for _, x := range v[1:] {
		if x != v[0] {
			return false
		}
	}
	return true
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// pearson mirrors scipy.stats.pearsonr: NaN for constant input, clipped to
// [-1, 1]. Inputs are assumed validated.
func pearson(x, y []float64) float64 {
	if isConstant(x) || isConstant(y) {
		return math.NaN()
	}
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	r := sxy / (math.Sqrt(sxx) * math.Sqrt(syy))
	return math.Max(-1, math.Min(1, r))
}

// Rank returns 1-based ranks with ties given their average rank
// (scipy.stats.rankdata method="average").
func Rank(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// PLCC is the Pearson linear correlation (no mapping).
func PLCC(pred, mos []float64) (float64, error) {
	if err := validatePair(pred, mos); err != nil {
		return math.NaN(), err
	}
	return pearson(pred, mos), nil
}

// SRCC is Spearman's rank correlation with average ranks for ties.
func SRCC(pred, mos []float64) (float64, error) {
	if err := validatePair(pred, mos); err != nil {
		return math.NaN(), err
	}
	return pearson(Rank(pred), Rank(mos)), nil
}

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

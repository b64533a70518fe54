// Package corr holds the correlations that both training (validation SRCC
// and PLCC) and evaluation (eval/metrics, which re-exports them) compute,
// with eval/metrics' conventions: scipy 1.10.1 semantics, NaN for a
// constant input, errors for short, unequal or non-finite inputs. It sits
// in the bottom layer so that train needs nothing from eval.
package corr

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

// MinSamples is the smallest vector length accepted by the correlations.
const MinSamples = 3

// CheckFinite fails on the first NaN or Inf of v, naming it name[i].
func CheckFinite(name string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNonFinite, name, i, x)
		}
	}
	return nil
}

// Validate checks that vs have one length of at least min and are finite;
// names name them in errors.
func Validate(min int, names []string, vs ...[]float64) error {
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
		if err := CheckFinite(names[i], v); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePair checks a pred/MOS pair.
func ValidatePair(pred, mos []float64) error {
	return Validate(MinSamples, []string{"pred", "mos"}, pred, mos)
}

// IsConstant reports whether every value of v equals the first.
func IsConstant(v []float64) bool {
	for _, x := range v[1:] {
		if x != v[0] {
			return false
		}
	}
	return true
}

// Mean is the arithmetic mean, summed in order.
func Mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Pearson mirrors scipy.stats.pearsonr: NaN for constant input, clipped to
// [-1, 1]. Inputs are assumed validated.
func Pearson(x, y []float64) float64 {
	if IsConstant(x) || IsConstant(y) {
		return math.NaN()
	}
	mx, my := Mean(x), Mean(y)
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
	if err := ValidatePair(pred, mos); err != nil {
		return math.NaN(), err
	}
	return Pearson(pred, mos), nil
}

// SRCC is Spearman's rank correlation with average ranks for ties.
func SRCC(pred, mos []float64) (float64, error) {
	if err := ValidatePair(pred, mos); err != nil {
		return math.NaN(), err
	}
	return Pearson(Rank(pred), Rank(mos)), nil
}

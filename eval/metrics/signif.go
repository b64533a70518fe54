package metrics

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// TTestResult is a two-sided paired t-test (scipy.stats.ttest_rel) of
// a - b with Cohen's d_z = mean(d)/std(d, ddof=1) as effect size.
type TTestResult struct {
	T      float64 `json:"t"`
	DF     float64 `json:"df"`
	P      float64 `json:"p"`
	CohenD float64 `json:"cohen_d"`
}

// MarshalJSON writes NaN/Inf as null.
func (r TTestResult) MarshalJSON() ([]byte, error) { return marshalNaNNull(r) }

// UnmarshalJSON reads null as NaN.
func (r *TTestResult) UnmarshalJSON(b []byte) error {
	type plain TTestResult
	return unmarshalNullNaN(b, (*plain)(r))
}

// PairedTTest compares per-seed metrics a and b (n >= 2). As in scipy,
// identical non-zero differences give t = ±Inf, p = 0, and all-zero
// differences give NaN.
func PairedTTest(a, b []float64) (TTestResult, error) {
	if err := validateN(2, []string{"a", "b"}, a, b); err != nil {
		return TTestResult{}, err
	}
	n := float64(len(a))
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	m := mean(d)
	v := 0.0
	for _, x := range d {
		v += (x - m) * (x - m)
	}
	sd := math.Sqrt(v / (n - 1))
	r := TTestResult{T: m / (sd / math.Sqrt(n)), DF: n - 1, CohenD: m / sd}
	r.P = math.NaN()
	if !math.IsNaN(r.T) {
		r.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: r.DF}.Survival(math.Abs(r.T))
	}
	return r, nil
}

// WilcoxonResult is a two-sided Wilcoxon signed-rank test as
// scipy.stats.wilcoxon 1.10.1 defaults (zero_method="wilcox",
// correction=False, method="auto").
type WilcoxonResult struct {
	Statistic float64 `json:"statistic"` // min(R+, R-)
	P         float64 `json:"p"`
	Z         float64 `json:"z"`      // NaN for the exact test
	Method    string  `json:"method"` // "exact" or "approx"
	N         int     `json:"n"`      // non-zero differences used
	// RankBiserial is the matched-pairs rank-biserial correlation
	// (R+ - R-)/(R+ + R-), positive when a tends to exceed b.
	RankBiserial float64 `json:"r_rb"`
}

// MarshalJSON writes NaN/Inf as null.
func (r WilcoxonResult) MarshalJSON() ([]byte, error) { return marshalNaNNull(r) }

// UnmarshalJSON reads null as NaN.
func (r *WilcoxonResult) UnmarshalJSON(b []byte) error {
	type plain WilcoxonResult
	return unmarshalNullNaN(b, (*plain)(r))
}

// Wilcoxon runs the signed-rank test on a - b. Like scipy 1.10.1 "auto":
// n <= 50 without zero differences uses the exact null distribution — even
// with tied |d|, where scipy truncates R+ to an integer, reproduced here —
// otherwise zeros are dropped and the normal approximation with tie
// correction (no continuity correction) is used. All-zero differences are
// an error, as in scipy.
func Wilcoxon(a, b []float64) (WilcoxonResult, error) {
	if err := validateN(2, []string{"a", "b"}, a, b); err != nil {
		return WilcoxonResult{}, err
	}
	d := make([]float64, 0, len(a))
	zeros := 0
	for i := range a {
		if x := a[i] - b[i]; x != 0 {
			d = append(d, x)
		} else {
			zeros++
		}
	}
	if len(d) == 0 {
		return WilcoxonResult{}, fmt.Errorf("metrics: wilcoxon: all differences are zero")
	}
	exact := len(a) <= 50 && zeros == 0
	abs := make([]float64, len(d))
	for i, x := range d {
		abs[i] = math.Abs(x)
	}
	r := Rank(abs)
	var rp, rm float64
	for i, x := range d {
		if x > 0 {
			rp += r[i]
		} else {
			rm += r[i]
		}
	}
	cnt := float64(len(d))
	res := WilcoxonResult{Statistic: math.Min(rp, rm), N: len(d), Z: math.NaN(),
		RankBiserial: (rp - rm) / (rp + rm)}
	if exact {
		res.Method = "exact"
		res.P = wilcoxonExactP(len(d), int(rp))
		return res, nil
	}
	res.Method = "approx"
	mn := cnt * (cnt + 1) * 0.25
	se := cnt * (cnt + 1) * (2*cnt + 1)
	for _, t := range tieSizes(abs) {
		se -= 0.5 * t * (t*t - 1)
	}
	se = math.Sqrt(se / 24)
	res.Z = (res.Statistic - mn) / se
	res.P = 2 * distuv.UnitNormal.Survival(math.Abs(res.Z))
	return res, nil
}

// tieSizes returns the sizes (>1) of groups of equal values.
func tieSizes(v []float64) []float64 {
	s := append([]float64(nil), v...)
	slices.Sort(s)
	var out []float64
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, float64(j-i))
		}
		i = j
	}
	return out
}

// wilcoxonExactP is the two-sided exact p-value for R+ = rp out of n
// ranks, built with scipy's recurrence over the pmf of R+.
func wilcoxonExactP(n, rp int) float64 {
	c := []float64{1}
	for k := 1; k <= n; k++ {
		next := make([]float64, k*(k+1)/2+1)
		m := len(c)
		for i, v := range c {
			next[i] = v * 0.5
		}
		for i, v := range c {
			next[len(next)-m+i] += v * 0.5
		}
		c = next
	}
	if rp == (len(c)-1)/2 {
		return 1
	}
	var less, greater float64
	for i, v := range c {
		if i <= rp {
			less += v
		}
		if i >= rp {
			greater += v
		}
	}
	return math.Max(0, math.Min(1, 2*math.Min(less, greater)))
}

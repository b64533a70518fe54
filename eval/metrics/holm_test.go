package metrics

import (
	"math"
	"testing"
)

// Reference values computed by hand with the definition (statsmodels is not
// installed): sort ascending, multiply the k-th smallest (1-based) by
// m-k+1, cap at 1, take the running maximum.
func TestHolm(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		p, want []float64
		reject  []bool // at 0.05
	}{
		// sorted 0.005 0.01 0.03 0.04 -> x4 x3 x2 x1 = 0.02 0.03 0.06 0.04 -> running max 0.02 0.03 0.06 0.06
		{[]float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}, []bool{true, false, false, true}},
		// capped at 1: 0.5 x2 = 1, 0.6 x1 = 0.6 -> max 1
		{[]float64{0.6, 0.5}, []float64{1, 1}, []bool{false, false}},
		// ties: 0.001 x3 = 0.003, 0.02 x2 = 0.04, 0.02 x1 = 0.02 -> running max 0.003 0.04 0.04
		{[]float64{0.02, 0.02, 0.001}, []float64{0.04, 0.04, 0.003}, []bool{true, true, true}},
		// 0.03 x2 = 0.06 > alpha although 0.03 alone would pass; the larger one inherits it
		{[]float64{0.03, 0.035}, []float64{0.06, 0.06}, []bool{false, false}},
		// NaN leaves the family (m = 2): 0.01 x2 = 0.02, 0.04 x1 = 0.04
		{[]float64{0.04, nan, 0.01}, []float64{0.04, nan, 0.02}, []bool{true, false, true}},
		{[]float64{0.049}, []float64{0.049}, []bool{true}},
		{nil, []float64{}, []bool{}},
	}
	for _, c := range cases {
		got := Holm(c.p)
		rej := HolmReject(c.p, 0.05)
		if len(got) != len(c.want) {
			t.Fatalf("Holm(%v) = %v", c.p, got)
		}
		for i := range got {
			if !(math.IsNaN(c.want[i]) && math.IsNaN(got[i])) && math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Fatalf("Holm(%v) = %v, want %v", c.p, got, c.want)
			}
			if rej[i] != c.reject[i] {
				t.Fatalf("HolmReject(%v) = %v, want %v", c.p, rej, c.reject)
			}
		}
	}
}

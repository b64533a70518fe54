package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Proportion is a success rate with its 95% Wilson score interval.
type Proportion struct {
	K      int     `json:"correct"`
	N      int     `json:"n"`
	Value  float64 `json:"value"` // K/N; NaN when N = 0
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
}

// MarshalJSON writes NaN/Inf as null.
func (p Proportion) MarshalJSON() ([]byte, error) { return marshalNaNNull(p) }

// UnmarshalJSON reads null as NaN.
func (p *Proportion) UnmarshalJSON(b []byte) error {
	type plain Proportion
	return unmarshalNullNaN(b, (*plain)(p))
}

// Wilson returns k successes out of n with the 95% Wilson score interval
// (z = the 0.975 normal quantile):
//
//	(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n),  p = k/n.
//
// It treats the n trials as independent. n = 0 gives NaN value and bounds.
func Wilson(k, n int) (Proportion, error) {
	if n < 0 || k < 0 || k > n {
		return Proportion{}, fmt.Errorf("metrics: wilson: %d successes out of %d", k, n)
	}
	out := Proportion{K: k, N: n, Value: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	if n == 0 {
		return out, nil
	}
	z := distuv.UnitNormal.Quantile(0.975)
	nf := float64(n)
	p := float64(k) / nf
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	out.Value = p
	out.CILow, out.CIHigh = math.Max(0, mid-half), math.Min(1, mid+half)
	if k == 0 { // exact roots, not 0 plus rounding
		out.CILow = 0
	}
	if k == n {
		out.CIHigh = 1
	}
	return out, nil
}

package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// CorrTest is a test of H0: corr(A,MOS) == corr(B,MOS).
type CorrTest struct {
	Stat float64 `json:"stat"` // Williams' t or Steiger's z
	DF   float64 `json:"df"`   // n-3 for Williams; NaN for the z test
	P    float64 `json:"p"`    // two-sided
}

// MarshalJSON writes NaN/Inf as null.
func (r CorrTest) MarshalJSON() ([]byte, error) { return marshalNaNNull(r) }

// UnmarshalJSON reads null as NaN.
func (r *CorrTest) UnmarshalJSON(b []byte) error {
	type plain CorrTest
	return unmarshalNullNaN(b, (*plain)(r))
}

func checkR(n int, rs ...float64) error {
	if n <= 3 {
		return fmt.Errorf("%w: dependent-correlation tests need n > 3, got %d", ErrTooFew, n)
	}
	for _, r := range rs {
		if r < -1 || r > 1 || math.IsInf(r, 0) {
			return fmt.Errorf("metrics: correlation %v outside [-1, 1]", r)
		}
	}
	return nil
}

// WilliamsT is Williams' (1959) t for two dependent correlations sharing
// one variable (r12 = r(A,MOS), r13 = r(B,MOS), r23 = r(A,B)), df = n-3,
// as psych::paired.r and cocor's williams1959. NaN inputs (undefined
// correlations) give NaN results without error.
func WilliamsT(r12, r13, r23 float64, n int) (CorrTest, error) {
	if err := checkR(n, r12, r13, r23); err != nil {
		return CorrTest{}, err
	}
	nf := float64(n)
	det := 1 - r12*r12 - r13*r13 - r23*r23 + 2*r12*r13*r23
	rbar := (r12 + r13) / 2
	cube := (1 - r23) * (1 - r23) * (1 - r23)
	t := (r12 - r13) * math.Sqrt((nf-1)*(1+r23)/(2*(nf-1)/(nf-3)*det+rbar*rbar*cube))
	res := CorrTest{Stat: t, DF: nf - 3, P: math.NaN()}
	if !math.IsNaN(t) {
		res.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: res.DF}.Survival(math.Abs(t))
	}
	return res, nil
}

// SteigerZ is Steiger's (1980) Z1* for the same hypothesis: Fisher-z
// difference with the pooled-r covariance, as cocor's steiger1980.
func SteigerZ(r12, r13, r23 float64, n int) (CorrTest, error) {
	if err := checkR(n, r12, r13, r23); err != nil {
		return CorrTest{}, err
	}
	rbar := (r12 + r13) / 2
	r2 := rbar * rbar
	psi := r23*(1-2*r2) - 0.5*r2*(1-2*r2-r23*r23)
	c := psi / ((1 - r2) * (1 - r2))
	z := (math.Atanh(r12) - math.Atanh(r13)) * math.Sqrt(float64(n)-3) / math.Sqrt(2-2*c)
	res := CorrTest{Stat: z, DF: math.NaN(), P: math.NaN()}
	if !math.IsNaN(z) {
		res.P = 2 * distuv.UnitNormal.Survival(math.Abs(z))
	}
	return res, nil
}

// DependentCorr compares two models' correlations with MOS on one test set.
type DependentCorr struct {
	R12      float64  `json:"r12"` // corr(A, MOS)
	R13      float64  `json:"r13"` // corr(B, MOS)
	R23      float64  `json:"r23"` // corr(A, B)
	Williams CorrTest `json:"williams"`
	Steiger  CorrTest `json:"steiger"`
}

// MarshalJSON writes NaN/Inf as null.
func (r DependentCorr) MarshalJSON() ([]byte, error) { return marshalNaNNull(r) }

// UnmarshalJSON reads null as NaN.
func (r *DependentCorr) UnmarshalJSON(b []byte) error {
	type plain DependentCorr
	return unmarshalNullNaN(b, (*plain)(r))
}

// CompareDependent computes r12, r13, r23 with corr (PLCC for the classic
// tests; SRCC applies them to ranks) and runs both tests.
func CompareDependent(predA, predB, mos []float64, corr MetricFunc) (DependentCorr, error) {
	if err := validateN(MinSamples, []string{"predA", "predB", "mos"}, predA, predB, mos); err != nil {
		return DependentCorr{}, err
	}
	var res DependentCorr
	var err error
	if res.R12, err = corr(predA, mos); err != nil {
		return res, err
	}
	if res.R13, err = corr(predB, mos); err != nil {
		return res, err
	}
	if res.R23, err = corr(predA, predB); err != nil {
		return res, err
	}
	if res.Williams, err = WilliamsT(res.R12, res.R13, res.R23, len(mos)); err != nil {
		return res, err
	}
	res.Steiger, err = SteigerZ(res.R12, res.R13, res.R23, len(mos))
	return res, err
}

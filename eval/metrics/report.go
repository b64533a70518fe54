package metrics

import (
	"fmt"
	"math"
)

// Options configures Compute.
type Options struct {
	// Resamples is the bootstrap count: 0 means DefaultResamples and a
	// negative value skips the bootstrap (CI bounds NaN).
	Resamples int
	// Seed selects the resamples; record it to reproduce a report.
	Seed uint64
}

// Report holds every metric with its bootstrap CI. Non-finite numbers
// (undefined metrics, skipped bootstrap) are written to JSON as null.
type Report struct {
	N       int `json:"n"`
	SRCC    CI  `json:"srcc"`
	KRCC    CI  `json:"krcc"`
	PLCC    CI  `json:"plcc"`
	PLCC4PL CI  `json:"plcc_4pl"`
	RMSE4PL CI  `json:"rmse_4pl"`
	PLCC5PL CI  `json:"plcc_5pl"`
	RMSE5PL CI  `json:"rmse_5pl"`
	// Bootstrap settings actually used (Resamples 0 = no bootstrap).
	Seed      uint64 `json:"seed"`
	Resamples int    `json:"resamples"`
}

// allMetrics evaluates the seven metrics in Report order on validated
// input, fitting each logistic once for both its PLCC and RMSE.
func allMetrics(pred, mos []float64) []float64 {
	f4 := fitLogistic(Logistic4, curve4, pred, mos, nil)
	p4, r4 := scores(f4, mos)
	p5, r5 := scores(fitLogistic(Logistic5, curve5, pred, mos, &f4), mos)
	return []float64{
		pearson(Rank(pred), Rank(mos)),
		kendallTauB(pred, mos),
		pearson(pred, mos),
		p4, r4, p5, r5,
	}
}

// Compute returns all metrics of pred against mos with percentile
// bootstrap CIs. All metrics share the same resamples, and each metric's
// interval equals Bootstrap(pred, mos, <metric>, opts.Resamples, opts.Seed).
func Compute(pred, mos []float64, opts Options) (Report, error) {
	if err := validatePair(pred, mos); err != nil {
		return Report{}, err
	}
	vals := allMetrics(pred, mos)
	rep := Report{N: len(pred), Seed: opts.Seed}
	fields := []*CI{&rep.SRCC, &rep.KRCC, &rep.PLCC, &rep.PLCC4PL, &rep.RMSE4PL, &rep.PLCC5PL, &rep.RMSE5PL}
	for i, f := range fields {
		*f = nanCI(vals[i])
	}
	if opts.Resamples < 0 {
		return rep, nil
	}
	r, _ := resolveResamples(opts.Resamples)
	reps, err := bootstrapMulti([][]float64{pred, mos}, len(fields), r, opts.Seed,
		func(c [][]float64) ([]float64, error) { return allMetrics(c[0], c[1]), nil })
	if err != nil {
		return Report{}, err
	}
	rep.Resamples = r
	for i, f := range fields {
		f.CILow, f.CIHigh = percentileCI(reps[i])
	}
	return rep, nil
}

// Summary aggregates one metric over seeds.
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"` // sample std (ddof=1); NaN for a single seed
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// MarshalJSON writes NaN/Inf as null.
func (s Summary) MarshalJSON() ([]byte, error) { return marshalNaNNull(s) }

// UnmarshalJSON reads null as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error {
	type plain Summary
	return unmarshalNullNaN(b, (*plain)(s))
}

// Aggregate summarises per-seed values; NaN/Inf are rejected because a
// silently shorter sample would misstate the spread.
func Aggregate(v []float64) (Summary, error) {
	if len(v) == 0 {
		return Summary{}, fmt.Errorf("%w: aggregate of no values", ErrTooFew)
	}
	if err := checkFinite("values", v); err != nil {
		return Summary{}, err
	}
	s := Summary{N: len(v), Mean: mean(v), Std: math.NaN()}
	s.Min, s.Max = minMax(v)
	if len(v) > 1 {
		ss := 0.0
		for _, x := range v {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(len(v)-1))
	}
	return s, nil
}

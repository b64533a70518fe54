package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// DefaultResamples is used when a resample count of 0 is requested.
const DefaultResamples = 1000

// CI is a point estimate with a 95% percentile-bootstrap interval. Bounds
// are NaN when no bootstrap was run or every resample was undefined.
type CI struct {
	Value  float64 `json:"value"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
}

// MarshalJSON writes NaN/Inf as null.
func (c CI) MarshalJSON() ([]byte, error) { return marshalNaNNull(c) }

// UnmarshalJSON reads null as NaN.
func (c *CI) UnmarshalJSON(b []byte) error {
	type plain CI
	return unmarshalNullNaN(b, (*plain)(c))
}

func nanCI(v float64) CI { return CI{Value: v, CILow: math.NaN(), CIHigh: math.NaN()} }

// resampleRNG gives resample b its own PCG stream (seed, b), so the
// indices do not depend on worker scheduling and every metric evaluated
// with the same seed sees the same resamples.
func resampleRNG(seed uint64, b int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(b)))
}

// bootstrapMulti evaluates fn on `resamples` paired resamples of the
// given columns (all of equal length) and returns, per output k, the
// replicate values. fn must return the same number of outputs each call.
func bootstrapMulti(cols [][]float64, k, resamples int, seed uint64,
	fn func(cols [][]float64) ([]float64, error)) ([][]float64, error) {
	n := len(cols[0])
	out := make([][]float64, k)
	for i := range out {
		out[i] = make([]float64, resamples)
	}
	workers := min(runtime.GOMAXPROCS(0), resamples)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := make([][]float64, len(cols))
			for j := range rs {
				rs[j] = make([]float64, n)
			}
			for b := range next {
				r := resampleRNG(seed, b)
				for i := 0; i < n; i++ {
					idx := r.IntN(n)
					for j, c := range cols {
						rs[j][i] = c[idx]
					}
				}
				vals, err := fn(rs)
				if err == nil && len(vals) != k {
					err = fmt.Errorf("metrics: bootstrap fn returned %d values, want %d", len(vals), k)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("metrics: bootstrap resample %d: %w", b, err)
					}
					mu.Unlock()
					continue
				}
				for i, v := range vals {
					out[i][b] = v
				}
			}
		}()
	}
	for b := 0; b < resamples; b++ {
		next <- b
	}
	close(next)
	wg.Wait()
	return out, firstErr
}

// percentileCI returns the 2.5th/97.5th percentiles (numpy "linear"
// interpolation) of the finite replicates. Undefined replicates (NaN, e.g.
// a resample whose MOS is constant) are dropped rather than poisoning the
// interval.
func percentileCI(reps []float64) (lo, hi float64) {
	s := make([]float64, 0, len(reps))
	for _, v := range reps {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(s)
	return quantile(s, 0.025), quantile(s, 0.975)
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

func resolveResamples(r int) (int, error) {
	switch {
	case r == 0:
		return DefaultResamples, nil
	case r < 0:
		return 0, fmt.Errorf("metrics: resamples must be >= 0, got %d", r)
	}
	return r, nil
}

// Bootstrap returns fn(pred, mos) with a 95% percentile CI from resamples
// paired resamples (0 means DefaultResamples). Resample b draws its
// indices from PCG(seed, b), so results are reproducible from the seed.
// fn is called from several goroutines and must not keep its arguments;
// an error from any call is returned.
func Bootstrap(pred, mos []float64, fn MetricFunc, resamples int, seed uint64) (CI, error) {
	v, err := fn(pred, mos)
	if err != nil {
		return CI{}, err
	}
	if resamples, err = resolveResamples(resamples); err != nil {
		return CI{}, err
	}
	reps, err := bootstrapMulti([][]float64{pred, mos}, 1, resamples, seed,
		func(c [][]float64) ([]float64, error) {
			x, err := fn(c[0], c[1])
			return []float64{x}, err
		})
	if err != nil {
		return CI{}, err
	}
	lo, hi := percentileCI(reps[0])
	return CI{Value: v, CILow: lo, CIHigh: hi}, nil
}

// Delta is a paired-bootstrap comparison of one metric between two
// models on the same test set: Value = fn(A) - fn(B).
type Delta struct {
	Value  float64 `json:"value"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// P is the two-sided bootstrap p-value
	// min(1, 2*min(#{d_b <= 0}, #{d_b >= 0}) / #finite d_b).
	P float64 `json:"p"`
}

// MarshalJSON writes NaN/Inf as null.
func (d Delta) MarshalJSON() ([]byte, error) { return marshalNaNNull(d) }

// UnmarshalJSON reads null as NaN.
func (d *Delta) UnmarshalJSON(b []byte) error {
	type plain Delta
	return unmarshalNullNaN(b, (*plain)(d))
}

// PairedBootstrap resamples test items jointly for both models (e.g.
// fn = SRCC gives the dSRCC test). Resamples are drawn as in Bootstrap.
func PairedBootstrap(predA, predB, mos []float64, fn MetricFunc, resamples int, seed uint64) (Delta, error) {
	if err := validateN(MinSamples, []string{"predA", "predB", "mos"}, predA, predB, mos); err != nil {
		return Delta{}, err
	}
	a, err := fn(predA, mos)
	if err != nil {
		return Delta{}, err
	}
	b, err := fn(predB, mos)
	if err != nil {
		return Delta{}, err
	}
	if resamples, err = resolveResamples(resamples); err != nil {
		return Delta{}, err
	}
	reps, err := bootstrapMulti([][]float64{predA, predB, mos}, 1, resamples, seed,
		func(c [][]float64) ([]float64, error) {
			x, err := fn(c[0], c[2])
			if err != nil {
				return nil, err
			}
			y, err := fn(c[1], c[2])
			return []float64{x - y}, err
		})
	if err != nil {
		return Delta{}, err
	}
	d := Delta{Value: a - b}
	d.CILow, d.CIHigh = percentileCI(reps[0])
	d.P = bootstrapP(reps[0])
	return d, nil
}

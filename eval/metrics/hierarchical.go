package metrics

import (
	"fmt"
	"math"
)

// HierarchicalBootstrap compares two models trained with several seeds and
// scored on the same videos (a crossed design: every seed scores every
// video). predA[s] and predB[s] are seed s's predictions, aligned with mos;
// seed s of A is paired with seed s of B.
//
// The statistic is the difference of the mean over seeds of the per-seed
// metric: mean_s fn(predA[s], mos) - mean_s fn(predB[s], mos). Resample b
// draws, from PCG(seed, b), n video indices with replacement (shared by all
// seeds and both models) and then S seed indices with replacement (shared by
// both models), so the interval reflects both the test-set sampling and the
// seed-to-seed variation of training. CI and P are as in PairedBootstrap:
// the 95% percentile interval and min(1, 2*min(#{d_b <= 0}, #{d_b >= 0}) /
// #finite d_b); resamples with an undefined metric (NaN) are left out.
func HierarchicalBootstrap(predA, predB [][]float64, mos []float64, fn MetricFunc, resamples int, seed uint64) (Delta, error) {
	s := len(predA)
	if s == 0 || len(predB) != s {
		return Delta{}, fmt.Errorf("%w: hierarchical bootstrap needs the same number (>= 1) of seeds for both models, got %d and %d", ErrLength, s, len(predB))
	}
	for i := range s {
		if err := validateN(MinSamples, []string{fmt.Sprintf("predA[seed %d]", i), fmt.Sprintf("predB[seed %d]", i), "mos"}, predA[i], predB[i], mos); err != nil {
			return Delta{}, err
		}
	}
	var err error
	if resamples, err = resolveResamples(resamples); err != nil {
		return Delta{}, err
	}
	n := len(mos)
	pa, ma := make([]float64, n), make([]float64, n)
	// seedMean is the mean over the listed seeds of fn on the listed videos.
	seedMean := func(pred [][]float64, seeds, videos []int) (float64, error) {
		for i, v := range videos {
			ma[i] = mos[v]
		}
		sum := 0.0
		for _, k := range seeds {
			for i, v := range videos {
				pa[i] = pred[k][v]
			}
			m, err := fn(pa, ma)
			if err != nil {
				return 0, err
			}
			sum += m
		}
		return sum / float64(len(seeds)), nil
	}
	all, identity := make([]int, s), make([]int, n)
	for i := range all {
		all[i] = i
	}
	for i := range identity {
		identity[i] = i
	}
	a, err := seedMean(predA, all, identity)
	if err != nil {
		return Delta{}, err
	}
	b, err := seedMean(predB, all, identity)
	if err != nil {
		return Delta{}, err
	}
	reps := make([]float64, resamples)
	videos, seeds := make([]int, n), make([]int, s)
	for r := range resamples {
		rng := resampleRNG(seed, r)
		for i := range videos {
			videos[i] = rng.IntN(n)
		}
		for i := range seeds {
			seeds[i] = rng.IntN(s)
		}
		x, err := seedMean(predA, seeds, videos)
		if err != nil {
			return Delta{}, fmt.Errorf("metrics: hierarchical bootstrap resample %d: %w", r, err)
		}
		y, err := seedMean(predB, seeds, videos)
		if err != nil {
			return Delta{}, fmt.Errorf("metrics: hierarchical bootstrap resample %d: %w", r, err)
		}
		reps[r] = x - y
	}
	d := Delta{Value: a - b}
	d.CILow, d.CIHigh = percentileCI(reps)
	d.P = bootstrapP(reps)
	return d, nil
}

// bootstrapP is the two-sided bootstrap p-value of replicates of a
// difference: min(1, 2*min(#{d <= 0}, #{d >= 0}) / #finite d); NaN when no
// replicate is finite.
func bootstrapP(reps []float64) float64 {
	var le, ge, ok int
	for _, v := range reps {
		if math.IsNaN(v) {
			continue
		}
		ok++
		if v <= 0 {
			le++
		}
		if v >= 0 {
			ge++
		}
	}
	if ok == 0 {
		return math.NaN()
	}
	return math.Min(1, 2*float64(min(le, ge))/float64(ok))
}

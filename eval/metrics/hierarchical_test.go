package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// crossed draws S seeds x n videos of two models: pred = mu + a shared video
// effect + a per-model video effect (sdVideo, only in A) + a per-model seed
// effect (sdSeed) + small noise. The true difference of the mean
// prediction is muA - muB.
func crossed(r *rand.Rand, s, n int, muA, muB, sdVideo, sdSeed float64) (a, b [][]float64, mos []float64) {
	mos = make([]float64, n)
	shared, own := make([]float64, n), make([]float64, n)
	for i := range n {
		mos[i] = 1 + 4*r.Float64()
		shared[i], own[i] = r.NormFloat64(), sdVideo*r.NormFloat64()
	}
	for range s {
		ea, eb := sdSeed*r.NormFloat64(), sdSeed*r.NormFloat64()
		pa, pb := make([]float64, n), make([]float64, n)
		for i := range n {
			pa[i] = muA + shared[i] + own[i] + ea + 0.05*r.NormFloat64()
			pb[i] = muB + shared[i] + eb + 0.05*r.NormFloat64()
		}
		a, b = append(a, pa), append(b, pb)
	}
	return a, b, mos
}

func meanPred(pred, _ []float64) (float64, error) { return mean(pred), nil }

// Same inputs and seed, same result; another seed moves the interval; the
// point estimate is the difference of the per-seed means.
func TestHierarchicalBootstrapDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b, mos := crossed(r, 5, 30, 0.2, 0, 0.5, 0.2)
	d1, err := HierarchicalBootstrap(a, b, mos, SRCC, 300, 7)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := HierarchicalBootstrap(a, b, mos, SRCC, 300, 7)
	d3, _ := HierarchicalBootstrap(a, b, mos, SRCC, 300, 8)
	if d1 != d2 {
		t.Fatalf("same seed: %+v vs %+v", d1, d2)
	}
	if d1.CILow == d3.CILow && d1.CIHigh == d3.CIHigh {
		t.Fatalf("seeds 7 and 8 gave the same interval %+v", d1)
	}
	want := 0.0
	for s := range a {
		x, _ := SRCC(a[s], mos)
		y, _ := SRCC(b[s], mos)
		want += (x - y) / float64(len(a))
	}
	if math.Abs(d1.Value-want) > 1e-15 || !(d1.CILow <= d1.Value && d1.Value <= d1.CIHigh) || !(d1.P >= 0 && d1.P <= 1) {
		t.Fatalf("delta %+v, want value %v", d1, want)
	}
	if _, err := HierarchicalBootstrap(a, b[:4], mos, SRCC, 10, 1); err == nil {
		t.Fatal("5 seeds against 4: want an error")
	}
}

// With one seed there is nothing to resample but the videos: the result is
// exactly the paired bootstrap over videos (the same index draws).
func TestHierarchicalBootstrapOneSeedIsPaired(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b, mos := crossed(r, 1, 40, 0.1, 0, 0.8, 0)
	h, err := HierarchicalBootstrap(a, b, mos, SRCC, 500, 11)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PairedBootstrap(a[0], b[0], mos, SRCC, 500, 11)
	if err != nil {
		t.Fatal(err)
	}
	if h != p {
		t.Fatalf("one seed: hierarchical %+v, paired %+v", h, p)
	}
}

// Coverage: with a large seed-to-seed variation, the hierarchical interval
// of the difference of mean predictions covers the true difference about
// 95% of the time, while a bootstrap over videos of the seed-mean
// predictions, blind to the seeds, covers it far less often.
func TestHierarchicalBootstrapCoverage(t *testing.T) {
	const sims, seeds, videos, resamples = 300, 10, 40, 400
	r := rand.New(rand.NewPCG(5, 6))
	var hier, flat int
	for k := range sims {
		a, b, mos := crossed(r, seeds, videos, 0.3, 0, 0.5, 0.5)
		h, err := HierarchicalBootstrap(a, b, mos, meanPred, resamples, uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		if h.CILow <= 0.3 && 0.3 <= h.CIHigh {
			hier++
		}
		ma, mb := make([]float64, videos), make([]float64, videos)
		for s := range seeds {
			for i := range videos {
				ma[i] += a[s][i] / seeds
				mb[i] += b[s][i] / seeds
			}
		}
		f, err := PairedBootstrap(ma, mb, mos, meanPred, resamples, uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		if f.CILow <= 0.3 && 0.3 <= f.CIHigh {
			flat++
		}
	}
	ch, cf := float64(hier)/sims, float64(flat)/sims
	t.Logf("coverage of the 95%% interval: hierarchical %.3f, videos only %.3f", ch, cf)
	if ch < 0.87 || ch > 0.99 {
		t.Errorf("hierarchical coverage %.3f, want about 0.95", ch)
	}
	if cf > 0.7 {
		t.Errorf("videos-only coverage %.3f: the fixture's seed variation is too small to tell the methods apart", cf)
	}
}

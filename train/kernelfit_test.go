package train

import (
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
)

// fitKernelRidge against numpy's dense solves (testdata/krr_oracle.py) on
// the same folds: the chosen width and penalty and the coefficients, on a
// smooth target (a wide kernel wins) and on a rough one.
func TestKernelRidgeMatchesOracle(t *testing.T) {
	py := testutil.RequireTorch(t) // Debian's python3 with numpy
	for _, c := range []struct {
		n     int
		rough float64
	}{{60, 0}, {41, 3}} {
		rng := rand.New(rand.NewPCG(uint64(c.n), 7))
		xs := make([][]float64, c.n)
		ys := make([]float64, c.n)
		for i := range xs {
			xs[i] = make([]float64, model.StatsKernelDims)
			for k := range xs[i] {
				xs[i][k] = rng.NormFloat64()
			}
			ys[i] = math.Tanh(xs[i][0]+0.5*xs[i][1]) + c.rough*math.Sin(3*xs[i][2]) + 0.1*rng.NormFloat64()
		}
		const seed = 5
		alpha, gamma, lambda, err := fitKernelRidge(xs, ys, seed)
		if err != nil {
			t.Fatal(err)
		}
		gammas := make([]float64, len(kernelGammas))
		for i, g := range kernelGammas {
			gammas[i] = g / model.StatsKernelDims
		}
		var want struct {
			Alpha         []float64
			Gamma, Lambda float64
		}
		pyOracle(t, py, "testdata/krr_oracle.py", map[string]any{"x": xs, "y": ys, "fold": kernelCVFolds(c.n, seed), "gammas": gammas, "lambdas": kernelLambdas}, &want)
		if gamma != want.Gamma || lambda != want.Lambda {
			t.Errorf("n=%d: gamma %g lambda %g, oracle %g %g", c.n, gamma, lambda, want.Gamma, want.Lambda)
		}
		for i := range alpha {
			if math.Abs(alpha[i]-want.Alpha[i]) > 1e-8*(1+math.Abs(want.Alpha[i])) {
				t.Errorf("n=%d: alpha[%d] = %.12g, oracle %.12g", c.n, i, alpha[i], want.Alpha[i])
			}
		}
		t.Logf("n=%d: gamma %g x dims, lambda %g", c.n, gamma*model.StatsKernelDims, lambda)
	}
	if _, _, _, err := fitKernelRidge(make([][]float64, 5), make([]float64, 5), 1); err == nil {
		t.Error("5 rows: no error, want one asking for at least 8")
	}
}

// The folds are a seeded partition of the rows into kernelFolds parts of
// near-equal size, the same for the same seed.
func TestKernelCVFolds(t *testing.T) {
	a, b, c := kernelCVFolds(23, 3), kernelCVFolds(23, 3), kernelCVFolds(23, 4)
	count := make([]int, kernelFolds)
	same, differ := true, false
	for i := range a {
		count[a[i]]++
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("same seed equal %v, other seed differs %v", same, differ)
	}
	for f, n := range count {
		if n < 5 || n > 6 {
			t.Errorf("fold %d has %d of 23 rows", f, n)
		}
	}
}

// fitStatsKernel fits each domain present on its own rows (its seed the
// run's plus the domain), keeps every row as a support with half the
// domain fit's coefficient (the linear path's weights are halved beside
// it, so the tilt is the two readings' mean), and gives the model a
// kernel whose tilt at a support is half the domain fit's centred
// prediction there.
func TestFitStatsKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	var zs [][]float64
	var ys, stills []float64
	for i := range 30 {
		z := make([]float64, model.StatsKernelDims+3) // the kernel reads the first 45
		for k := range z {
			z[k] = rng.NormFloat64()
		}
		zs = append(zs, z)
		ys = append(ys, z[0]+0.3*rng.NormFloat64())
		stills = append(stills, float64(i%3/2)) // 20 videos, 10 still images
	}
	r := &runner{cfg: Config{Seed: 4}, opts: Options{Log: io.Discard}}
	k, err := r.fitStatsKernel(zs, ys, stills, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Support) != 30 {
		t.Fatalf("%d supports, want 30", len(k.Support))
	}
	for d := range 2 {
		var xs [][]float64
		var yd []float64
		for i := range zs {
			if stills[i] == float64(d) {
				xs, yd = append(xs, zs[i][:model.StatsKernelDims]), append(yd, ys[i])
			}
		}
		alpha, gamma, _, err := fitKernelRidge(xs, yd, 4+uint64(d))
		if err != nil {
			t.Fatal(err)
		}
		if k.Gamma[d] != gamma {
			t.Errorf("domain %d: gamma %g, want %g", d, k.Gamma[d], gamma)
		}
		j := 0
		for i := range k.Support {
			if k.Still[i] != float64(d) {
				continue
			}
			if k.Alpha[i] != alpha[j]/2 || len(k.Support[i]) != model.StatsKernelDims {
				t.Fatalf("domain %d support %d: alpha %g (%d values), want %g", d, j, k.Alpha[i], len(k.Support[i]), alpha[j]/2)
			}
			j++
		}
		var want float64
		for n, x := range xs {
			want += alpha[n] * math.Exp(-gamma*sqDist(xs[0], x))
		}
		if got := k.Tilt(zs[indexOfDomain(stills, d)], float64(d)); math.Abs(got-want/2) > 1e-12 {
			t.Errorf("domain %d: tilt at its first support %g, want %g", d, got, want/2)
		}
	}
	onlyVideos, err := r.fitStatsKernel(zs[:12], ys[:12], make([]float64, 12), nil, nil)
	if err != nil || len(onlyVideos.Support) != 12 || onlyVideos.Gamma[1] != 0 {
		t.Errorf("videos only: %d supports, still gamma %g, err %v", len(onlyVideos.Support), onlyVideos.Gamma[1], err)
	}
}

func sqDist(a, b []float64) float64 {
	var d float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
	}
	return d
}

func indexOfDomain(stills []float64, d int) int {
	for i, s := range stills {
		if s == float64(d) {
			return i
		}
	}
	return -1
}

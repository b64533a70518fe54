package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"gonum.org/v1/gonum/mat"
)

// randomLadders draws n scored rows of f features and, per scored row, a
// few rungs stepped away from it (targets below the row's), with ladder
// pairs (better, worse) along each: source before rung, rung before the
// next one.
func randomLadders(seed uint64, n, rungs, f int) (sup [][]float64, ys []float64, pairs [][2]int) {
	rng := rand.New(rand.NewPCG(seed, 5))
	for range n {
		x := make([]float64, f)
		for k := range x {
			x[k] = rng.NormFloat64()
		}
		sup, ys = append(sup, x), append(ys, x[0]+0.5*rng.NormFloat64())
	}
	for i := range n {
		prev := i
		for range rungs {
			x := slices.Clone(sup[prev])
			for k := range x {
				x[k] += 0.4*rng.NormFloat64() + 0.2 // compression moves the statistics one way
			}
			sup = append(sup, x)
			pairs = append(pairs, [2]int{prev, len(sup) - 1})
			prev = len(sup) - 1
		}
	}
	return
}

// kernelObjective is kernelRank's objective at alpha.
func kernelObjective(sup [][]float64, ys []float64, pairs [][2]int, gamma, lambda, weight, margin float64, alpha []float64) float64 {
	k := rbfGram(sup, sup, gamma)
	a := mat.NewVecDense(len(alpha), alpha)
	var f mat.VecDense
	f.MulVec(k, a)
	n := len(ys)
	var ym float64
	for _, y := range ys {
		ym += y / float64(n)
	}
	var v float64
	for i, y := range ys {
		v += (y - ym - f.AtVec(i)) * (y - ym - f.AtVec(i)) / float64(n)
	}
	v += lambda/float64(n)*mat.Dot(a, &f) + kernelJitter*mat.Dot(a, a)
	for _, p := range pairs {
		h := math.Max(0, margin-f.AtVec(p[0])+f.AtVec(p[1]))
		v += weight / float64(len(pairs)) * h * h
	}
	return v
}

// kernelRank against scipy's L-BFGS on the same objective
// (testdata/kernel_rank_oracle.py): the readings at every support (scored
// rows and rungs) and the minimum agree, with pairs on both sides of the
// hinge.
func TestKernelRankMatchesOracle(t *testing.T) {
	py := testutil.RequireTorch(t) // Debian's python3 with numpy and scipy
	for _, c := range []struct {
		n, rungs, f                   int
		gamma, lambda, weight, margin float64
	}{{20, 3, 4, 0.3, 0.1, 3, 0.2}, {30, 2, 6, 0.1, 1, 10, 0.3}, {15, 4, 3, 1, 0.01, 0.5, 0.2}} {
		sup, ys, pairs := randomLadders(uint64(c.n*c.f), c.n, c.rungs, c.f)
		alpha, its, short, err := kernelRank(sup, ys, pairs, c.gamma, c.lambda, c.weight, c.margin)
		if err != nil {
			t.Fatal(err)
		}
		if short == 0 || short == len(pairs) {
			t.Errorf("%+v: %d of %d pairs short of the margin: the hinge's two sides are not both tested", c, short, len(pairs))
		}
		var want struct {
			F         []float64 `json:"f"`
			Objective float64   `json:"objective"`
		}
		pyOracle(t, py, "testdata/kernel_rank_oracle.py", map[string]any{"sup": sup, "y": ys, "pairs": pairs,
			"gamma": c.gamma, "lambda": c.lambda, "weight": c.weight, "margin": c.margin, "jitter": kernelJitter}, &want)
		var f mat.VecDense
		f.MulVec(rbfGram(sup, sup, c.gamma), mat.NewVecDense(len(alpha), alpha))
		for i := range want.F {
			if math.Abs(f.AtVec(i)-want.F[i]) > 1e-4 {
				t.Errorf("%+v: reading at support %d = %.8g, oracle %.8g", c, i, f.AtVec(i), want.F[i])
			}
		}
		got := kernelObjective(sup, ys, pairs, c.gamma, c.lambda, c.weight, c.margin, alpha)
		// the two minima agree; one far below the other would mean the
		// objectives differ
		if math.Abs(got-want.Objective) > 1e-8*(1+want.Objective) {
			t.Errorf("%+v: objective %.12g, the oracle's minimum %.12g", c, got, want.Objective)
		}
		t.Logf("%+v: %d Newton steps, %d of %d pairs short; objective %.10g (oracle %.10g)", c, its, short, len(pairs), got, want.Objective)
	}
}

// At weight 0, or without pairs, on the scored rows alone the fit is
// fitKernelRidge's kernel ridge at the same width and penalty.
func TestKernelRankWithoutPairsIsTheKernelRidge(t *testing.T) {
	sup, ys, pairs := randomLadders(7, 25, 2, 4)
	want, _, err := krrSolve(rbfGram(sup[:25], sup[:25], 0.3), ys, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][][2]int{nil, pairs[:0]} {
		alpha, _, _, err := kernelRank(sup[:25], ys, p, 0.3, 0.1, 0, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(alpha[i]-want[i]) > 1e-6*(1+math.Abs(want[i])) {
				t.Fatalf("alpha[%d] = %.10g, kernel ridge %.10g", i, alpha[i], want[i])
			}
		}
	}
	// rungs as supports with no pair to rank change no reading
	alpha, _, _, err := kernelRank(sup, ys, nil, 0.3, 0.1, 1, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	var got, ridge mat.VecDense
	got.MulVec(rbfGram(sup, sup, 0.3), mat.NewVecDense(len(alpha), alpha))
	ridge.MulVec(rbfGram(sup, sup[:25], 0.3), mat.NewVecDense(len(want), want))
	for i := range sup {
		if math.Abs(got.AtVec(i)-ridge.AtVec(i)) > 1e-6 {
			t.Fatalf("unranked rungs as supports: reading at %d = %.10g, kernel ridge %.10g", i, got.AtVec(i), ridge.AtVec(i))
		}
	}
}

// The ranking term orders more ladder pairs than the kernel ridge alone,
// the rungs at the far end of a ladder among them.
func TestKernelRankOrdersLadders(t *testing.T) {
	sup, ys, pairs := randomLadders(3, 30, 3, 4)
	ordered := func(alpha []float64) (n int) {
		var f mat.VecDense
		f.MulVec(rbfGram(sup, sup, 0.3), mat.NewVecDense(len(alpha), alpha))
		for _, p := range pairs {
			if f.AtVec(p[0]) > f.AtVec(p[1]) {
				n++
			}
		}
		return n
	}
	plain, _, _, err := kernelRank(sup, ys, pairs, 0.3, 0.1, 0, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	ranked, _, _, err := kernelRank(sup, ys, pairs, 0.3, 0.1, 3, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if ordered(ranked) <= ordered(plain) || ordered(ranked) < len(pairs)*3/4 {
		t.Errorf("pairs ordered: kernel ridge %d, with the ranking term %d of %d", ordered(plain), ordered(ranked), len(pairs))
	}
	t.Logf("pairs ordered: kernel ridge %d, with the ranking term %d of %d", ordered(plain), ordered(ranked), len(pairs))
}

// rungSupports keeps the scored rows first, adds each record of the
// domain's pairs once, and skips pairs of the other domain.
func TestRungSupports(t *testing.T) {
	z := func(v float64) []float64 {
		out := make([]float64, model.StatsKernelDims)
		out[0] = v
		return out
	}
	src := probeFeat{z: z(1), key: "0/a"}
	r1, r2 := probeFeat{z: z(2), key: "0/a-1"}, probeFeat{z: z(3), key: "0/a-2"}
	img := probeFeat{z: z(4), still: 1, key: "1/i"}
	pairs := [][2]probeFeat{{src, r1}, {src, r2}, {r1, r2}, {img, probeFeat{z: z(5), still: 1, key: "1/i-1"}}}
	sup, idx := rungSupports([][]float64{z(1)[:model.StatsKernelDims], z(9)}, []string{"0/a", "0/b"}, pairs, 0)
	if len(sup) != 4 || sup[2][0] != 2 || sup[3][0] != 3 {
		t.Fatalf("supports %v: want the 2 scored rows, then the rungs 2 and 3 once each", sup)
	}
	if !slices.Equal(idx, [][2]int{{0, 2}, {0, 3}, {2, 3}}) {
		t.Fatalf("pairs %v, want [[0 2] [0 3] [2 3]]", idx)
	}
}

// With stats_kernel_ladder each domain's kernel is kernelRank's fit of its
// scored rows plus the rungs of its ladder pairs, at the width and penalty
// the kernel ridge's cross-validation picked, the rungs kept as supports
// and every coefficient halved.
func TestFitStatsKernelLadder(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 10))
	feat := func(key string, still float64) probeFeat {
		z := make([]float64, model.StatsKernelDims+3)
		for k := range z {
			z[k] = rng.NormFloat64()
		}
		return probeFeat{z: z, still: still, key: key}
	}
	var zs [][]float64
	var ys, stills []float64
	var keys []string
	var rows []probeFeat
	for i := range 30 {
		f := feat(fmt.Sprintf("0/v%d", i), float64(i%3/2)) // 20 videos, 10 still images
		rows = append(rows, f)
		zs, ys, stills, keys = append(zs, f.z), append(ys, f.z[0]+0.3*rng.NormFloat64()), append(stills, f.still), append(keys, f.key)
	}
	var pairs [][2]probeFeat
	for i := range 6 { // two rungs below each of the first six rows
		r1, r2 := feat(rows[i].key+"-1", rows[i].still), feat(rows[i].key+"-2", rows[i].still)
		pairs = append(pairs, [2]probeFeat{rows[i], r1}, [2]probeFeat{r1, r2})
	}
	r := &runner{cfg: Config{Seed: 4, StatsKernelLadder: 2}, opts: Options{Log: io.Discard}}
	if _, err := r.fitStatsKernel(zs, ys, stills, keys, nil); err == nil || !strings.Contains(err.Error(), "stats_kernel_ladder: no ladder pair") {
		t.Fatalf("no pairs: %v, want an error naming stats_kernel_ladder", err)
	}
	k, err := r.fitStatsKernel(zs, ys, stills, keys, pairs)
	if err != nil {
		t.Fatal(err)
	}
	for d := range 2 {
		var xs [][]float64
		var yd []float64
		var kd []string
		for i := range zs {
			if stills[i] == float64(d) {
				xs, yd, kd = append(xs, zs[i][:model.StatsKernelDims]), append(yd, ys[i]), append(kd, keys[i])
			}
		}
		_, gamma, lambda, err := fitKernelRidge(xs, yd, 4+uint64(d))
		if err != nil {
			t.Fatal(err)
		}
		sup, idx := rungSupports(xs, kd, pairs, float64(d))
		if len(sup) == len(xs) {
			t.Fatalf("domain %d: no rung among the supports", d)
		}
		alpha, _, _, err := kernelRank(sup, yd, idx, gamma, lambda, 2, 2*ladderMargin)
		if err != nil {
			t.Fatal(err)
		}
		j := 0
		for i := range k.Support {
			if k.Still[i] != float64(d) {
				continue
			}
			if j >= len(sup) || k.Alpha[i] != alpha[j]/2 || !slices.Equal(k.Support[i], sup[j]) {
				t.Fatalf("domain %d support %d: not kernelRank's support and halved coefficient", d, j)
			}
			j++
		}
		if j != len(sup) {
			t.Errorf("domain %d: %d supports, want %d (scored rows and rungs)", d, j, len(sup))
		}
	}
}

// stats_kernel_ladder is refused when negative or without the ridge start,
// naming the key.
func TestStatsKernelLadderValidated(t *testing.T) {
	for in, want := range map[string]string{
		"stats_kernel_ladder: -1\nstats_linear_init: ridge\n": "stats_kernel_ladder -1 is negative",
		"stats_kernel_ladder: 2\n":                            "stats_kernel_ladder needs stats_linear_init: ridge",
	} {
		if _, err := ParseConfig([]byte(in), "r.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if c, err := ParseConfig([]byte("stats_kernel_ladder: 2\nstats_linear_init: ridge\n"), "r.yaml"); err != nil || c.StatsKernelLadder != 2 {
		t.Fatalf("stats_kernel_ladder 2: %+v %v", c, err)
	}
}

// stats_kernel_ladder on a model without the kernel reading is refused
// with an error naming both settings, not ignored.
func TestStatsKernelLadderNeedsTheKernel(t *testing.T) {
	cfg := testConfig(1)
	cfg.BatchSize = 4
	cfg.StatsLinearInit, cfg.StatsKernelLadder = "ridge", 1
	mc := tinyModel(t)
	mc.Stats = "nss"
	mc.Heads.StatsLinear = true
	cfg.Data = twoSources(t)
	_, err := Run(context.Background(), Options{ModelConfig: mc, Train: cfg, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "stats_kernel_ladder") || !strings.Contains(err.Error(), "heads.stats_kernel") {
		t.Fatalf("err %v, want one naming stats_kernel_ladder and heads.stats_kernel", err)
	}
}

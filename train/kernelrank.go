package train

import (
	"fmt"
	"slices"

	"github.com/cpllm/cpllm/model"
	"gonum.org/v1/gonum/mat"
)

// stats_kernel_ladder: the kernel reading asked to order compression too.
// A kernel ridge's supports are the scored records, so far from them its
// reading falls back to the mean: a strongly compressed rung of a poor
// clip, which the statistics place away from every support, reads better
// than its source. Fit to the ladder pairs with the rungs as supports of
// their own, the kernel learns where compression takes the statistics, and
// the linear path (fitLadder) is asked only for what the kernel's
// difference leaves short of the margin.

// kernelJitter is added to the ranking system's diagonal: rungs at low CRF
// sit almost on their source, which leaves the Gram matrix near-singular
// along directions that change no reading.
const kernelJitter = 1e-10

// kernelRank fits an RBF kernel reading f = K alpha over supports sup (the
// scored rows first, at indices 0..len(ys)-1, then rungs without a target)
// by minimising
//
//	(1/n) sum_i (y_i - mean(y) - f_i)^2 + (lambda/n) alpha' K alpha
//	  + kernelJitter |alpha|^2 + (weight/P) sum_p max(0, margin - f_a + f_b)^2
//
// (n scored rows, P pairs (a, b) of support indices, a the better): the
// kernel ridge of fitKernelRidge (the same alpha at weight 0, but for the
// jitter) with RankSVM's squared hinge, solved as ridgeRank is (hingeNewton).
// It returns alpha, the Newton steps and the pairs still short of the
// margin.
func kernelRank(sup [][]float64, ys []float64, pairs [][2]int, gamma, lambda, weight, margin float64) ([]float64, int, int, error) {
	s, n := len(sup), len(ys)
	if n == 0 || n > s {
		return nil, 0, 0, fmt.Errorf("train: stats_kernel_ladder: %d scored rows among %d supports", n, s)
	}
	k := rbfGram(sup, sup, gamma)
	var ym float64
	for _, y := range ys {
		ym += y / float64(n)
	}
	// the scored rows' part: (1/n) K_n' K_n + (lambda/n) K + jitter I, (1/n) K_n' (y - ym)
	kn := k.Slice(0, n, 0, s)
	base := mat.NewSymDense(s, nil)
	var ktk mat.Dense
	ktk.Mul(kn.T(), kn)
	for i := range s {
		for j := i; j < s; j++ {
			v := (ktk.At(i, j) + lambda*k.At(i, j)) / float64(n)
			if i == j {
				v += kernelJitter
			}
			base.SetSym(i, j, v)
		}
	}
	yc := mat.NewVecDense(n, nil)
	for i, y := range ys {
		yc.SetVec(i, y-ym)
	}
	rhs0 := mat.NewVecDense(s, nil)
	rhs0.MulVec(kn.T(), yc)
	rhs0.ScaleVec(1/float64(n), rhs0)

	d := make([]*mat.VecDense, len(pairs))
	for p, pr := range pairs {
		d[p] = mat.NewVecDense(s, nil)
		d[p].SubVec(k.RowView(pr[0]), k.RowView(pr[1]))
	}
	m := make([]float64, len(pairs))
	for p := range m {
		m[p] = margin
	}
	return hingeNewton(base, rhs0, d, m, weight, fmt.Sprintf("stats_kernel_ladder (gamma %g, lambda %g)", gamma, lambda))
}

// rungSupports returns the supports of one domain's kernel ranking: its
// scored rows xs (probeFeat keys keys), then every record of the ladder
// pairs inside the domain (both ends' indicator still) that is not one of
// them, and those pairs as (better, worse) support indices.
func rungSupports(xs [][]float64, keys []string, pairs [][2]probeFeat, still float64) ([][]float64, [][2]int) {
	at := make(map[string]int, len(keys))
	for i, key := range keys {
		at[key] = i
	}
	sup := slices.Clone(xs)
	var idx [][2]int
	for _, p := range pairs {
		if p[0].still != still || p[1].still != still {
			continue
		}
		var ends [2]int
		for e, f := range p {
			i, ok := at[f.key]
			if !ok {
				i = len(sup)
				at[f.key] = i
				sup = append(sup, f.z[:model.StatsKernelDims])
			}
			ends[e] = i
		}
		idx = append(idx, ends)
	}
	return sup, idx
}

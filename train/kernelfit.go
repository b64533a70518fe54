package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cpllm/cpllm/model"
	"gonum.org/v1/gonum/mat"
)

// Kernel ridge for heads.stats_kernel: per domain, an RBF kernel ridge of
// the tilt targets on the first model.StatsKernelDims standardised
// statistics, its width and penalty chosen by 4-fold cross-validation on
// the domain's own rows (the folds from the run's seed), the target
// centred at the rows' mean and the intercept dropped, as the ridge of the
// linear path drops its own.

// kernelGammas are the RBF widths tried, times 1/StatsKernelDims (the
// median squared distance of standardised rows is about 2 x dims).
var kernelGammas = []float64{0.1, 0.3, 1, 3}

// kernelLambdas are the penalties tried.
var kernelLambdas = []float64{0.01, 0.1, 1, 10}

// kernelFolds is the number of inner cross-validation folds.
const kernelFolds = 4

// rbfGram is exp(-gamma |a_i - b_j|^2) for rows a, b.
func rbfGram(a, b [][]float64, gamma float64) *mat.Dense {
	k := mat.NewDense(len(a), len(b), nil)
	for i, x := range a {
		for j, y := range b {
			var d2 float64
			for t := range x {
				d2 += (x[t] - y[t]) * (x[t] - y[t])
			}
			k.Set(i, j, math.Exp(-gamma*d2))
		}
	}
	return k
}

// krrSolve returns alpha = (K + lambda I)^-1 (y - mean(y)) and mean(y).
func krrSolve(k *mat.Dense, y []float64, lambda float64) ([]float64, float64, error) {
	n := len(y)
	var ym float64
	for _, v := range y {
		ym += v / float64(n)
	}
	a := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := k.At(i, j)
			if i == j {
				v += lambda
			}
			a.SetSym(i, j, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		return nil, 0, fmt.Errorf("train: stats kernel: K + %g I is not positive definite", lambda)
	}
	rhs := mat.NewVecDense(n, nil)
	for i, v := range y {
		rhs.SetVec(i, v-ym)
	}
	var x mat.VecDense
	if err := ch.SolveVecTo(&x, rhs); err != nil {
		return nil, 0, fmt.Errorf("train: stats kernel: %w", err)
	}
	return x.RawVector().Data, ym, nil
}

// kernelCVFolds assigns each of n rows one of kernelFolds folds by a
// seeded permutation.
func kernelCVFolds(n int, seed uint64) []int {
	fold := make([]int, n)
	for i, p := range rand.New(rand.NewPCG(seed, 0x6b726e)).Perm(n) {
		fold[p] = i % kernelFolds
	}
	return fold
}

// fitKernelRidge fits one domain's kernel ridge on rows xs (already
// standardised) with targets ys: the coefficients and the chosen width and
// penalty, after the inner cross-validation's squared error picks them
// (ties to the first in grid order: widths outer, penalties inner).
func fitKernelRidge(xs [][]float64, ys []float64, seed uint64) (alpha []float64, gamma, lambda float64, err error) {
	n := len(xs)
	if n < 2*kernelFolds {
		return nil, 0, 0, fmt.Errorf("train: stats kernel needs at least %d rows of a domain, got %d", 2*kernelFolds, n)
	}
	fold := kernelCVFolds(n, seed)
	best := math.Inf(1)
	for _, g := range kernelGammas {
		g /= float64(model.StatsKernelDims)
		full := rbfGram(xs, xs, g)
		for _, l := range kernelLambdas {
			var sse float64
			for f := range kernelFolds {
				var tr, te []int
				for i := range n {
					if fold[i] == f {
						te = append(te, i)
					} else {
						tr = append(tr, i)
					}
				}
				ktr := mat.NewDense(len(tr), len(tr), nil)
				ytr := make([]float64, len(tr))
				for a, i := range tr {
					ytr[a] = ys[i]
					for b, j := range tr {
						ktr.Set(a, b, full.At(i, j))
					}
				}
				al, ym, err := krrSolve(ktr, ytr, l)
				if err != nil {
					return nil, 0, 0, err
				}
				for _, i := range te {
					p := ym
					for a, j := range tr {
						p += full.At(i, j) * al[a]
					}
					sse += (p - ys[i]) * (p - ys[i])
				}
			}
			if sse < best {
				best, gamma, lambda = sse, g, l
			}
		}
	}
	alpha, _, err = krrSolve(rbfGram(xs, xs, gamma), ys, lambda)
	return alpha, gamma, lambda, err
}

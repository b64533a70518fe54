package baseline

import (
	"errors"
	"fmt"
	"math"

	"github.com/cpllm/cpllm/data/nss"
	"gonum.org/v1/gonum/mat"
)

// DefaultGammaScales are the RBF kernel widths KRR searches, as multiples
// of 1/p on z-scored features (whose squared distances are about 2p): from
// nearly linear to local.
var DefaultGammaScales = []float64{0.1, 0.3, 1, 3}

// KRR is a fitted RBF kernel ridge regression, the non-linear counterpart
// of Ridge that BRISQUE-style pipelines get from an RBF support vector
// regression: y = Intercept + sum_i C[i] kc(x, x_i), kc the RBF kernel
// exp(-Gamma |z - z_i|^2) of z-scored features, centred over the training
// rows (so the intercept is unpenalised, as in Ridge).
type KRR struct {
	Mean, Std []float64 // training standardisation (Std 0: feature ignored)
	Z         *mat.Dense
	C         []float64
	Intercept float64
	Gamma     float64
	Lambda    float64
	LOOMSE    float64   // leave-one-out MSE of the chosen (Gamma, Lambda)
	colMean   []float64 // each training row's mean kernel value (centring)
	allMean   float64
}

// FitKRR standardises X on itself and picks gamma (DefaultGammaScales / p)
// and lambda (grid) by exact leave-one-out MSE over X's rows (e_i / (1 -
// H_ii) with H = 11'/n + Kc (Kc + lambda I)^-1, the closed form of refitting
// without row i, standardisation held fixed), then refits on all rows.
func FitKRR(X [][]float64, y []float64, grid []float64) (*KRR, error) {
	n := len(X)
	if err := checkFit(X, y, grid); err != nil {
		return nil, fmt.Errorf("krr: %w", err)
	}
	k := &KRR{LOOMSE: math.Inf(1)}
	Z, err := standardize(X, &k.Mean, &k.Std)
	if err != nil {
		return nil, fmt.Errorf("krr: %w", err)
	}
	k.Z = Z
	ybar, _ := nss.MeanVar(y)
	yc := make([]float64, n)
	for i := range y {
		yc[i] = y[i] - ybar
	}
	k.Intercept = ybar
	p := len(X[0])
	for _, s := range DefaultGammaScales {
		gamma := s / float64(p)
		kern, colMean, allMean := k.centredKernel(gamma)
		r := &Ridge{Grid: grid}
		c, err := r.dualCoef(kern, yc)
		if err != nil {
			return nil, fmt.Errorf("krr: %w", err)
		}
		if mse := r.LOOMSE[indexOf(grid, r.Lambda)]; mse < k.LOOMSE {
			k.LOOMSE, k.Gamma, k.Lambda, k.C, k.colMean, k.allMean = mse, gamma, r.Lambda, c, colMean, allMean
		}
	}
	if k.C == nil {
		return nil, errors.New("krr: leave-one-out MSE is not finite for any gamma and lambda")
	}
	return k, nil
}

func indexOf(s []float64, v float64) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// rbf is exp(-gamma |a - b|^2).
func rbf(a, b []float64, gamma float64) float64 {
	d := 0.0
	for j := range a {
		e := a[j] - b[j]
		d += e * e
	}
	return math.Exp(-gamma * d)
}

// centredKernel is the training rows' RBF kernel with row and column means
// removed, and those means (for centring a new row's kernel values).
func (k *KRR) centredKernel(gamma float64) (*mat.SymDense, []float64, float64) {
	n, _ := k.Z.Dims()
	raw := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			v := rbf(k.Z.RawRowView(i), k.Z.RawRowView(j), gamma)
			raw[i*n+j], raw[j*n+i] = v, v
		}
	}
	colMean := make([]float64, n)
	all := 0.0
	for i := range n {
		for j := range n {
			colMean[j] += raw[i*n+j] / float64(n)
		}
	}
	for _, m := range colMean {
		all += m / float64(n)
	}
	kern := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			kern.SetSym(i, j, raw[i*n+j]-colMean[i]-colMean[j]+all)
		}
	}
	return kern, colMean, all
}

// Predict scores one feature vector.
func (k *KRR) Predict(x []float64) float64 {
	z := make([]float64, len(x))
	for j := range x {
		if k.Std[j] > 0 {
			z[j] = (x[j] - k.Mean[j]) / k.Std[j]
		}
	}
	n := len(k.C)
	kx := make([]float64, n)
	mean := 0.0
	for i := range n {
		kx[i] = rbf(z, k.Z.RawRowView(i), k.Gamma)
		mean += kx[i] / float64(n)
	}
	s := k.Intercept
	for i := range n {
		s += k.C[i] * (kx[i] - mean - k.colMean[i] + k.allMean)
	}
	return s
}

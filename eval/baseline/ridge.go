package baseline

import (
	"errors"
	"fmt"
	"math"

	"github.com/cpllm/cpllm/data/nss"
	"gonum.org/v1/gonum/mat"
)

// DefaultLambdas is the ridge penalty grid, 10^-3 ... 10^4 in half decades.
// On z-scored features the Gram diagonal is n, so this spans "almost least
// squares" to "almost the mean" for the set sizes we have (tens to
// thousands of clips).
var DefaultLambdas = func() []float64 {
	var g []float64
	for k := -6; k <= 8; k++ {
		g = append(g, math.Pow(10, float64(k)/2))
	}
	return g
}()

// Ridge is a fitted ridge regression: y = Intercept + sum_j W[j] (x[j] -
// Mean[j]) / Std[j], with the intercept unpenalised.
type Ridge struct {
	Mean, Std []float64 // training mean and population std per feature (Std 0: feature ignored)
	W         []float64
	Intercept float64
	Lambda    float64   // the grid value with the lowest leave-one-out MSE
	Grid      []float64 // the grid searched
	LOOMSE    []float64 // leave-one-out MSE per grid value
}

// FitRidge standardises X's columns on X itself, then picks lambda from grid
// by leave-one-out MSE over X's rows (the exact closed form e_i / (1 - H_ii)
// of the penalised least-squares fit with the standardisation held fixed),
// and refits on all rows. Only the training rows are ever seen, so it can be
// nested inside any outer protocol without leaking the test rows.
func FitRidge(X [][]float64, y []float64, grid []float64) (*Ridge, error) {
	n := len(X)
	if err := checkFit(X, y, grid); err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	r := &Ridge{Grid: grid}
	Z, err := standardize(X, &r.Mean, &r.Std)
	if err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	p := len(X[0])
	ybar, _ := nss.MeanVar(y)
	yc := make([]float64, n)
	for i := range y {
		yc[i] = y[i] - ybar
	}
	r.Intercept = ybar

	if p > n {
		if err := r.fitDual(Z, yc, n, p); err != nil {
			return nil, err
		}
		return r, nil
	}
	// Z'Z = V D V': every lambda then costs a diagonal solve. Because Z's
	// columns are centred the intercept decouples: H = 11'/n + Z (Z'Z + l I)^-1 Z'.
	var gram mat.SymDense
	gram.SymOuterK(1, Z.T())
	var eig mat.EigenSym
	if !eig.Factorize(&gram, true) {
		return nil, errors.New("ridge: eigendecomposition of the Gram matrix failed")
	}
	d := eig.Values(nil)
	var V, ZV mat.Dense
	eig.VectorsTo(&V)
	ZV.Mul(Z, &V)
	var vty mat.VecDense // V' Z' yc
	vty.MulVec(ZV.T(), mat.NewVecDense(n, yc))

	// In this basis fit_i = sum_k ZV_ik vty_k / (d_k + l) and
	// H_ii = 1/n + sum_k ZV_ik^2 / (d_k + l).
	if err := r.pickLambda(n, p, yc, func(i, k int) (float64, float64) {
		zv := ZV.At(i, k)
		return zv * vty.AtVec(k), zv * zv
	}, d); err != nil {
		return nil, err
	}
	r.W = make([]float64, p)
	for k := range p {
		c := vty.AtVec(k) / (d[k] + r.Lambda)
		for j := range p {
			r.W[j] += V.At(j, k) * c
		}
	}
	return r, nil
}

// fitDual is the same fit through the n x n kernel ZZ' = U D U', for more
// features than rows (pretrained features): there the p x p Gram
// matrix would cost O(p^3). With a_k = U' yc, fit_i = sum_k U_ik d_k a_k /
// (d_k + l), H_ii = 1/n + sum_k U_ik^2 d_k / (d_k + l), and
// W = Z' U diag(1 / (d_k + l)) a.
func (r *Ridge) fitDual(Z *mat.Dense, yc []float64, n, p int) error {
	var kern mat.SymDense
	kern.SymOuterK(1, Z)
	c, err := r.dualCoef(&kern, yc)
	if err != nil {
		return err
	}
	r.W = make([]float64, p)
	for i := range n {
		for j := range p {
			r.W[j] += Z.At(i, j) * c[i]
		}
	}
	return nil
}

// dualCoef picks lambda by leave-one-out MSE for a centred n x n kernel
// matrix (rows and columns summing to zero, so the unpenalised intercept
// decouples) and returns the dual coefficients c = (K + lambda I)^-1 yc.
func (r *Ridge) dualCoef(kern *mat.SymDense, yc []float64) ([]float64, error) {
	n := len(yc)
	var eig mat.EigenSym
	if !eig.Factorize(kern, true) {
		return nil, errors.New("ridge: eigendecomposition of the kernel matrix failed")
	}
	d := eig.Values(nil)
	for k := range d {
		d[k] = math.Max(d[k], 0) // rounding leaves tiny negative eigenvalues
	}
	var U mat.Dense
	eig.VectorsTo(&U)
	var a mat.VecDense
	a.MulVec(U.T(), mat.NewVecDense(n, yc))
	if err := r.pickLambda(n, n, yc, func(i, k int) (float64, float64) {
		u := U.At(i, k)
		return u * d[k] * a.AtVec(k), u * u * d[k]
	}, d); err != nil {
		return nil, err
	}
	c := make([]float64, n) // U diag(1/(d+l)) a
	for k := range n {
		f := a.AtVec(k) / (d[k] + r.Lambda)
		for i := range n {
			c[i] += U.At(i, k) * f
		}
	}
	return c, nil
}

// pickLambda sets r.Lambda to the grid value with the lowest leave-one-out
// MSE, given per (row i, component k) the numerators of the fit and of the
// leverage over d_k + lambda.
func (r *Ridge) pickLambda(n, m int, yc []float64, term func(i, k int) (fit, lev float64), d []float64) error {
	best := math.Inf(1)
	fitNum := make([]float64, n*m)
	levNum := make([]float64, n*m)
	for i := range n {
		for k := range m {
			fitNum[i*m+k], levNum[i*m+k] = term(i, k)
		}
	}
	for _, lam := range r.Grid {
		if !(lam > 0) {
			return fmt.Errorf("ridge: lambda %v must be positive", lam)
		}
		mse := 0.0
		for i := range n {
			fit, h := 0.0, 1/float64(n)
			for k := range m {
				fit += fitNum[i*m+k] / (d[k] + lam)
				h += levNum[i*m+k] / (d[k] + lam)
			}
			e := (yc[i] - fit) / (1 - h)
			mse += e * e
		}
		mse /= float64(n)
		r.LOOMSE = append(r.LOOMSE, mse)
		if mse < best {
			best, r.Lambda = mse, lam
		}
	}
	if math.IsInf(best, 1) || math.IsNaN(best) {
		return errors.New("ridge: leave-one-out MSE is not finite for any lambda")
	}
	return nil
}

// checkFit rejects what no fit can use: rows and targets of different
// counts, fewer than 3 rows, no lambda to try.
func checkFit(X [][]float64, y []float64, grid []float64) error {
	switch {
	case len(X) != len(y):
		return fmt.Errorf("%d rows but %d targets", len(X), len(y))
	case len(X) < 3:
		return fmt.Errorf("%d training rows, need at least 3", len(X))
	case len(grid) == 0:
		return errors.New("empty lambda grid")
	}
	return nil
}

// standardize z-scores X's columns with their own mean and population std
// (stored in mean, std; a constant column becomes zeros).
func standardize(X [][]float64, mean, std *[]float64) (*mat.Dense, error) {
	n, p := len(X), len(X[0])
	*mean, *std = make([]float64, p), make([]float64, p)
	Z := mat.NewDense(n, p, nil)
	col := make([]float64, n)
	for j := range p {
		for i, row := range X {
			if len(row) != p {
				return nil, fmt.Errorf("row %d has %d features, row 0 has %d", i, len(row), p)
			}
			col[i] = row[j]
		}
		m, v := nss.MeanVar(col)
		(*mean)[j], (*std)[j] = m, math.Sqrt(v)
		for i, x := range col {
			if (*std)[j] > 0 {
				Z.Set(i, j, (x-m)/(*std)[j])
			}
		}
	}
	return Z, nil
}

// Predict scores one feature vector.
func (r *Ridge) Predict(x []float64) float64 {
	s := r.Intercept
	for j, w := range r.W {
		if r.Std[j] > 0 {
			s += w * (x[j] - r.Mean[j]) / r.Std[j]
		}
	}
	return s
}

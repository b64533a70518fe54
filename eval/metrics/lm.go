package metrics

import "math"

// curve is a parametric model y = f(x; p) with its analytic gradient.
type curve struct {
	nParams int
	eval    func(x float64, p []float64) float64
	// evalGrad returns f(x;p) and writes df/dp into g.
	evalGrad func(x float64, p []float64, g []float64) float64
}

// lmResult is the outcome of one Levenberg-Marquardt run.
type lmResult struct {
	p         []float64
	sse       float64
	iters     int
	converged bool
}

// The loop follows MINPACK's lmder (which scipy's curve_fit runs as lmdif):
// a trust region of radius delta in the D-scaled norm, D the running
// maximum of the Jacobian column norms, full Gauss-Newton steps whenever
// they fit, and the same radius updates. Following the same kind of path is
// what lets it reach the optimum curve_fit reports, including long walks
// along valleys. The linear algebra uses the (tiny) normal equations
// instead of QR.
//
// Tolerances are far tighter than MINPACK's defaults (1.49e-8) so that
// well-posed fits land on the optimum itself. Fits whose optimum lies at
// infinity (a logistic on a line or on an exponential, or sharpening into a
// step) move parameters for ever; they stop once the fitted curve moves by
// less than lmYtol of the MOS range in a step, when they stall (below), or
// at lmMaxIter.
const (
	lmMaxIter = 200
	lmFtol    = 1e-15
	lmXtol    = 1e-12
	lmGtol    = 1e-15
	lmYtol    = 1e-10
	lmFactor  = 100 // initial radius = lmFactor * ||D p0||, as MINPACK
	// lmMaxInner bounds rejected trial steps within one iteration; each
	// shrinks the radius at least 2x, so reaching it means no progress.
	lmMaxInner = 100
	// A drift is also cut short when lmStallWindow iterations lower the
	// SSE by less than lmStallTol relative: the mapped values then change
	// by far less than the metrics' precision.
	lmStallWindow = 10
	lmStallTol    = 1e-9
)

// sse returns the residual sum of squares and stores f(x;p) in yhat.
func sse(c curve, x, y, p, yhat []float64) float64 {
	s := 0.0
	for i := range x {
		yhat[i] = c.eval(x[i], p)
		r := y[i] - yhat[i]
		s += r * r
	}
	return s
}

func dnorm(D, v []float64) float64 {
	s := 0.0
	for j := range v {
		s += (D[j] * v[j]) * (D[j] * v[j])
	}
	return math.Sqrt(s)
}

// levmar minimises sum (y - f(x;p))^2 starting from p0.
func levmar(c curve, x, y, p0 []float64) lmResult {
	m := c.nParams
	p := append([]float64(nil), p0...)
	yhat, ytry := make([]float64, len(x)), make([]float64, len(x))
	cur := sse(c, x, y, p, yhat)
	lo, hi := minMax(y)
	ystop := lmYtol * (hi - lo)
	res := lmResult{p: p, sse: cur}
	if !finite(cur) {
		return res
	}
	A := make([]float64, m*m)
	g := make([]float64, m)
	gi := make([]float64, m)
	D := make([]float64, m)
	pn := make([]float64, m)
	ws := newLMWork(m)
	var delta, par float64
	first := true
	hist := make([]float64, 0, lmMaxIter+1) // SSE after each iteration
	for it := 1; it <= lmMaxIter; it++ {
		res.iters = it
		hist = append(hist, cur)
		if k := len(hist) - 1 - lmStallWindow; k >= 0 && hist[k]-cur <= lmStallTol*cur {
			return res // stalled on a drift towards infinity; not converged
		}
		clear(A)
		clear(g)
		for i := range x {
			r := y[i] - c.evalGrad(x[i], p, gi)
			for a := 0; a < m; a++ {
				g[a] += gi[a] * r
				for b := 0; b <= a; b++ {
					A[a*m+b] += gi[a] * gi[b]
				}
			}
		}
		fnorm := math.Sqrt(cur)
		gnorm := 0.0
		for a := 0; a < m; a++ {
			for b := 0; b < a; b++ {
				A[b*m+a] = A[a*m+b]
			}
			cn := math.Sqrt(A[a*m+a])
			if it == 1 {
				D[a] = cn
				if cn == 0 {
					D[a] = 1
				}
			} else {
				D[a] = math.Max(D[a], cn)
			}
			if cn != 0 && fnorm != 0 {
				gnorm = math.Max(gnorm, math.Abs(g[a])/(cn*fnorm))
			}
		}
		if it == 1 {
			delta = lmFactor * dnorm(D, p)
			if delta == 0 {
				delta = lmFactor
			}
		}
		if fnorm == 0 || gnorm <= lmGtol {
			res.converged = true
			return res
		}
		for inner := 0; ; inner++ {
			if inner == lmMaxInner {
				return res // radius collapsed without a downhill step
			}
			var d []float64
			par, d = ws.lmpar(A, g, D, delta, par)
			if d == nil {
				return res // no usable step at all
			}
			for a := range pn {
				pn[a] = p[a] + d[a]
			}
			pnorm := dnorm(D, d)
			if first {
				delta = math.Min(delta, pnorm)
			}
			next := sse(c, x, y, pn, ytry)
			fnorm1 := math.Sqrt(next)
			actred := -1.0
			if finite(next) && 0.1*fnorm1 < fnorm {
				actred = 1 - (fnorm1/fnorm)*(fnorm1/fnorm)
			}
			jd := 0.0 // dᵀAd = ||J d||²
			for a := 0; a < m; a++ {
				for b := 0; b < m; b++ {
					jd += d[a] * A[a*m+b] * d[b]
				}
			}
			t1 := math.Sqrt(math.Max(jd, 0)) / fnorm
			t2 := math.Sqrt(par) * pnorm / fnorm
			prered := t1*t1 + 2*t2*t2
			dirder := -(t1*t1 + t2*t2)
			ratio := 0.0
			if prered != 0 && finite(prered) {
				ratio = actred / prered
			}
			switch {
			case ratio <= 0.25:
				temp := 0.5
				if actred < 0 {
					temp = 0.5 * dirder / (dirder + 0.5*actred)
				}
				if 0.1*fnorm1 >= fnorm || temp < 0.1 || !finite(next) {
					temp = 0.1
				}
				delta = temp * math.Min(delta, pnorm/0.1)
				par /= temp
			case par == 0 || ratio >= 0.75:
				delta = pnorm / 0.5
				par *= 0.5
			}
			if !finite(delta) {
				// A near-singular GN step can overflow; restart the radius
				// from the scale of p instead of keeping it infinite.
				delta = math.Max(dnorm(D, p), 1)
			}
			moved := math.Inf(1)
			if ratio >= 1e-4 {
				first = false
				moved = 0
				for i := range yhat {
					moved = math.Max(moved, math.Abs(ytry[i]-yhat[i]))
				}
				yhat, ytry = ytry, yhat
				copy(p, pn)
				cur = next
				res.sse = cur
			}
			if (math.Abs(actred) <= lmFtol && prered <= lmFtol && 0.5*ratio <= 1) ||
				delta <= lmXtol*dnorm(D, p) || moved <= ystop {
				res.converged = true
				return res
			}
			if ratio >= 1e-4 {
				break
			}
			if delta <= 1e-300 { // nothing downhill at this precision
				res.converged = true
				return res
			}
		}
	}
	return res
}

// lmWork holds scratch space for lmpar.
type lmWork struct {
	m               int
	B, d, w, z, rhs []float64
}

func newLMWork(m int) *lmWork {
	return &lmWork{m: m, B: make([]float64, m*m), d: make([]float64, m),
		w: make([]float64, m), z: make([]float64, m), rhs: make([]float64, m)}
}

// step solves (A + par D²) d = g into ws.d.
func (ws *lmWork) step(A, g, D []float64, par float64) bool {
	m := ws.m
	copy(ws.B, A)
	for a := 0; a < m; a++ {
		ws.B[a*m+a] += par * D[a] * D[a]
	}
	return solve(ws.B, g, ws.d, ws.rhs, m)
}

// lmpar returns the Levenberg parameter and step for radius delta, as
// MINPACK's lmpar: the Gauss-Newton step (par = 0) if ||D d|| <= 1.1 delta,
// else par > 0 with | ||D d|| - delta | <= 0.1 delta, found by Moré's
// safeguarded Newton iteration (at most 10 steps, as MINPACK).
func (ws *lmWork) lmpar(A, g, D []float64, delta, par float64) (float64, []float64) {
	m := ws.m
	if ws.step(A, g, D, 0) {
		if dnorm(D, ws.d) <= 1.1*delta {
			return 0, ws.d
		}
	}
	// ||D d(par)|| <= ||D⁻¹ g|| / par, so paru bounds the answer.
	gn := 0.0
	for a := 0; a < m; a++ {
		gn += (g[a] / D[a]) * (g[a] / D[a])
	}
	paru := math.Sqrt(gn) / delta
	if paru == 0 || !finite(paru) {
		return 0, nil
	}
	parl := 0.0
	if par <= 0 || par > paru {
		par = math.Max(1e-3*paru, math.SmallestNonzeroFloat64)
	}
	for iter := 1; ; iter++ {
		if !ws.step(A, g, D, par) {
			if iter >= 10 {
				return 0, nil
			}
			parl = par
			par = math.Sqrt(parl * paru)
			continue
		}
		qn := dnorm(D, ws.d)
		phi := qn - delta
		if math.Abs(phi) <= 0.1*delta || iter >= 10 {
			return par, ws.d
		}
		if phi > 0 {
			parl = math.Max(parl, par)
		} else {
			paru = math.Min(paru, par)
		}
		// Newton step on 1/||q|| - 1/delta: par += phi/delta * ||q||²/(wᵀz)
		// with w = D²d and (A + par D²) z = w.
		for a := 0; a < m; a++ {
			ws.w[a] = D[a] * D[a] * ws.d[a]
			for b := 0; b < m; b++ {
				ws.B[a*m+b] = A[a*m+b]
			}
			ws.B[a*m+a] += par * D[a] * D[a]
		}
		next := math.NaN()
		if solve(ws.B, ws.w, ws.z, ws.rhs, m) {
			wz := 0.0
			for a := 0; a < m; a++ {
				wz += ws.w[a] * ws.z[a]
			}
			next = par + phi/delta*qn*qn/wz
		}
		if !(next > parl && next < paru) { // safeguard: geometric bisection
			next = math.Sqrt(math.Max(parl, 1e-300*paru) * paru)
		}
		par = next
	}
}

// solve solves the m×m system B d = g by Gaussian elimination with partial
// pivoting, overwriting B and using rhs as scratch; false means singular or
// non-finite.
func solve(B, g, d, rhs []float64, m int) bool {
	copy(rhs, g)
	for col := 0; col < m; col++ {
		piv := col
		for r := col + 1; r < m; r++ {
			if math.Abs(B[r*m+col]) > math.Abs(B[piv*m+col]) {
				piv = r
			}
		}
		if B[piv*m+col] == 0 || math.IsNaN(B[piv*m+col]) {
			return false
		}
		if piv != col {
			for k := 0; k < m; k++ {
				B[col*m+k], B[piv*m+k] = B[piv*m+k], B[col*m+k]
			}
			rhs[col], rhs[piv] = rhs[piv], rhs[col]
		}
		for r := col + 1; r < m; r++ {
			f := B[r*m+col] / B[col*m+col]
			for k := col; k < m; k++ {
				B[r*m+k] -= f * B[col*m+k]
			}
			rhs[r] -= f * rhs[col]
		}
	}
	for r := m - 1; r >= 0; r-- {
		s := rhs[r]
		for k := r + 1; k < m; k++ {
			s -= B[r*m+k] * d[k]
		}
		d[r] = s / B[r*m+r]
		if math.IsNaN(d[r]) || math.IsInf(d[r], 0) {
			return false
		}
	}
	return true
}

package metrics

import (
	"fmt"
	"math"
)

// Model selects a monotone logistic mapping from predictions to MOS.
type Model int

const (
	// Logistic4 is the VQEG 4-parameter logistic
	// y = (b1-b2)/(1+exp(-(x-b3)/|b4|)) + b2.
	Logistic4 Model = 4
	// Logistic5 is the 5-parameter logistic with a linear term
	// y = b1*(1/2 - 1/(1+exp(b2*(x-b3)))) + b4*x + b5.
	Logistic5 Model = 5
)

func (m Model) String() string {
	switch m {
	case Logistic4:
		return "4pl"
	case Logistic5:
		return "5pl"
	}
	return fmt.Sprintf("Model(%d)", int(m))
}

// Fit is the result of fitting a logistic mapping pred -> MOS.
type Fit struct {
	Model Model
	// Params are b1..b4 or b1..b5; for the Linear fallback they are
	// slope and intercept. All NaN when the mapping is undefined
	// (constant pred or MOS).
	Params     []float64
	Fitted     []float64 // mapped predictions, aligned with the input
	SSE        float64
	Iterations int
	// Converged is false when the optimiser hit its iteration cap or
	// stalled, typically because the optimum lies at infinity (a logistic
	// fitted to a line or an exponential); the best parameters found are
	// still returned.
	Converged bool
	// Start is the index into Starts of the initial values used; 0 is the
	// default (InitialParams), 4 (5PL only) the nested 4PL solution.
	Start int
	// Linear is set when every start failed and the least-squares line
	// was used instead.
	Linear bool
	// Decreasing is set when the fitted values fall as the predictions
	// rise (negative covariance): the best mapping turns the model's
	// ranking upside down. The PLCC after such a fit is reported negative.
	Decreasing bool
}

// sigmoid is a logistic 1/(1+exp(-z)) that never overflows.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

var curve4 = curve{
	nParams: 4,
	eval: func(x float64, p []float64) float64 {
		return (p[0]-p[1])*sigmoid((x-p[2])/math.Abs(p[3])) + p[1]
	},
	evalGrad: func(x float64, p []float64, g []float64) float64 {
		b4 := math.Abs(p[3])
		s := sigmoid((x - p[2]) / b4)
		ds := (p[0] - p[1]) * s * (1 - s)
		g[0] = s
		g[1] = 1 - s
		g[2] = -ds / b4
		// d|b4|/db4 = sign(b4)
		g[3] = -ds * (x - p[2]) / (b4 * b4) * math.Copysign(1, p[3])
		return (p[0]-p[1])*s + p[1]
	},
}

var curve5 = curve{
	nParams: 5,
	eval: func(x float64, p []float64) float64 {
		// 1/2 - 1/(1+exp(u)) == sigmoid(u) - 1/2
		return p[0]*(sigmoid(p[1]*(x-p[2]))-0.5) + p[3]*x + p[4]
	},
	evalGrad: func(x float64, p []float64, g []float64) float64 {
		s := sigmoid(p[1] * (x - p[2]))
		ds := p[0] * s * (1 - s)
		g[0] = s - 0.5
		g[1] = ds * (x - p[2])
		g[2] = -ds * p[1]
		g[3] = x
		g[4] = 1
		return p[0]*(s-0.5) + p[3]*x + p[4]
	},
}

func (m Model) curve() (curve, error) {
	switch m {
	case Logistic4:
		return curve4, nil
	case Logistic5:
		return curve5, nil
	}
	return curve{}, fmt.Errorf("metrics: unknown model %d", int(m))
}

// popStd is the ddof=0 standard deviation (numpy's default).
func popStd(v []float64) float64 {
	mu, s := mean(v), 0.0
	for _, x := range v {
		s += (x - mu) * (x - mu)
	}
	return math.Sqrt(s / float64(len(v)))
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// InitialParams returns the documented default start (mirrored in
// testdata/gen_fixtures.py). The curve is oriented by the sign of the
// Pearson correlation so anti-correlated data need not pass through a flat
// curve. 4PL: b1,b2 = max/min MOS (swapped if r<0), b3 = mean(pred),
// b4 = std(pred)/4. 5PL: b1 = ±(max-min MOS), b2 = 1/std(pred),
// b3 = mean(pred), b4 = 0, b5 = mean(MOS). A zero std is replaced by 1.
// Inputs are assumed valid (see FitLogistic); nil for an unknown model.
func InitialParams(m Model, pred, mos []float64) []float64 {
	lo, hi := minMax(mos)
	up := !(pearson(pred, mos) < 0)
	sd := popStd(pred)
	switch m {
	case Logistic4:
		b4 := sd / 4
		if sd == 0 {
			b4 = 1
		}
		if !up {
			lo, hi = hi, lo
		}
		return []float64{hi, lo, mean(pred), b4}
	case Logistic5:
		b1, b2 := hi-lo, 1.0
		if !up {
			b1 = -b1
		}
		if sd > 0 {
			b2 = 1 / sd
		}
		return []float64{b1, b2, mean(pred), 0, mean(mos)}
	}
	return nil
}

// Starts returns the documented initial values: [0] is InitialParams,
// [1] the same curve in the opposite orientation, [2] and [3] these two
// with a 4× wider (4PL: b4 = std) or 4× steeper (5PL: b2 = 4/std)
// transition. testdata/gen_fixtures.py mirrors this list.
func Starts(m Model, pred, mos []float64) [][]float64 {
	p := InitialParams(m, pred, mos)
	if p == nil {
		return nil
	}
	sd := popStd(pred)
	if sd == 0 {
		sd = 1
	}
	flip := append([]float64(nil), p...)
	if m == Logistic4 {
		flip[0], flip[1] = p[1], p[0]
	} else {
		flip[0] = -p[0]
	}
	out := [][]float64{p, flip}
	for _, q := range [][]float64{p, flip} {
		w := append([]float64(nil), q...)
		if m == Logistic4 {
			w[3] = sd
		} else {
			w[1] = 4 / sd
		}
		out = append(out, w)
	}
	return out
}

// FitLogistic fits model m mapping pred to mos by Levenberg-Marquardt.
// If either vector is constant the mapping is undefined and Fitted is all
// NaN (no error).
func FitLogistic(m Model, pred, mos []float64) (Fit, error) {
	if _, err := m.curve(); err != nil {
		return Fit{}, err
	}
	if err := validatePair(pred, mos); err != nil {
		return Fit{}, err
	}
	return fitModel(m, pred, mos), nil
}

// fitModel fits m; a 5PL fit first fits the 4PL it nests (see
// fitLogistic).
func fitModel(m Model, pred, mos []float64) Fit {
	f4 := fitLogistic(Logistic4, curve4, pred, mos, nil)
	if m == Logistic4 {
		return f4
	}
	return fitLogistic(Logistic5, curve5, pred, mos, &f4)
}

// fitLogistic runs LM from the default start and keeps the result unless
// it is non-finite or stuck: no better than a straight line (for the 5PL,
// which contains the line at b1 = 0, the b2 -> 0 saddle; the 4PL only
// approaches a line, so there clearly worse), or a 5PL worse than the
// 4PL it nests (b1-b2, 1/|b4|, b3, 0, (b1+b2)/2). Only then are that
// nested solution and the other Starts tried, until one is not stuck, else
// keeping the lowest SSE. Falling back this rarely keeps the default path,
// hence agreement with curve_fit, while rescuing the cases where LM ends on
// a saddle.
func fitLogistic(m Model, c curve, pred, mos []float64, nested *Fit) Fit {
	f := fitCurve(m, c, pred, mos, nested)
	f.Decreasing = covariance(f.Fitted, pred) < 0
	return f
}

func fitCurve(m Model, c curve, pred, mos []float64, nested *Fit) Fit {
	n := len(pred)
	if isConstant(pred) || isConstant(mos) {
		f := Fit{Model: m, Params: make([]float64, c.nParams), Fitted: make([]float64, n), SSE: math.NaN()}
		fill(f.Params, math.NaN())
		fill(f.Fitted, math.NaN())
		return f
	}
	line := lineFit(m, pred, mos)
	starts := Starts(m, pred, mos)
	stuck := func(sse float64) bool {
		if m == Logistic4 {
			return sse > line.SSE*(1+1e-3)
		}
		return sse >= line.SSE*(1-1e-6) || (nested != nil && sse > nested.SSE*(1+1e-9))
	}
	idx := []int{0, 1, 2, 3}
	if m == Logistic5 && nested != nil && !nested.Linear && allFinite(nested.Params) {
		q := nested.Params
		starts = append(starts, []float64{q[0] - q[1], 1 / math.Abs(q[3]), q[2], 0, (q[0] + q[1]) / 2})
		idx = []int{0, 4, 1, 2, 3} // the nested 4PL usually rescues a stuck 5PL
	}
	var best *Fit
	for _, k := range idx {
		p0 := starts[k]
		r := levmar(c, pred, mos, p0)
		if !finite(r.sse) || !allFinite(r.p) {
			continue
		}
		f := Fit{Model: m, Params: r.p, Fitted: make([]float64, n), SSE: r.sse,
			Iterations: r.iters, Converged: r.converged, Start: k}
		for i, x := range pred {
			f.Fitted[i] = c.eval(x, r.p)
		}
		if !allFinite(f.Fitted) {
			continue
		}
		if !stuck(f.SSE) {
			return f
		}
		if best == nil || f.SSE < best.SSE {
			best = &f
		}
	}
	if best == nil {
		return line
	}
	return *best
}

// lineFit is the least-squares line, the last-resort mapping.
func lineFit(m Model, pred, mos []float64) Fit {
	mx, my := mean(pred), mean(mos)
	var sxy, sxx float64
	for i := range pred {
		sxy += (pred[i] - mx) * (mos[i] - my)
		sxx += (pred[i] - mx) * (pred[i] - mx)
	}
	slope := sxy / sxx
	f := Fit{Model: m, Params: []float64{slope, my - slope*mx}, Fitted: make([]float64, len(pred)),
		Converged: true, Linear: true}
	for i, x := range pred {
		f.Fitted[i] = my + slope*(x-mx)
		f.SSE += (mos[i] - f.Fitted[i]) * (mos[i] - f.Fitted[i])
	}
	return f
}

func fill(v []float64, x float64) {
	for i := range v {
		v[i] = x
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func allFinite(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}

// Eval applies the fitted mapping to a new prediction.
func (f Fit) Eval(x float64) float64 {
	if f.Linear {
		return f.Params[0]*x + f.Params[1]
	}
	c, err := f.Model.curve()
	if err != nil || len(f.Params) != c.nParams {
		return math.NaN()
	}
	return c.eval(x, f.Params)
}

// fittedScores returns PLCC and RMSE between the mapped predictions and
// MOS; both NaN when the mapping is undefined.
func fittedScores(m Model, pred, mos []float64) (plcc, rmse float64) {
	return scores(fitModel(m, pred, mos), mos)
}

// scores are the PLCC and RMSE of the fitted values against MOS. A fit
// only ever raises |PLCC| (it maps the predictions to MOS as well as it
// can), so the PLCC carries the sign of the mapping: negative when the
// mapping is decreasing. An anti-correlated model thus never reports a
// positive PLCC after the fit.
func scores(f Fit, mos []float64) (plcc, rmse float64) {
	if !allFinite(f.Fitted) {
		return math.NaN(), math.NaN()
	}
	s := 0.0
	for i := range mos {
		s += (f.Fitted[i] - mos[i]) * (f.Fitted[i] - mos[i])
	}
	plcc = pearson(f.Fitted, mos)
	if f.Decreasing {
		plcc = -plcc
	}
	return plcc, math.Sqrt(s / float64(len(mos)))
}

// covariance is the (unnormalised) covariance of a and b; NaN if either
// holds a NaN.
func covariance(a, b []float64) float64 {
	ma, mb, s := mean(a), mean(b), 0.0
	for i := range a {
		s += (a[i] - ma) * (b[i] - mb)
	}
	return s
}

func fittedMetric(m Model, wantRMSE bool) MetricFunc {
	return func(pred, mos []float64) (float64, error) {
		if err := validatePair(pred, mos); err != nil {
			return math.NaN(), err
		}
		p, r := fittedScores(m, pred, mos)
		if wantRMSE {
			return r, nil
		}
		return p, nil
	}
}

// Fitted-mapping metrics (PLCC / RMSE after the 4PL or 5PL logistic).
var (
	PLCC4PL MetricFunc = fittedMetric(Logistic4, false)
	RMSE4PL MetricFunc = fittedMetric(Logistic4, true)
	PLCC5PL MetricFunc = fittedMetric(Logistic5, false)
	RMSE5PL MetricFunc = fittedMetric(Logistic5, true)
)

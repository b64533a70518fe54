package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// antiCorrelated is a small anti-correlated set like a model that ranks
// videos upside down: MOS falls in a noisy step as the prediction rises.
func antiCorrelated(n int, seed uint64, noise float64) (pred, mos []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	pred, mos = make([]float64, n), make([]float64, n)
	for i := range pred {
		pred[i] = 3 + 0.3*r.NormFloat64()
		mos[i] = 4 - 2/(1+math.Exp(-(pred[i]-3)/0.05)) + noise*r.NormFloat64()
	}
	return pred, mos
}

// A decreasing fitted curve must not turn an anti-correlated model into a
// positive PLCC: PLCC after the 4PL and 5PL fits is <= 0, and it is the
// exact negative of what the same model with its ranking reversed gets.
func TestFittedPLCCKeepsTheSign(t *testing.T) {
	for _, c := range []struct {
		n     int
		seed  uint64
		noise float64
	}{{12, 1, 1}, {12, 2, 1}, {12, 5, 0.4}, {40, 3, 0.4}, {200, 4, 0.4}} {
		pred, mos := antiCorrelated(c.n, c.seed, c.noise)
		raw, _ := PLCC(pred, mos)
		srcc, _ := SRCC(pred, mos)
		if !(raw < 0 && srcc < 0) {
			t.Fatalf("n=%d seed %d: fixture not anti-correlated (PLCC %g, SRCC %g)", c.n, c.seed, raw, srcc)
		}
		flipped := make([]float64, len(pred))
		for i, x := range pred {
			flipped[i] = -x
		}
		for _, m := range []struct {
			model Model
			plcc  MetricFunc
		}{{Logistic4, PLCC4PL}, {Logistic5, PLCC5PL}} {
			f, err := FitLogistic(m.model, pred, mos)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := m.plcc(pred, mos)
			up, _ := m.plcc(flipped, mos)
			t.Logf("n=%d seed %d %v: SRCC %.4f, PLCC %.4f, fitted PLCC %.4f, reversed model %.4f, decreasing %v",
				c.n, c.seed, m.model, srcc, raw, got, up, f.Decreasing)
			if !f.Decreasing || !(got <= 0) {
				t.Errorf("n=%d seed %d %v: PLCC after the fit %g (decreasing %v), want <= 0", c.n, c.seed, m.model, got, f.Decreasing)
			}
			if math.Abs(got+up) > 1e-6 {
				t.Errorf("n=%d seed %d %v: PLCC after the fit %g, reversed model %g: want opposite values", c.n, c.seed, m.model, got, up)
			}
		}
	}
}

// Over random data the fitted PLCC is positive only for an increasing fit,
// and the 5PL's (which contains every line) has the sign of the raw PLCC.
func TestFittedPLCCSignFollowsFit(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for trial := range 30 {
		n := 8 + r.IntN(60)
		slope := r.NormFloat64()
		pred, mos := make([]float64, n), make([]float64, n)
		for i := range pred {
			pred[i] = r.NormFloat64()
			mos[i] = 3 + slope/(1+math.Exp(-2*pred[i])) + 0.5*r.NormFloat64()
		}
		raw, _ := PLCC(pred, mos)
		f4, _ := FitLogistic(Logistic4, pred, mos)
		p4, r4 := scores(f4, mos)
		p5, _ := PLCC5PL(pred, mos)
		if (p4 > 0) == f4.Decreasing || math.IsNaN(r4) {
			t.Errorf("trial %d: 4PL PLCC %g with decreasing=%v", trial, p4, f4.Decreasing)
		}
		if math.Abs(raw) > 0.05 && (p5 > 0) != (raw > 0) {
			t.Errorf("trial %d: 5PL PLCC %g, raw PLCC %g: signs differ", trial, p5, raw)
		}
	}
}

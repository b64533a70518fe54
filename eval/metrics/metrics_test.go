package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// synth returns a noisy sigmoid relationship, the typical VQA shape.
func synth(n int, seed uint64) (pred, mos []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	pred, mos = make([]float64, n), make([]float64, n)
	for i := range pred {
		pred[i] = r.NormFloat64()
		mos[i] = 1 + 4/(1+math.Exp(-2*pred[i])) + 0.3*r.NormFloat64()
	}
	return pred, mos
}

func TestNonFiniteRejected(t *testing.T) {
	good := []float64{1, 2, 3, 4}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		pred := []float64{1, 2, bad, 4}
		fns := map[string]MetricFunc{"srcc": SRCC, "krcc": KRCC, "plcc": PLCC,
			"plcc_4pl": PLCC4PL, "rmse_4pl": RMSE4PL, "plcc_5pl": PLCC5PL, "rmse_5pl": RMSE5PL}
		for name, fn := range fns {
			_, err := fn(pred, good)
			if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "pred[2]") {
				t.Errorf("%s(%v): err = %v, want ErrNonFinite naming pred[2]", name, bad, err)
			}
		}
		if _, err := fns["srcc"](good, pred); err == nil || !strings.Contains(err.Error(), "mos[2]") {
			t.Errorf("mos NaN: err = %v", err)
		}
		errs := []error{}
		_, err := Compute(pred, good, Options{Resamples: 10})
		errs = append(errs, err)
		_, err = Bootstrap(pred, good, SRCC, 10, 1)
		errs = append(errs, err)
		_, err = PairedBootstrap(good, pred, good, SRCC, 10, 1)
		errs = append(errs, err)
		_, err = PairedTTest(pred, good)
		errs = append(errs, err)
		_, err = Wilcoxon(pred, good)
		errs = append(errs, err)
		_, err = Aggregate(pred)
		errs = append(errs, err)
		_, err = FitLogistic(Logistic4, pred, good)
		errs = append(errs, err)
		for i, err := range errs {
			if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "[2]") {
				t.Errorf("call %d: err = %v, want ErrNonFinite at index 2", i, err)
			}
		}
	}
}

func TestShapeErrors(t *testing.T) {
	if _, err := SRCC([]float64{1, 2, 3}, []float64{1, 2}); !errors.Is(err, ErrLength) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, err := PLCC([]float64{1, 2}, []float64{1, 2}); !errors.Is(err, ErrTooFew) {
		t.Errorf("n=2: %v", err)
	}
	if _, err := Compute(nil, nil, Options{}); !errors.Is(err, ErrTooFew) {
		t.Errorf("empty: %v", err)
	}
	if _, err := WilliamsT(0.5, 0.4, 0.3, 3); !errors.Is(err, ErrTooFew) {
		t.Errorf("williams n=3: %v", err)
	}
	if _, err := SteigerZ(1.5, 0.4, 0.3, 10); err == nil {
		t.Error("steiger r>1: want error")
	}
	if _, err := Bootstrap([]float64{1, 2, 3}, []float64{1, 2, 3}, SRCC, -1, 0); err == nil {
		t.Error("negative resamples: want error")
	}
}

func TestConstantGivesNaN(t *testing.T) {
	pred := []float64{0.1, 0.4, 0.2, 0.9, 0.5}
	mos := []float64{3, 3, 3, 3, 3}
	rep, err := Compute(pred, mos, Options{Resamples: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{rep.SRCC.Value, rep.KRCC.Value, rep.PLCC.Value, rep.PLCC4PL.Value, rep.RMSE5PL.Value, rep.SRCC.CILow} {
		if !math.IsNaN(v) {
			t.Errorf("constant MOS: got %v, want NaN", v)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"srcc":{"value":null,"ci_low":null,"ci_high":null}`) {
		t.Errorf("NaN not written as null: %s", b)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.SRCC.Value) || back.N != 5 {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

func TestReportJSONKeys(t *testing.T) {
	pred, mos := synth(40, 1)
	rep, err := Compute(pred, mos, Options{Resamples: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "srcc", "krcc", "plcc", "plcc_4pl", "rmse_4pl", "plcc_5pl", "rmse_5pl"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %q in %s", k, b)
		}
	}
	var inner map[string]float64
	if err := json.Unmarshal(m["plcc_4pl"], &inner); err != nil || len(inner) != 3 {
		t.Errorf("inner object: %s %v", m["plcc_4pl"], err)
	}
	for _, k := range []string{"value", "ci_low", "ci_high"} {
		if _, ok := inner[k]; !ok {
			t.Errorf("missing inner key %q", k)
		}
	}
}

func TestBootstrapDeterministicAndCovers(t *testing.T) {
	pred, mos := synth(200, 2)
	a, err := Bootstrap(pred, mos, SRCC, 300, 42)
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1) // worker count must not matter
	b, err := Bootstrap(pred, mos, SRCC, 300, 42)
	runtime.GOMAXPROCS(prev)
	if err != nil || a != b {
		t.Fatalf("same seed differs: %+v vs %+v (%v)", a, b, err)
	}
	c, _ := Bootstrap(pred, mos, SRCC, 300, 43)
	if c == a {
		t.Error("different seeds gave identical CIs")
	}
	if !(a.CILow < a.Value && a.Value < a.CIHigh) || a.CIHigh-a.CILow > 0.2 {
		t.Errorf("CI %+v does not bracket the estimate sensibly", a)
	}
}

func TestComputeMatchesBootstrap(t *testing.T) {
	pred, mos := synth(60, 3)
	rep, err := Compute(pred, mos, Options{Resamples: 100, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != 60 || rep.Resamples != 100 || rep.Seed != 9 {
		t.Errorf("header %+v", rep)
	}
	for _, m := range []struct {
		got CI
		fn  MetricFunc
	}{{rep.SRCC, SRCC}, {rep.KRCC, KRCC}, {rep.PLCC, PLCC}, {rep.PLCC4PL, PLCC4PL}, {rep.RMSE5PL, RMSE5PL}} {
		want, err := Bootstrap(pred, mos, m.fn, 100, 9)
		if err != nil || want != m.got {
			t.Errorf("Compute %+v != Bootstrap %+v (%v)", m.got, want, err)
		}
		if !(m.got.CILow <= m.got.Value && m.got.Value <= m.got.CIHigh) {
			t.Errorf("CI %+v excludes estimate", m.got)
		}
	}
	if rep.PLCC4PL.Value < rep.PLCC.Value || rep.PLCC5PL.Value < rep.PLCC.Value {
		t.Errorf("logistic mapping should not lower PLCC on sigmoid data: %+v", rep)
	}
	none, _ := Compute(pred, mos, Options{Resamples: -1})
	if none.SRCC.Value != rep.SRCC.Value || !math.IsNaN(none.SRCC.CILow) || none.Resamples != 0 {
		t.Errorf("no-bootstrap report %+v", none)
	}
}

func TestFitRecoversParameters(t *testing.T) {
	x := make([]float64, 50)
	for i := range x {
		x[i] = -2 + 4*float64(i)/49
	}
	for _, tc := range []struct {
		m    Model
		want []float64
	}{{Logistic4, []float64{4.5, 1.2, 0.3, 0.6}}, {Logistic5, []float64{3, 2.5, -0.2, 0.1, 3}}} {
		c, _ := tc.m.curve()
		y := make([]float64, len(x))
		for i := range x {
			y[i] = c.eval(x[i], tc.want)
		}
		f, err := FitLogistic(tc.m, x, y)
		if err != nil || !f.Converged || f.Start != 0 {
			t.Fatalf("%v: %+v %v", tc.m, f, err)
		}
		for i, w := range tc.want {
			if math.Abs(math.Abs(f.Params[i])-math.Abs(w)) > 1e-6 {
				t.Errorf("%v: params %v want %v", tc.m, f.Params, tc.want)
				break
			}
		}
		if math.Abs(f.Eval(0.5)-c.eval(0.5, tc.want)) > 1e-8 {
			t.Errorf("%v: Eval mismatch", tc.m)
		}
	}
}

func TestFitFallbackToLine(t *testing.T) {
	broken := curve{nParams: 4,
		eval:     func(float64, []float64) float64 { return math.NaN() },
		evalGrad: func(float64, []float64, []float64) float64 { return math.NaN() }}
	pred := []float64{1, 2, 3, 4}
	mos := []float64{2, 4, 5, 8}
	f := fitLogistic(Logistic4, broken, pred, mos, nil)
	if !f.Linear || math.Abs(f.Params[0]-1.9) > 1e-12 || math.Abs(f.Eval(5)-9.5) > 1e-12 {
		t.Errorf("fallback fit %+v", f)
	}
}

// TestFitsTerminate runs both fits on many small adversarial data sets:
// every fit must end (no infinite loop) with finite fitted values.
func TestFitsTerminate(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 34))
	for trial := 0; trial < 300; trial++ {
		n := 3 + r.IntN(40)
		pred, mos := make([]float64, n), make([]float64, n)
		for i := range pred {
			pred[i] = r.NormFloat64()
			switch trial % 6 {
			case 0: // uncorrelated
				mos[i] = r.NormFloat64()
			case 1: // step
				mos[i] = math.Copysign(1, pred[i])
			case 2: // exponential
				mos[i] = math.Exp(2 * pred[i])
			case 3: // heavy ties
				pred[i] = float64(r.IntN(3))
				mos[i] = float64(r.IntN(5))
			case 4: // cubic, anti-correlated
				mos[i] = -pred[i]*pred[i]*pred[i] + 0.1*r.NormFloat64()
			default: // exact line
				mos[i] = 2*pred[i] + 1
			}
		}
		if isConstant(pred) || isConstant(mos) {
			continue
		}
		for _, m := range []Model{Logistic4, Logistic5} {
			f, err := FitLogistic(m, pred, mos)
			if err != nil || !allFinite(f.Fitted) {
				t.Fatalf("trial %d %v: %v %+v", trial, m, err, f)
			}
		}
	}
}

func TestAggregate(t *testing.T) {
	s, err := Aggregate([]float64{4, 1, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	// numpy: mean 2.5, std(ddof=1) 1.2909944487358056
	if s.N != 4 || s.Mean != 2.5 || math.Abs(s.Std-1.2909944487358056) > 1e-15 || s.Min != 1 || s.Max != 4 {
		t.Errorf("%+v", s)
	}
	one, _ := Aggregate([]float64{0.8})
	if !math.IsNaN(one.Std) || one.Mean != 0.8 {
		t.Errorf("single seed %+v", one)
	}
	if _, err := Aggregate(nil); err == nil {
		t.Error("empty: want error")
	}
}

func TestPairedBootstrap(t *testing.T) {
	pred, mos := synth(150, 4)
	r := rand.New(rand.NewPCG(5, 5))
	worse := make([]float64, len(pred))
	for i, p := range pred {
		worse[i] = p + 1.5*r.NormFloat64()
	}
	d, err := PairedBootstrap(pred, worse, mos, SRCC, 400, 11)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := PairedBootstrap(pred, worse, mos, SRCC, 400, 11)
	if d != d2 {
		t.Errorf("not deterministic: %+v %+v", d, d2)
	}
	if d.Value <= 0 || d.CILow <= 0 || d.P > 0.01 || !(d.CILow < d.Value && d.Value < d.CIHigh) {
		t.Errorf("clearly better model: %+v", d)
	}
	same, _ := PairedBootstrap(pred, pred, mos, SRCC, 100, 11)
	if same.Value != 0 || same.P != 1 || same.CILow != 0 || same.CIHigh != 0 {
		t.Errorf("identical models: %+v", same)
	}
}

func TestDependentCorrSymmetry(t *testing.T) {
	a, _ := WilliamsT(0.8, 0.7, 0.6, 50)
	b, _ := WilliamsT(0.7, 0.8, 0.6, 50)
	za, _ := SteigerZ(0.8, 0.7, 0.6, 50)
	zb, _ := SteigerZ(0.7, 0.8, 0.6, 50)
	if math.Abs(a.Stat+b.Stat) > 1e-12 || math.Abs(a.P-b.P) > 1e-12 ||
		math.Abs(za.Stat+zb.Stat) > 1e-12 || a.DF != 47 || !math.IsNaN(za.DF) {
		t.Errorf("asymmetric: %+v %+v %+v %+v", a, b, za, zb)
	}
	// Same correlation with MOS: no evidence of a difference.
	if w, _ := WilliamsT(0.75, 0.75, 0.5, 30); w.Stat != 0 || w.P != 1 {
		t.Errorf("equal r: %+v", w)
	}
}

func TestRankAndKendallSmall(t *testing.T) {
	r := Rank([]float64{3, 1, 3, 2})
	if want := []float64{3.5, 1, 3.5, 2}; !equal(r, want) {
		t.Errorf("Rank = %v want %v", r, want)
	}
	// Brute-force tau-b on random tied data.
	rng := rand.New(rand.NewPCG(8, 8))
	for trial := 0; trial < 50; trial++ {
		n := 3 + rng.IntN(30)
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i], y[i] = float64(rng.IntN(5)), float64(rng.IntN(4))
		}
		got, want := kendallTauB(x, y), bruteTau(x, y)
		if !(math.IsNaN(got) && math.IsNaN(want)) && math.Abs(got-want) > 1e-12 {
			t.Fatalf("tau-b %v want %v for %v %v", got, want, x, y)
		}
	}
}

func bruteTau(x, y []float64) float64 {
	var c, d, tx, ty float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			s := (x[i] - x[j]) * (y[i] - y[j])
			switch {
			case s > 0:
				c++
			case s < 0:
				d++
			}
			if x[i] != x[j] {
				tx++
			}
			if y[i] != y[j] {
				ty++
			}
		}
	}
	return (c - d) / math.Sqrt(tx*ty)
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkCompute500(b *testing.B) {
	pred, mos := synth(500, 6)
	for b.Loop() {
		if _, err := Compute(pred, mos, Options{Resamples: 200, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func statsLinearModel(t *testing.T) *Model {
	t.Helper()
	return statsModel(t, func(c *Config) { c.Heads.StatsLinear, c.Heads.StatsLinearGain = true, 2.5 })
}

func statsLinearWeight(t *testing.T, m *Model) []float64 {
	t.Helper()
	v := m.Store.GetVariable(statsLinearVar)
	if v == nil {
		t.Fatalf("variable %s does not exist", statsLinearVar)
	}
	x, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	return flat(t, x)
}

// heads.stats_linear: the level probabilities are those of the same model
// with a zero weight (its initial value), tilted by t * (LevelScores - 3)
// with t = gain * w . clip((x - mean) / std): computed here by hand from
// the zero-weight probabilities.
func TestStatsLinearTilt(t *testing.T) {
	m := statsLinearModel(t)
	backend := testBackend(t)
	p := NewPredictor(m, backend)
	rng := rand.New(rand.NewPCG(11, 12))
	const b = 3
	batch := randomBatch(m, TaskScore, b, 6, rng)
	batch.Target = nil
	f := m.Cfg.StatsDim()
	mean, std := randomStatsNorm(t, m, rng)
	x := flat(t, batch.Stats)
	x[0] = mean[0] + 9*std[0] // beyond the clip
	xs := make([]float32, len(x))
	for i, v := range x {
		xs[i] = float32(v)
	}
	batch.Stats = tensors.FromFlatDataAndDimensions(xs, b, f)
	probs := func() []float64 { return scoreProbs(t, p, batch) }
	for _, w := range statsLinearWeight(t, m) {
		if w != 0 {
			t.Fatalf("initial weight %v, want zeros", w)
		}
	}
	p0 := probs()

	w := make([]float32, f)
	for j := range w {
		w[j] = float32(0.3 * rng.NormFloat64())
	}
	if err := m.Store.GetVariable(statsLinearVar).SetValue(tensors.FromFlatDataAndDimensions(w, f)); err != nil {
		t.Fatal(err)
	}
	got := probs()
	for i := range b {
		tilt := 0.0
		row := make([]float64, f)
		for j := range f {
			row[j] = float64(xs[i*f+j])
		}
		cpu := StatsZ(row, mean, std) // training's CPU mirror of the graph's standardisation
		for j := range f {
			z := math.Max(-statsClip, math.Min(statsClip, (row[j]-mean[j])/std[j]))
			if math.Abs(cpu[j]-z) > 1e-12 {
				t.Fatalf("StatsZ[%d] = %g, want %g", j, cpu[j], z)
			}
			tilt += 2.5 * float64(w[j]) * z
		}
		checkTilted(t, fmt.Sprintf("video %d", i), p0[i*5:i*5+5], got[i*5:i*5+5], tilt)
	}
}

// checkTilted fails unless the level probabilities got are p0 tilted by
// tilt * (LevelScores - 3) and renormalised.
func checkTilted(t *testing.T, what string, p0, got []float64, tilt float64) {
	t.Helper()
	logits, sum := make([]float64, 5), 0.0
	for k := range 5 {
		logits[k] = math.Log(p0[k]) + tilt*(LevelScores[k]-3)
		sum += math.Exp(logits[k])
	}
	for k := range 5 {
		if want := math.Exp(logits[k]) / sum; math.Abs(got[k]-want) > 2e-5 {
			t.Errorf("%s level %d: prob %.6f, want %.6f (tilt %.4f)", what, k, got[k], want, tilt)
		}
	}
}

// scoreProbs are the level probabilities the predictor gives batch.
func scoreProbs(t *testing.T, p *Predictor, batch *Batch) []float64 {
	t.Helper()
	_, pr, err := p.Score(batch)
	if err != nil {
		t.Fatal(err)
	}
	return flat(t, pr)
}

// The weight trains (heads always do, even with the encoders and projectors
// frozen) and a config without statistics is refused.
func TestStatsLinearTrains(t *testing.T) {
	m := statsLinearModel(t)
	tr := NewTrainer(m, testBackend(t), TrainConfig{LearningRate: 1e-2})
	batch := randomBatch(m, TaskScore, 4, 6, rand.New(rand.NewPCG(13, 14)))
	if _, err := tr.Step(batch); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, w := range statsLinearWeight(t, m) {
		if w != 0 {
			moved++
		}
	}
	if moved == 0 {
		t.Error("a score step left every stats_linear weight at zero")
	}
	if c := ComponentOf(statsLinearVar); c != "heads" {
		t.Errorf("ComponentOf(%s) = %q, want heads", statsLinearVar, c)
	}

	bad := tinyConfig(t)
	bad.Heads.StatsLinear = true
	if _, err := Build(bad); err == nil || !strings.Contains(err.Error(), "heads: stats_linear needs statistics") {
		t.Errorf("stats_linear without stats: err %v", err)
	}
	bad = tinyConfig(t)
	bad.Stats, bad.Heads.StatsLinear, bad.Heads.StatsLinearGain = "nss", true, -1
	if _, err := Build(bad); err == nil || !strings.Contains(err.Error(), "heads: stats_linear_gain -1 must be >= 0") {
		t.Errorf("negative gain: err %v", err)
	}
}

// TiltFor inverts TiltScore, which is 3 at no tilt, symmetric about it and
// bounded by the end levels.
func TestTiltForInvertsTiltScore(t *testing.T) {
	if s := TiltScore(0); math.Abs(s-3) > 1e-12 {
		t.Fatalf("TiltScore(0) = %g, want 3", s)
	}
	for _, tilt := range []float64{0.1, 0.7, 2, 6} {
		if a, b := TiltScore(tilt), TiltScore(-tilt); math.Abs(a+b-6) > 1e-12 || !(a > 3 && a < 5) {
			t.Errorf("TiltScore(+-%g) = %g, %g: want symmetric about 3 inside (1, 5)", tilt, a, b)
		}
	}
	for s := 1.1; s < 4.95; s += 0.1 {
		if got := TiltScore(TiltFor(s)); math.Abs(got-s) > 1e-9 {
			t.Errorf("TiltScore(TiltFor(%g)) = %g", s, got)
		}
	}
	if TiltFor(0) != TiltFor(1.05) || TiltFor(9) != TiltFor(4.95) {
		t.Error("TiltFor does not clamp scores outside (1.05, 4.95)")
	}
}

// SetStatsLinear stores w / gain (the tilt is gain x the stored weights)
// and refuses the wrong length and models without the head.
func TestSetStatsLinear(t *testing.T) {
	m := statsLinearModel(t) // gain 2.5
	f := m.Cfg.StatsDim()
	w := make([]float64, f)
	for i := range w {
		w[i] = float64(i%7) - 3
	}
	if err := m.SetStatsLinear(w); err != nil {
		t.Fatal(err)
	}
	got := statsLinearWeight(t, m)
	for i := range w {
		if math.Abs(got[i]*2.5-w[i]) > 1e-6 {
			t.Fatalf("weight %d: stored %g, want %g / 2.5", i, got[i], w[i])
		}
	}
	if err := m.SetStatsLinear(w[1:]); err == nil || !strings.Contains(err.Error(), "want") {
		t.Errorf("wrong length: err %v", err)
	}
	plain := statsModel(t)
	if err := plain.SetStatsLinear(w); err == nil || !strings.Contains(err.Error(), "heads.stats_linear") {
		t.Errorf("model without heads.stats_linear: err %v", err)
	}
}

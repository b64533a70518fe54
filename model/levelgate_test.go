package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func levelGateModel(t *testing.T, heads string) *Model {
	t.Helper()
	return statsModel(t, func(c *Config) {
		c.Heads.StatsLinear, c.Heads.LevelGate = true, true
		c.Trainable.Heads = heads
	})
}

func setVar(t *testing.T, m *Model, name string, x []float32, dims ...int) {
	t.Helper()
	v := m.Store.GetVariable(name)
	if v == nil {
		t.Fatalf("variable %s does not exist", name)
	}
	if err := v.SetValue(tensors.FromFlatDataAndDimensions(x, dims...)); err != nil {
		t.Fatal(err)
	}
}

// heads.level_gate: at its initial 0 the level probabilities are the tilt's
// alone, softmax(t (LevelScores - 3)) computed here by hand, whatever the
// decoder says; at gate g the logits are g L + tilt, so the probabilities at
// g = 1/2 are the renormalised geometric mean of those at 0 and at 1.
func TestLevelGate(t *testing.T) {
	m := levelGateModel(t, TrainFull)
	p := NewPredictor(m, testBackend(t))
	rng := rand.New(rand.NewPCG(21, 22))
	const b = 3
	batch := randomBatch(m, TaskScore, b, 6, rng)
	batch.Target = nil
	f := m.Cfg.StatsDim()
	mean, std := randomStatsNorm(t, m, rng)
	w := make([]float64, f)
	for j := range w {
		w[j] = 0.4 * rng.NormFloat64()
	}
	if err := m.SetStatsLinear(w); err != nil {
		t.Fatal(err)
	}
	x := flat(t, batch.Stats)

	p0 := scoreProbs(t, p, batch)
	for i := range b {
		tilt := 0.0
		for j, z := range StatsZ(x[i*f:(i+1)*f], mean, std) {
			tilt += w[j] * z
		}
		uniform := []float64{0.2, 0.2, 0.2, 0.2, 0.2}
		checkTilted(t, fmt.Sprintf("video %d at gate 0", i), uniform, p0[i*5:i*5+5], tilt)
	}

	setVar(t, m, levelGateVar, []float32{1})
	p1 := scoreProbs(t, p, batch)
	setVar(t, m, levelGateVar, []float32{0.5})
	half := scoreProbs(t, p, batch)
	differs := false
	for i := range b {
		want, sum := make([]float64, 5), 0.0
		for k := range 5 {
			want[k] = math.Sqrt(p0[i*5+k] * p1[i*5+k])
			sum += want[k]
			differs = differs || math.Abs(p1[i*5+k]-p0[i*5+k]) > 1e-3
		}
		for k := range 5 {
			if got := half[i*5+k]; math.Abs(got-want[k]/sum) > 2e-5 {
				t.Errorf("video %d level %d at gate 1/2: prob %.6f, want %.6f", i, k, got, want[k]/sum)
			}
		}
	}
	if !differs {
		t.Error("gate 1 gives the probabilities of gate 0: the decoder's logits do not reach the score")
	}
}

// The gate is a head: a score step moves it off 0, and with trainable.heads
// frozen it stays; a model without stats_linear is refused.
func TestLevelGateTrains(t *testing.T) {
	for _, heads := range []string{TrainFull, TrainFrozen} {
		m := levelGateModel(t, heads)
		tr := NewTrainer(m, testBackend(t), TrainConfig{LearningRate: 1e-2})
		batch := randomBatch(m, TaskScore, 4, 6, rand.New(rand.NewPCG(23, 24)))
		if _, err := tr.Step(batch); err != nil {
			t.Fatal(err)
		}
		v, err := m.Store.GetVariable(levelGateVar).Value()
		if err != nil {
			t.Fatal(err)
		}
		g := flat(t, v)[0]
		if moved := g != 0; moved != (heads == TrainFull) {
			t.Errorf("trainable.heads %s: gate %g after one score step", heads, g)
		}
	}
	if c := ComponentOf(levelGateVar); c != "heads" {
		t.Errorf("ComponentOf(%s) = %q, want heads", levelGateVar, c)
	}
	bad := tinyConfig(t)
	bad.Stats, bad.Heads.LevelGate = "nss", true
	if _, err := Build(bad); err == nil || !strings.Contains(err.Error(), "heads: level_gate needs stats_linear") {
		t.Errorf("level_gate without stats_linear: err %v", err)
	}
}

package model

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// Acceptance 5: 300 training steps of the tiny model on the configured default
// backend ("go:parallelism=-1") finish without a hang, three runs in a row,
// each on a fresh backend. A watchdog fails the test if one step takes > 20 s.
// It takes ~25 s on 2 cores, so it is not skipped under -short.
func TestBackendSafety300Steps(t *testing.T) {
	const runs, steps, b, l = 3, 300, 2, 8
	for run := range runs {
		cfg := tinyConfig(t)
		backend, err := NewBackend(cfg.Backend)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Build(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(run), 41))
		batches := make([]*Batch, 8)
		for i := range batches {
			batches[i] = randomBatch(m, TaskScore, b, l, rng)
		}
		tr := NewTrainer(m, backend, TrainConfig{LearningRate: 3e-4})
		start := time.Now()
		var first, last float64
		for s := range steps {
			within(t, 20*time.Second, "training step", func() {
				loss, err := tr.Step(batches[s%len(batches)])
				if err != nil {
					t.Fatal(err)
				}
				if math.IsNaN(loss) {
					t.Fatalf("run %d step %d: NaN loss", run, s)
				}
				if s == 0 {
					first = loss
				}
				last = loss
			})
		}
		el := time.Since(start)
		t.Logf("run %d: %d steps in %s (%.1f steps/s), loss %.3f -> %.3f", run, steps, el.Round(time.Millisecond),
			float64(steps)/el.Seconds(), first, last)
		backend.Finalize()
	}
}

package model

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Acceptance 2: with LoRA B = 0 the model's output equals that of the same
// model without adapters (the base decoder) exactly; after training steps the
// base weights are unchanged, B has moved, and the outputs now differ.
func TestLoRAZeroBIsBase(t *testing.T) {
	backend := testBackend(t)
	cfg := tinyConfig(t)
	withLoRA, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.LoRA.Rank, cfg.Trainable.Decoder = 0, TrainFrozen // no adapters: nothing in the decoder trains
	base, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	const b, l = 2, 6
	batch := randomBatch(withLoRA, TaskDescribe, b, l, rng)
	in, err := withLoRA.Inputs(batch)
	if err != nil {
		t.Fatal(err)
	}
	within(t, 90*time.Second, "LoRA test", func() {
		if err := withLoRA.Init(backend); err != nil {
			t.Fatal(err)
		}
		if err := base.DeclareVariables(backend); err != nil {
			t.Fatal(err)
		}
		// The base model gets the same weights (it simply has no lora_A/lora_B).
		for _, v := range base.Variables() {
			src := withLoRA.Store.GetVariable(v.Path())
			if src == nil {
				t.Fatalf("%s missing in the LoRA model", v.Path())
			}
			c, err := src.MustValue().LocalClone()
			if err != nil {
				t.Fatal(err)
			}
			v.MustSetValue(c)
		}
		logits := func(m *Model) []float64 {
			outs, err := forwardExec(t, m, backend, TaskDescribe).Call(in...)
			if err != nil {
				t.Fatal(err)
			}
			return flat(t, outs[1])
		}
		a, z := logits(withLoRA), logits(base)
		for i := range a {
			if a[i] != z[i] {
				t.Fatalf("B = 0: logit %d differs: %v vs base %v", i, a[i], z[i])
			}
		}

		tr := NewTrainer(withLoRA, backend, TrainConfig{LearningRate: 1e-2})
		for range 3 {
			if _, err := tr.Step(randomBatch(withLoRA, TaskScore, b, l, rng)); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range withLoRA.Variables() {
			now := flat(t, v.MustValue())
			if bv := base.Store.GetVariable(v.Path()); bv != nil && !v.Trainable {
				if changed(now, flat(t, bv.MustValue())) {
					t.Errorf("frozen %s changed by training", v.Path())
				}
			}
			if strings.HasSuffix(v.Path(), "/lora_B") && !changed(now, make([]float64, len(now))) {
				t.Errorf("%s still zero after training", v.Path())
			}
			if strings.HasPrefix(v.Path(), "/decoder/") && v.Trainable != strings.Contains(v.Path(), "/lora_") {
				t.Errorf("%s: trainable=%v", v.Path(), v.Trainable)
			}
		}
		if !changed(logits(withLoRA), z) {
			t.Errorf("outputs identical to the base after training")
		}
	})
}

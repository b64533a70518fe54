package generate

import (
	"testing"
)

func counts(t *testing.T, logits []float32, o Options, n int) map[int]int {
	t.Helper()
	rng := rowRNG(o.Seed, 0)
	c := map[int]int{}
	for range n {
		c[pick(logits, o, rng)]++
	}
	return c
}

func TestPick(t *testing.T) {
	logits := []float32{0.5, 3, 1, 2.5, -1, 2.9}
	if got := pick(logits, Options{}, nil); got != 1 {
		t.Errorf("greedy: %d, want 1", got)
	}
	if got := pick(logits, Options{Temperature: 1, TopK: 1}, nil); got != 1 {
		t.Errorf("top-1: %d, want 1", got)
	}
	// Top-k keeps only the k best: ids 1, 5, 3.
	c := counts(t, logits, Options{Temperature: 1, TopK: 3, Seed: 1}, 3000)
	for id := range c {
		if id != 1 && id != 5 && id != 3 {
			t.Errorf("top-3 sampled %d (counts %v)", id, c)
		}
	}
	if len(c) != 3 {
		t.Errorf("top-3 reached %d tokens: %v", len(c), c)
	}
	// Probabilities at T=1 over {3, 2.9, 2.5}: ~0.39, 0.36, 0.24; a nucleus of
	// 0.5 keeps two tokens, one of 0.3 keeps only the best.
	c = counts(t, logits, Options{Temperature: 1, TopK: 3, TopP: 0.5, Seed: 2}, 3000)
	if len(c) != 2 || c[1] == 0 || c[5] == 0 {
		t.Errorf("top-p 0.5: %v, want ids 1 and 5", c)
	}
	c = counts(t, logits, Options{Temperature: 1, TopP: 0.3, Seed: 3}, 200)
	if len(c) != 1 || c[1] != 200 {
		t.Errorf("top-p 0.3: %v, want only id 1", c)
	}
	// Full softmax: frequencies follow the probabilities (id 1: 0.364).
	c = counts(t, logits, Options{Temperature: 1, Seed: 4}, 20000)
	if f := float64(c[1]) / 20000; f < 0.35 || f > 0.38 {
		t.Errorf("P(id 1) = %.3f, want ~0.364", f)
	}
	// Low temperature concentrates on the argmax.
	c = counts(t, logits, Options{Temperature: 0.01, Seed: 5}, 500)
	if c[1] != 500 {
		t.Errorf("T=0.01: %v, want only id 1", c)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{}, {MaxNew: 1, TopK: -1}, {MaxNew: 1, TopP: 1.5}} {
		if o.validate() == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

package generate

import (
	"math"
	"math/rand/v2"
	"slices"
)

// argmax returns the index of the largest logit (the first one on ties).
func argmax(logits []float32) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return best
}

// pick chooses the next token from one row's logits.
func pick(logits []float32, o Options, rng *rand.Rand) int {
	if o.greedy() {
		return argmax(logits)
	}
	// Candidates by decreasing logit (stable: ties keep the lower id first).
	ids := make([]int, len(logits))
	for i := range ids {
		ids[i] = i
	}
	slices.SortStableFunc(ids, func(a, b int) int {
		switch {
		case logits[a] > logits[b]:
			return -1
		case logits[a] < logits[b]:
			return 1
		}
		return 0
	})
	if o.TopK > 0 && o.TopK < len(ids) {
		ids = ids[:o.TopK]
	}
	// Softmax at temperature T over the candidates, in float64.
	p := make([]float64, len(ids))
	top := float64(logits[ids[0]])
	sum := 0.0
	for i, id := range ids {
		p[i] = math.Exp((float64(logits[id]) - top) / o.Temperature)
		sum += p[i]
	}
	if o.TopP > 0 && o.TopP < 1 {
		// Nucleus: the shortest prefix whose mass reaches TopP.
		cum := 0.0
		for i := range p {
			cum += p[i] / sum
			if cum >= o.TopP {
				p, ids = p[:i+1], ids[:i+1]
				break
			}
		}
		sum = 0
		for _, v := range p {
			sum += v
		}
	}
	u := rng.Float64() * sum
	for i, v := range p {
		if u -= v; u < 0 {
			return ids[i]
		}
	}
	return ids[len(ids)-1]
}

// rowRNG is row i's sampling stream, independent of the batch's other rows.
func rowRNG(seed uint64, row int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(row)))
}

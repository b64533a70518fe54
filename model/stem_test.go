package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"

	. "github.com/gomlx/gomlx/core/graph"
)

// TestStemMatchesReference: the pixel encoder's convolution stem equals a
// from-scratch 3x3 same-padded convolution + bias + tanh-GELU (float64).
func TestStemMatchesReference(t *testing.T) {
	const n, s, cin, cout = 2, 5, 3, 4
	rng := rand.New(rand.NewPCG(3, 4))
	x := randn(rng, n*s*s*cin, 1)
	got, w := runGraph(t, rng, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, s, s, cin)},
		func(scope *gm.Scope, in []*Node) *Node { return vit.Stem(scope.In("stem"), in[0], cout) })
	k, b := w["/stem/weight"].data, w["/stem/bias"].data
	if len(k) != 9*cin*cout || len(b) != cout {
		t.Fatalf("stem variables: %d, %d values", len(k), len(b))
	}
	gelu := func(v float64) float64 {
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	}
	maxErr := 0.0
	for i := range n {
		for y := range s {
			for xx := range s {
				for o := range cout {
					acc := b[o]
					for dy := -1; dy <= 1; dy++ {
						for dx := -1; dx <= 1; dx++ {
							sy, sx := y+dy, xx+dx
							if sy < 0 || sy >= s || sx < 0 || sx >= s {
								continue
							}
							for c := range cin {
								acc += x[((i*s+sy)*s+sx)*cin+c] * k[(((dy+1)*3+(dx+1))*cin+c)*cout+o]
							}
						}
					}
					want := gelu(acc)
					maxErr = math.Max(maxErr, math.Abs(got[((i*s+y)*s+xx)*cout+o]-want))
				}
			}
		}
	}
	if maxErr > 1e-12 {
		t.Fatalf("stem differs from the reference convolution by %g", maxErr)
	}
}

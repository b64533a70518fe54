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
// from-scratch 3x3 same-padded convolution + bias + tanh-GELU or ReLU
// (float64), on a non-square input so rows and columns cannot be confused.
func TestStemMatchesReference(t *testing.T) {
	for _, act := range []string{"gelu", "relu"} {
		t.Run(act, func(t *testing.T) { testStem(t, act) })
	}
}

func testStem(t *testing.T, act string) {
	const n, s, s2, cin, cout = 2, 5, 6, 3, 4
	rng := rand.New(rand.NewPCG(3, 4))
	x := randn(rng, n*s*s2*cin, 1)
	got, w := runGraph(t, rng, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, s, s2, cin)},
		func(scope *gm.Scope, in []*Node) *Node { return vit.Stem(scope.In("stem"), in[0], cout, act) })
	k, b := w["/stem/weight"].data, w["/stem/bias"].data
	if len(k) != 9*cin*cout || len(b) != cout {
		t.Fatalf("stem variables: %d, %d values", len(k), len(b))
	}
	f := func(v float64) float64 {
		if act == "relu" {
			return math.Max(v, 0)
		}
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	}
	maxErr := 0.0
	for i := range n {
		for y := range s {
			for xx := range s2 {
				for o := range cout {
					acc := b[o]
					for dy := -1; dy <= 1; dy++ {
						for dx := -1; dx <= 1; dx++ {
							sy, sx := y+dy, xx+dx
							if sy < 0 || sy >= s || sx < 0 || sx >= s2 {
								continue
							}
							for c := range cin {
								acc += x[((i*s+sy)*s2+sx)*cin+c] * k[(((dy+1)*3+(dx+1))*cin+c)*cout+o]
							}
						}
					}
					maxErr = math.Max(maxErr, math.Abs(got[((i*s+y)*s2+xx)*cout+o]-f(acc)))
				}
			}
		}
	}
	if maxErr > 1e-12 {
		t.Fatalf("stem differs from the reference convolution by %g", maxErr)
	}
}

// TestLocalNormMatchesReference: the pixel encoder's local normalisation
// equals a from-scratch per-channel (x - mean) / sqrt(var + eps) over a
// border-clipped w x w window (float64).
func TestLocalNormMatchesReference(t *testing.T) {
	const n, s, ch, w, eps = 2, 6, 3, 3, 1e-3
	rng := rand.New(rand.NewPCG(5, 6))
	x := randn(rng, n*s*s*ch, 1)
	got, _ := runGraph(t, rng, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, s, s, ch)},
		func(_ *gm.Scope, in []*Node) *Node { return vit.LocalNorm(in[0], w, eps) })
	at := func(i, y, xx, c int) float64 { return x[((i*s+y)*s+xx)*ch+c] }
	// window mean of f around (y, xx), clipped at the border
	win := func(y, xx int, f func(sy, sx int) float64) float64 {
		var sum, cnt float64
		for sy := max(0, y-w/2); sy <= min(s-1, y+w/2); sy++ {
			for sx := max(0, xx-w/2); sx <= min(s-1, xx+w/2); sx++ {
				sum += f(sy, sx)
				cnt++
			}
		}
		return sum / cnt
	}
	maxErr := 0.0
	for i := range n {
		for c := range ch {
			mu := func(y, xx int) float64 { return win(y, xx, func(sy, sx int) float64 { return at(i, sy, sx, c) }) }
			for y := range s {
				for xx := range s {
					d := func(sy, sx int) float64 { v := at(i, sy, sx, c) - mu(sy, sx); return v * v }
					want := (at(i, y, xx, c) - mu(y, xx)) / math.Sqrt(win(y, xx, d)+eps)
					maxErr = math.Max(maxErr, math.Abs(got[((i*s+y)*s+xx)*ch+c]-want))
				}
			}
		}
	}
	if maxErr > 1e-10 {
		t.Fatalf("local norm differs from the reference by %g", maxErr)
	}
}

// TestLocalNormKeep: the MSCN map ignores a brightness shift (x + c), so
// pixel embeddings behind local_norm alone do not change with it; with
// local_norm_keep the stem also sees the image (2C input channels), and
// they do.
func TestLocalNormKeep(t *testing.T) {
	const n, s, ch = 2, 8, 3
	rng := rand.New(rand.NewPCG(8, 9))
	x := randn(rng, n*s*s*ch, 0.5)
	shifted := make([]float64, len(x))
	for i, v := range x {
		shifted[i] = v + 0.25
	}
	for _, keep := range []bool{false, true} {
		cfg := vit.Config{PatchSize: 4, Width: 8, Layers: 1, Heads: 2, MLPDim: 16, LayerNormEps: 1e-6, ImageStd: 1,
			StemChannels: 4, StemActivation: "relu", LocalNorm: 3, LocalNormEps: 1e-3, LocalNormKeep: keep}
		emb := func(in []float64) ([]float64, weights) {
			return runGraph(t, rand.New(rand.NewPCG(1, 2)), []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, n, s, s, ch)},
				func(scope *gm.Scope, in []*Node) *Node { return vit.Embeddings(scope, in[0], cfg) })
		}
		a, w := emb(x)
		b, _ := emb(shifted)
		if got, want := len(w["/stem/weight"].data), 9*4*ch*map[bool]int{false: 1, true: 2}[keep]; got != want {
			t.Fatalf("keep=%v: stem weight holds %d values, want %d", keep, got, want)
		}
		maxDiff := 0.0
		for i := range a {
			maxDiff = math.Max(maxDiff, math.Abs(a[i]-b[i]))
		}
		if !keep && maxDiff > 1e-9 {
			t.Errorf("MSCN only: a brightness shift changed the embeddings by %g", maxDiff)
		}
		if keep && maxDiff < 1e-3 {
			t.Errorf("local_norm_keep: a brightness shift changed the embeddings by only %g", maxDiff)
		}
	}
}

package model

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cpllm/cpllm/model/decoder"
	"github.com/cpllm/cpllm/model/layers"
	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Acceptance 3: layers computed by GoMLX (in float64) against the plain-loop
// references of reference_test.go, on random inputs and random weights
// (norm gains and biases included), to 1e-5 relative error (max |diff| / max |ref|).
const relTol = 1e-5

func randn(rng *rand.Rand, n int, std float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * std
	}
	return x
}

// runGraph builds fn over float64 inputs in a fresh store, initialises it,
// replaces every variable with N(0, 0.3^2) values and returns the output and the weights.
func runGraph(t *testing.T, rng *rand.Rand, inputs []*tensors.Tensor, fn func(scope *gm.Scope, in []*Node) *Node) ([]float64, weights) {
	t.Helper()
	return runGraphAs(t, dtypes.Float64, rng, inputs, fn)
}

// runGraphAs is runGraph computing in dtype (float32 or float64): float64
// inputs and weights are rounded to it; the returned weights are the rounded values.
func runGraphAs(t *testing.T, dtype dtypes.DType, rng *rand.Rand, inputs []*tensors.Tensor, fn func(scope *gm.Scope, in []*Node) *Node) ([]float64, weights) {
	t.Helper()
	if dtype == dtypes.Float32 {
		for i, x := range inputs {
			if x.DType() == dtypes.Float64 {
				inputs[i] = tensors.FromFlatDataAndDimensions(to32(flat(t, x)), x.Shape().Dimensions...)
			}
		}
	}
	backend := testBackend(t)
	store := gm.NewStore()
	e, err := gm.NewExec(backend, store, fn)
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, x := range inputs {
		args[i] = x
	}
	var out []*tensors.Tensor
	w := weights{}
	within(t, 30*time.Second, "layer graph", func() {
		if _, err := e.Call(args...); err != nil {
			t.Fatal(err)
		}
		for v := range store.IterVariables() {
			dims := v.Shape().Dimensions
			data := randn(rng, v.Shape().Size(), 0.3)
			switch v.Shape().DType {
			case dtypes.Float64:
				v.MustSetValue(tensors.FromFlatDataAndDimensions(data, dims...))
			case dtypes.Float32:
				d32 := to32(data)
				v.MustSetValue(tensors.FromFlatDataAndDimensions(d32, dims...))
				for i, f := range d32 {
					data[i] = float64(f)
				}
			default:
				continue // RNG state
			}
			w[v.Path()] = varValue{data: data, dims: dims}
		}
		if out, err = e.Call(args...); err != nil {
			t.Fatal(err)
		}
	})
	return flat(t, out[0]), w
}

func relErr(got []float64, want mat) float64 {
	maxDiff, maxRef := 0.0, 0.0
	i := 0
	for _, row := range want {
		for _, v := range row {
			maxDiff = math.Max(maxDiff, math.Abs(got[i]-v))
			maxRef = math.Max(maxRef, math.Abs(v))
			i++
		}
	}
	if i != len(got) {
		return math.Inf(1)
	}
	return maxDiff / maxRef
}

// items splits a flat [N, T, D] into N matrices.
func items(flat []float64, n, t, d int) []mat {
	out := make([]mat, n)
	for i := range n {
		out[i] = toMat(flat[i*t*d:(i+1)*t*d], t, d)
	}
	return out
}

func join(ms []mat) mat {
	var out mat
	for _, m := range ms {
		out = append(out, m...)
	}
	return out
}

func check(t *testing.T, name string, got []float64, want mat) {
	t.Helper()
	if r := relErr(got, want); !(r <= relTol) {
		t.Errorf("%s: relative error %.3g > %g", name, r, relTol)
	} else {
		t.Logf("%s: relative error %.3g", name, r)
	}
}

func TestNumericsNorms(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, tt, d = 3, 5, 16
	x := randn(rng, n*tt*d, 2)
	for i := range x {
		x[i] += 0.7
	}
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, tt, d)}
	got, w := runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node { return layers.LayerNorm(s.In("ln"), in[0], 1e-6) })
	var want []mat
	for _, xi := range items(x, n, tt, d) {
		want = append(want, refLayerNorm(xi, w.vec("/ln/weight"), w.vec("/ln/bias"), 1e-6))
	}
	check(t, "LayerNorm", got, join(want))

	got, w = runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node { return layers.RMSNorm(s.In("rms"), in[0], 1e-6) })
	want = nil
	for _, xi := range items(x, n, tt, d) {
		want = append(want, refRMSNorm(xi, w.vec("/rms/weight"), 1e-6))
	}
	check(t, "RMSNorm", got, join(want))
}

func TestNumericsGeGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, tt, d, hidden = 2, 4, 12, 20
	x := randn(rng, n*tt*d, 1)
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, tt, d)}
	got, w := runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node { return layers.GeGLU(s.In("mlp"), in[0], hidden) })
	var want []mat
	for _, xi := range items(x, n, tt, d) {
		want = append(want, refGeGLU(xi, w.mat("/mlp/gate_proj/weight"), w.mat("/mlp/up_proj/weight"), w.mat("/mlp/down_proj/weight")))
	}
	check(t, "GeGLU", got, join(want))
}

func TestNumericsRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const b, tt, h, hd = 2, 7, 3, 8
	x := randn(rng, b*tt*h*hd, 1)
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, b, tt, h, hd)}
	got, _ := runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node { return layers.RoPE(in[0], 10000) })
	// Reference per (batch, head), then back to [B, T, H*hd] order.
	var want mat
	for bi, xb := range items(x, b, tt, h*hd) {
		_ = bi
		rows := newMat(tt, h*hd)
		for hi := range h {
			r := refRoPE(head(xb, hi, hd), 10000)
			for p := range tt {
				copy(rows[p][hi*hd:], r[p])
			}
		}
		want = append(want, rows...)
	}
	check(t, "RoPE", got, want)
}

func TestNumericsMaskedAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const b, tq, tk, h, kv, hd = 2, 5, 6, 4, 2, 8
	q, k, v := randn(rng, b*tq*h*hd, 1), randn(rng, b*tk*kv*hd, 1), randn(rng, b*tk*kv*hd, 1)
	mask := make([][]bool, tq)
	maskFlat := make([]bool, tq*tk)
	for i := range mask {
		mask[i] = make([]bool, tk)
		for j := range mask[i] {
			mask[i][j] = j == i || rng.IntN(2) == 0
			maskFlat[i*tk+j] = mask[i][j]
		}
	}
	in := []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(q, b, tq, h, hd),
		tensors.FromFlatDataAndDimensions(k, b, tk, kv, hd),
		tensors.FromFlatDataAndDimensions(v, b, tk, kv, hd),
		tensors.FromFlatDataAndDimensions(maskFlat, tq, tk),
	}
	got, _ := runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node { return layers.Attention(in[0], in[1], in[2], in[3]) })
	qs, ks, vs := items(q, b, tq, h*hd), items(k, b, tk, kv*hd), items(v, b, tk, kv*hd)
	var want []mat
	for i := range b {
		want = append(want, refAttention(qs[i], ks[i], vs[i], h, kv, hd, mask, 0))
	}
	check(t, "masked GQA attention", got, join(want))
}

func TestNumericsViTBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	cfg := vit.Config{PatchSize: 4, Width: 16, Layers: 1, Heads: 4, MLPDim: 32, LayerNormEps: 1e-6, ImageStd: 1}
	const n, tt = 2, 5
	x := randn(rng, n*tt*cfg.Width, 1)
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, tt, cfg.Width)}
	got, w := runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node { return vit.Block(s.In("blk"), in[0], cfg) })
	var want []mat
	for _, xi := range items(x, n, tt, cfg.Width) {
		want = append(want, refViTBlock(xi, w, "/blk/", cfg.Heads, cfg.LayerNormEps))
	}
	check(t, "ViT block", got, join(want))
}

func TestNumericsDecoderBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	dec := decoder.Decoder{
		Cfg:   decoder.Config{VocabSize: 10, Width: 24, Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 6, MLPDim: 40, RopeTheta: 10000, RMSNormEps: 1e-6},
		LoRA:  decoder.LoRAConfig{Rank: 2, Alpha: 3, Targets: []string{"q_proj", "k_proj", "v_proj"}},
		DType: dtypes.Float64,
	}
	const n, tt = 2, 6
	x := randn(rng, n*tt*dec.Cfg.Width, 1)
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, tt, dec.Cfg.Width)}
	// LoRA B is randomised too, so the adapter path is exercised.
	got, w := runGraph(t, rng, in, func(s *gm.Scope, in []*Node) *Node {
		return dec.Block(s.In("blk"), in[0], layers.CausalMask(in[0].Graph(), tt), nil)
	})
	var want []mat
	for _, xi := range items(x, n, tt, dec.Cfg.Width) {
		want = append(want, refDecoderBlock(xi, w, "/blk/", 4, 2, 6, 10000, 1e-6, 1.5))
	}
	check(t, "decoder block (GQA, RoPE, LoRA, GeGLU)", got, join(want))
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// The float32 model against the float64 reference: float32 rounding bounds the
// agreement (~1e-7 per operation); 1e-5 relative still holds for a whole block.
func TestNumericsDecoderBlockFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	dec := decoder.Decoder{
		Cfg:   decoder.Config{VocabSize: 10, Width: 32, Layers: 1, Heads: 4, KVHeads: 1, HeadDim: 8, MLPDim: 64, RopeTheta: 10000, RMSNormEps: 1e-6},
		LoRA:  decoder.LoRAConfig{Rank: 4, Alpha: 4, Targets: []string{"q_proj", "k_proj", "v_proj"}},
		DType: dtypes.Float32,
	}
	const n, tt = 2, 9
	x := randn(rng, n*tt*dec.Cfg.Width, 1)
	x32 := to32(x)
	for i := range x {
		x[i] = float64(x32[i])
	}
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, n, tt, dec.Cfg.Width)}
	got, w := runGraphAs(t, dtypes.Float32, rng, in, func(s *gm.Scope, in []*Node) *Node {
		return dec.Block(s.In("blk"), in[0], layers.CausalMask(in[0].Graph(), tt), nil)
	})
	var want []mat
	for _, xi := range items(x, n, tt, dec.Cfg.Width) {
		want = append(want, refDecoderBlock(xi, w, "/blk/", 4, 1, 8, 10000, 1e-6, 1))
	}
	check(t, "float32 decoder block", got, join(want))
}

package vit

import (
	"math"

	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Normalize converts uint8 (or float 0..255) images to dtype and normalises
// them: (v/255 - mean) / std.
func Normalize(images *Node, dtype dtypes.DType, c Config) *Node {
	x := ConvertDType(images, dtype)
	return MulScalar(AddScalar(MulScalar(x, 1/255.0), -c.ImageMean), 1/c.ImageStd)
}

// LocalNorm divisively normalises each channel of images [N, S, S, C] by
// its local mean and variance over a w x w window (same size out; the
// window is clipped at the border and averages only the pixels inside):
// (x - mean) / sqrt(var + eps), var = mean((x - mean_here)^2) over the window.
func LocalNorm(images *Node, w int, eps float64) *Node {
	layers.AssertRank(images, 4, "local norm input")
	d := Sub(images, boxMean(images, w))
	// No parameters before it: stop autodiff from differentiating the filter.
	return StopGradient(Div(d, Sqrt(AddScalar(boxMean(Square(d), w), eps))))
}

// boxMean is the border-clipped w x w mean over axes 1 and 2 of x
// [N, H, W, C], as a separable sum of shifted slices of the zero-padded
// input divided by the in-bounds counts: the pure-Go backend's generic
// ReduceWindow (MeanPool) was slower than the rest of the pixel encoder.
func boxMean(x *Node, w int) *Node {
	g, r := x.Graph(), w/2
	sum := func(x *Node, axis int) *Node {
		n := x.Shape().Dim(axis)
		pads := make([]compute.PadAxis, 4)
		pads[axis] = compute.PadAxis{Start: r, End: r}
		p := Pad(x, ScalarZero(g, x.DType()), pads...)
		var acc *Node
		for o := range w {
			s := SliceAxis(p, axis, AxisRange(o, o+n))
			if acc == nil {
				acc = s
			} else {
				acc = Add(acc, s)
			}
		}
		return acc
	}
	h, wd := x.Shape().Dim(1), x.Shape().Dim(2)
	inv := make([]float64, h*wd) // 1 / in-bounds count per position
	for y := range h {
		for xx := range wd {
			cy := min(h-1, y+r) - max(0, y-r) + 1
			cx := min(wd-1, xx+r) - max(0, xx-r) + 1
			inv[y*wd+xx] = 1 / float64(cy*cx)
		}
	}
	invN := ConvertDType(Reshape(Const(g, inv), 1, h, wd, 1), x.DType())
	return Mul(sum(sum(x, 1), 2), invN)
}

// Stem is a 3x3 convolution (same padding, stride 1) + bias + activation
// (GELU(tanh), or ReLU when act is "relu"): [N, S, S, C] -> [N, S, S, ch].
// Variables: stem/{weight [3,3,C,ch], bias}. The convolution is written as
// its im2col: the 9 shifted copies of the zero-padded input side by side on
// the channel axis, times the kernel reshaped to [9C, ch]. The pure-Go
// backend runs that matrix product in its SIMD kernels, where its generic
// convolution took a third of a 64x64 pixel encoder's training step.
func Stem(scope *model.Scope, images *Node, ch int, act string) *Node {
	layers.AssertRank(images, 4, "stem input")
	n, h, wd, in := images.Shape().Dim(0), images.Shape().Dim(1), images.Shape().Dim(2), images.Shape().Dim(3)
	g := images.Graph()
	w := layers.Var(scope, g, "weight", images.DType(), layers.NormalInit(scope, 1/math.Sqrt(float64(9*in))), 3, 3, in, ch)
	bias := layers.Var(scope, g, "bias", images.DType(), layers.ZeroInit, ch)
	p := Pad(images, ScalarZero(g, images.DType()), compute.PadAxis{}, compute.PadAxis{Start: 1, End: 1},
		compute.PadAxis{Start: 1, End: 1}, compute.PadAxis{})
	cols := make([]*Node, 0, 9)
	for dy := range 3 {
		for dx := range 3 {
			cols = append(cols, Slice(p, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+wd)))
		}
	}
	x := Reshape(Concatenate(cols, -1), n*h*wd, 9*in) // columns ordered (dy, dx, c), as the kernel's [3,3,C] axes
	x = Reshape(layers.Contract(x, []int{1}, nil, Reshape(w, 9*in, ch), []int{0}, nil), n, h, wd, ch)
	x = Add(x, ExpandLeftToRank(bias, 4))
	if act == "relu" {
		return Max(x, ScalarZero(g, x.DType()))
	}
	return layers.GeluTanh(x)
}

// Patchify reshapes images [N, S, S, C] into [N, (S/p)^2, p*p*C] (row-major
// patch grid, each patch flattened row, column, channel).
func Patchify(images *Node, p int) *Node {
	layers.AssertRank(images, 4, "patchify input")
	n, s, ch := images.Shape().Dim(0), images.Shape().Dim(1), images.Shape().Dim(3)
	if images.Shape().Dim(2) != s || s%p != 0 {
		exceptions.Panicf("patchify: images %s must be square with side a multiple of %d", images.Shape(), p)
	}
	gs := s / p
	x := Reshape(images, n, gs, p, gs, p, ch)
	x = TransposeAllDims(x, 0, 1, 3, 2, 4, 5) // [N, gy, gx, py, px, C]
	return Reshape(x, n, gs*gs, p*p*ch)
}

// Embeddings: patchify + linear patch embedding + learned position embedding.
// images [N, S, S, 3] already normalised -> [N, T, D].
func Embeddings(scope *model.Scope, images *Node, c Config) *Node {
	var nss *Node // [N, D]: the image's NSS statistics, added to every token
	if c.LocalNorm > 0 {
		mscn := LocalNorm(images, c.LocalNorm, c.LocalNormEps)
		if c.NSSStats {
			nss = nssEmbedding(scope, images, mscn, c)
		}
		if c.LocalNormKeep {
			mscn = Concatenate([]*Node{images, mscn}, -1)
		}
		images = mscn
	}
	if c.StemChannels > 0 {
		images = Stem(scope.In("stem"), images, c.StemChannels, c.StemActivation)
	}
	patches := Patchify(images, c.PatchSize)
	x := layers.Linear(scope.In("patch_embedding"), patches, c.Width, true)
	t := x.Shape().Dim(1)
	pos := layers.Var(scope.In("position_embedding"), x.Graph(), "weight", x.DType(),
		layers.NormalInit(scope, 0.02), t, c.Width)
	x = Add(x, ExpandLeftToRank(pos, 3))
	if nss != nil {
		x = Add(x, ExpandAxes(nss, 1))
	}
	return x
}

// SelfAttention is multi-head self-attention with biased q/k/v/out projections.
// x [N, T, D] -> [N, T, D].
func SelfAttention(scope *model.Scope, x *Node, heads int) *Node {
	d := x.Shape().Dim(-1)
	q := layers.SplitHeads(layers.Linear(scope.In("q_proj"), x, d, true), heads)
	k := layers.SplitHeads(layers.Linear(scope.In("k_proj"), x, d, true), heads)
	v := layers.SplitHeads(layers.Linear(scope.In("v_proj"), x, d, true), heads)
	o := layers.MergeHeads(layers.Attention(q, k, v, nil))
	return layers.Linear(scope.In("out_proj"), o, d, true)
}

// Block is one pre-LN encoder layer:
// x + attn(ln1(x)), then + mlp(ln2(.)). x [N, T, D] -> [N, T, D].
func Block(scope *model.Scope, x *Node, c Config) *Node {
	layers.AssertLastDim(x, c.Width, "vit block input")
	h := layers.LayerNorm(scope.In("layer_norm1"), x, c.LayerNormEps)
	x = Add(x, SelfAttention(scope.In("self_attn"), h, c.Heads))
	h = layers.LayerNorm(scope.In("layer_norm2"), x, c.LayerNormEps)
	if c.MLPActivation == "gelu_exact" {
		return Add(x, mlpExact(scope.In("mlp"), h, c.MLPDim, c.Width))
	}
	return Add(x, layers.MLP2(scope.In("mlp"), h, c.MLPDim, c.Width))
}

// mlpExact is layers.MLP2 (same variables fc1, fc2) with the erf GELU,
// x/2 (1 + erf(x/sqrt 2)).
func mlpExact(scope *model.Scope, x *Node, hidden, out int) *Node {
	h := layers.Linear(scope.In("fc1"), x, hidden, true)
	h = Mul(MulScalar(h, 0.5), OnePlus(Erf(MulScalar(h, 1/math.Sqrt2))))
	return layers.Linear(scope.In("fc2"), h, out, true)
}

// Encoder runs n blocks under encoder/layers/i.
func Encoder(scope *model.Scope, x *Node, n int, c Config) *Node {
	ls := scope.In("layers")
	for i := range n {
		x = Block(ls.In("%d", i), x, c)
	}
	return x
}

// Forward is the whole ViT: uint8 images [N, S, S, 3] -> tokens [N, T, D]
// (T = PoolTokens when pooling, else (S/p)^2), after post_layernorm.
func Forward(scope *model.Scope, images *Node, dtype dtypes.DType, c Config) *Node {
	return forwardNormalized(scope, Normalize(images, dtype, c), c)
}

// forwardNormalized is Forward on images already normalised to the float dtype.
func forwardNormalized(scope *model.Scope, images *Node, c Config) *Node {
	x := Embeddings(scope.In("embeddings"), images, c)
	x = Encoder(scope.In("encoder"), x, c.Layers, c)
	x = layers.LayerNorm(scope.In("post_layernorm"), x, c.LayerNormEps)
	return Pool(x, c)
}

// Pool average-pools the square token grid of x [N, T, D] to PoolTokens tokens.
func Pool(x *Node, c Config) *Node {
	if c.PoolTokens == 0 || c.PoolTokens == x.Shape().Dim(1) {
		return x
	}
	t := x.Shape().Dim(1)
	side := 0
	for side*side < t {
		side++
	}
	if side*side != t {
		exceptions.Panicf("vit pool: %d tokens are not a square grid", t)
	}
	return layers.PoolTokens(x, layers.PoolMatrix2D(side, c.PoolSide()))
}

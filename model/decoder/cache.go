package decoder

import (
	"math"

	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// KV is one layer's self-attention cache: K and V are [B, KVHeads, Lmax, HeadDim]
// (keys already rotated). Every shape is static: positions are written with a
// one-hot mask instead of DynamicUpdateSlice, which the pure-Go backend lacks.
type KV struct{ K, V *Node }

// EmptyCache returns zero caches of maxLen positions for every layer.
func (d Decoder) EmptyCache(g *Graph, batch, maxLen int) []KV {
	c := d.Cfg
	cache := make([]KV, c.Layers)
	for i := range cache {
		z := Zeros(g, shapes.Make(d.DType, batch, c.KVHeads, maxLen, c.HeadDim))
		cache[i] = KV{K: z, V: z}
	}
	return cache
}

// ForwardCached is Forward for incremental decoding: token j of row b in x
// [B, T, D] sits at absolute position start[b]+j (start int [B]); each layer
// writes its keys/values there into the cache and attends to cache positions
// <= its own. With start = 0 and an empty cache it computes what Forward does.
// It returns the final-normed hidden states [B, T, D] and the updated caches.
func (d Decoder) ForwardCached(scope *model.Scope, x, start *Node, cache []KV, memory *Node) (*Node, []KV) {
	layers.AssertLastDim(x, d.Cfg.Width, "decoder input")
	layers.AssertRank(start, 1, "start positions")
	if len(cache) != d.Cfg.Layers {
		exceptions.Panicf("ForwardCached: %d caches for %d layers", len(cache), d.Cfg.Layers)
	}
	root := d.root(scope)
	b, t := x.Shape().Dim(0), x.Shape().Dim(1)
	pos := Positions(start, t)
	var write *Node
	var mask *Node
	if len(cache) > 0 {
		lmax := cache[0].K.Shape().Dim(2)
		write = OneHot(pos, lmax, x.DType()) // [B, T, Lmax]
		keys := BroadcastToDims(Iota(x.Graph(), shapes.Make(dtypes.Int32, 1, 1, lmax), 2), b, t, lmax)
		mask = LessOrEqual(keys, BroadcastToDims(ExpandAxes(pos, -1), b, t, lmax))
	}
	ls := root.In("layers")
	out := make([]KV, len(cache))
	for i := range d.Cfg.Layers {
		x, out[i] = d.blockCached(ls.In("%d", i), x, pos, write, mask, cache[i], memory)
	}
	return layers.RMSNorm(root.In("norm"), x, d.Cfg.RMSNormEps), out
}

// Positions returns int32 [B, T] with start[b] + j.
func Positions(start *Node, t int) *Node {
	b := start.Shape().Dim(0)
	s := BroadcastToDims(Reshape(ConvertDType(start, dtypes.Int32), b, 1), b, t)
	return Add(s, BroadcastToDims(Iota(start.Graph(), shapes.Make(dtypes.Int32, 1, t), 1), b, t))
}

// blockCached is Block (same variables and operations) with the cached
// self-attention; it also returns the layer's updated cache.
func (d Decoder) blockCached(scope *model.Scope, x, pos, write, mask *Node, cache KV, memory *Node) (*Node, KV) {
	x = d.block(scope, x, memory, func(s *model.Scope, h *Node) *Node {
		var o *Node
		o, cache = d.selfAttentionCached(s, h, pos, write, mask, cache)
		return o
	})
	return x, cache
}

// selfAttentionCached is SelfAttention at positions pos [B, T], reading and
// updating the layer's cache.
func (d Decoder) selfAttentionCached(scope *model.Scope, x, pos, write, mask *Node, cache KV) (*Node, KV) {
	c := d.Cfg
	q, k, v := d.qkv(scope, x)
	q, k = RoPEAt(q, pos, c.RopeTheta), RoPEAt(k, pos, c.RopeTheta)
	cache = KV{K: writeCache(cache.K, k, write), V: writeCache(cache.V, v, write)}
	o := layers.MergeHeads(cachedAttention(q, cache.K, cache.V, mask))
	return d.proj(scope, "o_proj", o, c.Width), cache
}

// writeCache stores kv [B, T, KV, hd] at the one-hot positions write [B, T, L]
// of cache [B, KV, L, hd]: cache*(1-written) + scatter. Each output entry sums
// one non-zero product, so the stored values are exact.
func writeCache(cache, kv, write *Node) *Node {
	b, l := cache.Shape().Dim(0), cache.Shape().Dim(2)
	scattered := layers.Contract(write, []int{1}, []int{0}, kv, []int{1}, []int{0}) // [B, L, KV, hd]
	scattered = TransposeAllDims(scattered, 0, 2, 1, 3)
	written := Reshape(ReduceSum(write, 1), b, 1, l, 1)
	return Add(Mul(cache, OneMinus(written)), scattered)
}

// cachedAttention is layers.Attention with keys/values already in cache layout
// [B, KV, L, hd] and a per-row mask [B, Tq, L]; q is [B, Tq, H, hd].
func cachedAttention(q, k, v, mask *Node) *Node {
	b, tq, h, hd := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2), q.Shape().Dim(3)
	kv, l := k.Shape().Dim(1), k.Shape().Dim(2)
	groups := h / kv
	qg := Reshape(q, b, tq, kv, groups, hd)
	qg = Reshape(TransposeAllDims(qg, 0, 2, 3, 1, 4), b, kv, groups*tq, hd)
	logits := layers.Contract(qg, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [B, KV, G*Tq, L]
	logits = MulScalar(logits, 1/math.Sqrt(float64(hd)))
	g := q.Graph()
	bias := Where(mask, ScalarZero(g, logits.DType()), Scalar(g, logits.DType(), -1e30)) // [B, Tq, L]
	bias = Reshape(BroadcastToDims(Reshape(bias, b, 1, tq, l), b, groups, tq, l), b, 1, groups*tq, l)
	probs := layers.SoftmaxF32(Add(logits, BroadcastToDims(bias, b, kv, groups*tq, l)), -1)
	out := layers.Contract(probs, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B, KV, G*Tq, hd]
	out = Reshape(out, b, kv, groups, tq, hd)
	return Reshape(TransposeAllDims(out, 0, 3, 1, 2, 4), b, tq, h, hd)
}

// RoPEAt is layers.RoPE at explicit positions pos (int [B, T]) instead of
// 0..T-1; angles are computed in float64 as there, so equal positions give
// bit-identical rotations.
func RoPEAt(x, pos *Node, theta float64) *Node {
	layers.AssertRank(x, 4, "rope input")
	b, t, hd := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(3)
	half := hd / 2
	invFreq := make([]float64, half)
	for i := range invFreq {
		invFreq[i] = math.Pow(theta, -2*float64(i)/float64(hd))
	}
	p := BroadcastToDims(Reshape(ConvertDType(pos, dtypes.Float64), b, t, 1), b, t, half)
	angles := Mul(p, BroadcastToDims(Reshape(Const(x.Graph(), invFreq), 1, 1, half), b, t, half))
	cos := Reshape(ConvertDType(Cos(angles), x.DType()), b, t, 1, half)
	sin := Reshape(ConvertDType(Sin(angles), x.DType()), b, t, 1, half)
	x1 := SliceAxis(x, 3, AxisRange(0, half))
	x2 := SliceAxis(x, 3, AxisRange(half, hd))
	return Concatenate([]*Node{
		Sub(Mul(x1, cos), Mul(x2, sin)),
		Add(Mul(x2, cos), Mul(x1, sin)),
	}, 3)
}

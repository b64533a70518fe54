package layers

import (
	"github.com/gomlx/compute/dtypes"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Attention is scaled dot-product attention with grouped queries.
//
//	q: [B, Tq, H, hd]   k, v: [B, Tk, KV, hd]   (H a multiple of KV)
//	mask: nil or bool [Tq, Tk] (true = may attend)
//
// It returns [B, Tq, H, hd]. Query head h uses key/value head h / (H/KV), as in
// Gemma's multi-query (KV=1) and grouped-query attention.
func Attention(q, k, v, mask *Node) *Node {
	AssertRank(q, 4, "attention q")
	AssertRank(k, 4, "attention k")
	b, tq, h, hd := q.Shape().Dim(0), q.Shape().Dim(1), q.Shape().Dim(2), q.Shape().Dim(3)
	tk, kv := k.Shape().Dim(1), k.Shape().Dim(2)
	if h%kv != 0 || k.Shape().Dim(3) != hd || !k.Shape().Equal(v.Shape()) || k.Shape().Dim(0) != b {
		exceptions.Panicf("attention: incompatible q %s, k %s, v %s", q.Shape(), k.Shape(), v.Shape())
	}
	groups := h / kv
	// [B, Tq, KV, G, hd] -> [B, KV, G*Tq, hd]: one batched matmul per (batch, kv head).
	qg := Reshape(q, b, tq, kv, groups, hd)
	qg = Reshape(TransposeAllDims(qg, 0, 2, 3, 1, 4), b, kv, groups*tq, hd)
	kt := TransposeAllDims(k, 0, 2, 1, 3) // [B, KV, Tk, hd]
	vt := TransposeAllDims(v, 0, 2, 1, 3)
	logits := Contract(qg, []int{3}, []int{0, 1}, kt, []int{3}, []int{0, 1}) // [B, KV, G*Tq, Tk]
	logits = MulScalar(logits, 1/math.Sqrt(float64(hd)))
	if mask != nil {
		if mask.Shape().Dim(0) != tq || mask.Shape().Dim(1) != tk {
			exceptions.Panicf("attention: mask %s does not match Tq=%d, Tk=%d", mask.Shape(), tq, tk)
		}
		// Additive bias: 0 where allowed, -1e30 where masked, tiled over the query groups.
		bias := Where(mask, ScalarZero(q.Graph(), logits.DType()), Scalar(q.Graph(), logits.DType(), -1e30))
		bias = Reshape(BroadcastToDims(Reshape(bias, 1, tq, tk), groups, tq, tk), 1, 1, groups*tq, tk)
		logits = Add(logits, bias)
	}
	probs := SoftmaxF32(logits, -1)
	out := Contract(probs, []int{3}, []int{0, 1}, vt, []int{2}, []int{0, 1}) // [B, KV, G*Tq, hd]
	out = Reshape(out, b, kv, groups, tq, hd)
	return Reshape(TransposeAllDims(out, 0, 3, 1, 2, 4), b, tq, h, hd)
}

// CausalMask returns bool [T, T] with true where key position <= query position.
func CausalMask(g *Graph, t int) *Node {
	return LowerTriangular(g, t)
}

// SplitHeads reshapes [B, T, H*hd] to [B, T, H, hd].
func SplitHeads(x *Node, heads int) *Node {
	s := x.Shape()
	if s.Dim(-1)%heads != 0 {
		exceptions.Panicf("SplitHeads: width %d not divisible by %d heads", s.Dim(-1), heads)
	}
	return Reshape(x, s.Dim(0), s.Dim(1), heads, s.Dim(-1)/heads)
}

// MergeHeads reshapes [B, T, H, hd] to [B, T, H*hd].
func MergeHeads(x *Node) *Node {
	s := x.Shape()
	return Reshape(x, s.Dim(0), s.Dim(1), s.Dim(2)*s.Dim(3))
}

// SoftmaxF32 is Softmax computed in float32 when x is bfloat16 (mixed
// precision: exp and the normalising sum need the range and precision; the
// Go backend also has no bfloat16 softmax), returned in x's dtype.
func SoftmaxF32(x *Node, axis int) *Node {
	if x.DType() != dtypes.BFloat16 {
		return Softmax(x, axis)
	}
	return ConvertDType(Softmax(ConvertDType(x, dtypes.Float32), axis), dtypes.BFloat16)
}

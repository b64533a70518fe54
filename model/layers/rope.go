package layers

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// RoPE applies rotary position embeddings to x [B, T, H, hd] for positions
// 0..T-1, in the "rotate half" convention of HF Gemma: with x = [x1, x2] split
// on the last axis, out = [x1 cos - x2 sin, x2 cos + x1 sin], where the angle of
// pair i at position p is p * theta^(-2i/hd).
func RoPE(x *Node, theta float64) *Node {
	AssertRank(x, 4, "rope input")
	g := x.Graph()
	t, hd := x.Shape().Dim(1), x.Shape().Dim(3)
	half := hd / 2
	invFreq := make([]float64, half)
	for i := range invFreq {
		invFreq[i] = math.Pow(theta, -2*float64(i)/float64(hd))
	}
	pos := Iota(g, shapes.Make(dtypes.Float64, t, half), 0)
	angles := Mul(pos, Reshape(Const(g, invFreq), 1, half)) // [T, hd/2], computed in float64
	cos := Reshape(ConvertDType(Cos(angles), x.DType()), 1, t, 1, half)
	sin := Reshape(ConvertDType(Sin(angles), x.DType()), 1, t, 1, half)
	x1 := SliceAxis(x, 3, AxisRange(0, half))
	x2 := SliceAxis(x, 3, AxisRange(half, hd))
	return Concatenate([]*Node{
		Sub(Mul(x1, cos), Mul(x2, sin)),
		Add(Mul(x2, cos), Mul(x1, sin)),
	}, 3)
}

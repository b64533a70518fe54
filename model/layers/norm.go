package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// LayerNorm normalises the last axis to zero mean and unit variance, then
// applies weight (init 1) and bias (init 0).
func LayerNorm(scope *model.Scope, x *Node, eps float64) *Node {
	g := x.Graph()
	d := x.Shape().Dim(-1)
	w := Var(scope, g, "weight", x.DType(), OneInit, d)
	b := Var(scope, g, "bias", x.DType(), ZeroInit, d)
	axis := x.Rank() - 1
	mean := ReduceAndKeep(x, ReduceMean, axis)
	xc := Sub(x, mean)
	variance := ReduceAndKeep(Square(xc), ReduceMean, axis)
	y := Div(xc, Sqrt(AddScalar(variance, eps)))
	return Add(Mul(y, ExpandLeftToRank(w, y.Rank())), ExpandLeftToRank(b, y.Rank()))
}

// RMSNorm is Gemma's RMS normalisation: x / sqrt(mean(x^2) + eps) * (1 + weight),
// weight initialised to 0.
func RMSNorm(scope *model.Scope, x *Node, eps float64) *Node {
	g := x.Graph()
	d := x.Shape().Dim(-1)
	w := Var(scope, g, "weight", x.DType(), ZeroInit, d)
	ms := ReduceAndKeep(Square(x), ReduceMean, x.Rank()-1)
	y := Div(x, Sqrt(AddScalar(ms, eps)))
	return Mul(y, OnePlus(ExpandLeftToRank(w, y.Rank())))
}

package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Linear maps the last axis of x from its width to out: y = x W + b.
// Variables: weight [in, out] (the transpose of a PyTorch nn.Linear weight) and
// bias [out] when useBias.
func Linear(scope *model.Scope, x *Node, out int, useBias bool) *Node {
	g := x.Graph()
	in := x.Shape().Dim(-1)
	w := Var(scope, g, "weight", x.DType(), FanInInit(scope), in, out)
	y := Contract(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
	if useBias {
		b := Var(scope, g, "bias", x.DType(), ZeroInit, out)
		y = Add(y, ExpandLeftToRank(b, y.Rank()))
	}
	return y
}

// MLP2 is Linear -> GELU(tanh) -> Linear, with sub-scopes fc1 and fc2.
func MLP2(scope *model.Scope, x *Node, hidden, out int) *Node {
	h := GeluTanh(Linear(scope.In("fc1"), x, hidden, true))
	return Linear(scope.In("fc2"), h, out, true)
}

package layers

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// GeluTanh is the tanh approximation of GELU used by SigLIP and Gemma
// ("gelu_pytorch_tanh"): 0.5 x (1 + tanh(z)), z = sqrt(2/pi) (x + 0.044715 x^3).
// It is computed as x * sigmoid(2z), the same function (0.5 (1 + tanh z) =
// sigmoid(2z)), because the Go backend's logistic is cheaper than its tanh.
func GeluTanh(x *Node) *Node {
	x3 := Mul(Mul(x, x), x)
	z2 := MulScalar(Add(x, MulScalar(x3, 0.044715)), 2*math.Sqrt(2/math.Pi))
	return Mul(x, Sigmoid(z2))
}

// GeGLU is Gemma's gated MLP: down_proj(gelu(gate_proj(x)) * up_proj(x)),
// without biases.
func GeGLU(scope *model.Scope, x *Node, hidden int) *Node {
	d := x.Shape().Dim(-1)
	gate := GeluTanh(Linear(scope.In("gate_proj"), x, hidden, false))
	up := Linear(scope.In("up_proj"), x, hidden, false)
	return Linear(scope.In("down_proj"), Mul(gate, up), d, false)
}

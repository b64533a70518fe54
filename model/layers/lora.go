package layers

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ParamLoRATrainable is the scope hyperparameter that marks LoRA adapters
// trainable (default) or frozen, apart from the base weights' ParamTrainable:
// a frozen base with trained adapters is the usual fine-tuning setting.
const ParamLoRATrainable = "cpllm_lora_trainable"

// LoRA configures a low-rank adapter: y = x W + (alpha/rank) x A B.
type LoRA struct {
	Rank  int
	Alpha float64
}

// LoRALinear is a bias-free Linear whose base weight keeps the scope's
// ParamTrainable flag plus, when l.Rank > 0, an adapter whose flag is the
// scope's ParamLoRATrainable: lora_A [in, r] ~ N(0, 1/in) and lora_B [r, out]
// = 0, so at initialisation the output equals the base layer's exactly.
func LoRALinear(scope *model.Scope, x *Node, out int, l LoRA) *Node {
	y := Linear(scope, x, out, false)
	if l.Rank <= 0 {
		return y
	}
	g := x.Graph()
	in := x.Shape().Dim(-1)
	train := model.GetParamOr(scope, ParamLoRATrainable, true)
	a := VarTrainable(scope, g, "lora_A", x.DType(), FanInInit(scope), train, in, l.Rank)
	b := VarTrainable(scope, g, "lora_B", x.DType(), ZeroInit, train, l.Rank, out)
	xa := Contract(x, []int{x.Rank() - 1}, nil, a, []int{0}, nil)
	delta := Contract(xa, []int{xa.Rank() - 1}, nil, b, []int{0}, nil)
	return Add(y, MulScalar(delta, l.Alpha/float64(l.Rank)))
}

// Package layers holds the small building blocks shared by cpllm's encoders and
// decoder: linear maps, normalisations, activations, attention, rotary
// embeddings, LoRA and token pooling. Every function works on the dtype of its
// input, creates its variables under the scope it is given (HF-style names:
// "weight", "bias"), and asserts the shapes it relies on.
package layers

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// ParamTrainable is the scope hyperparameter that marks the variables created
// under a scope as trainable (default) or frozen. It is inherited by sub-scopes,
// so `decoder.SetParam(ParamTrainable, false)` freezes a whole decoder (its
// LoRA adapters follow ParamLoRATrainable instead).
const ParamTrainable = "cpllm_trainable"

// Init builds the initial value of a variable of the given shape.
type Init = model.VariableInitializer

// NormalInit draws from N(0, std^2) using the store's random state.
func NormalInit(scope *model.Scope, std float64) Init {
	store := scope.Store()
	return func(g *Graph, shape shapes.Shape) *Node {
		return MulScalar(store.RandomNormal(g, shape), std)
	}
}

// FanInInit draws from N(0, 1/fan_in), fan_in being the first axis of a weight.
func FanInInit(scope *model.Scope) Init {
	store := scope.Store()
	return func(g *Graph, shape shapes.Shape) *Node {
		return MulScalar(store.RandomNormal(g, shape), 1/math.Sqrt(float64(shape.Dimensions[0])))
	}
}

// ZeroInit initialises with zeros.
func ZeroInit(g *Graph, shape shapes.Shape) *Node { return Zeros(g, shape) }

// OneInit initialises with ones.
func OneInit(g *Graph, shape shapes.Shape) *Node { return Ones(g, shape) }

// Var creates (or reuses) the variable `name` in scope, with the trainable flag
// taken from the scope's ParamTrainable, and returns its value in graph g.
func Var(scope *model.Scope, g *Graph, name string, dtype dtypes.DType, init Init, dims ...int) *Node {
	return VarTrainable(scope, g, name, dtype, init, model.GetParamOr(scope, ParamTrainable, true), dims...)
}

// VarTrainable is Var with an explicit trainable flag. A bfloat16 variable is
// kept as float32 (mixed precision: the master weights and the optimizer
// state stay exact) and cast to bfloat16 where it is used.
func VarTrainable(scope *model.Scope, g *Graph, name string, dtype dtypes.DType, init Init, trainable bool, dims ...int) *Node {
	store := dtype
	if dtype == dtypes.BFloat16 {
		store = dtypes.Float32
	}
	v := scope.WithInitializer(init).VariableWithShape(name, shapes.Make(store, dims...))
	v.SetTrainable(trainable)
	if store != dtype {
		return ConvertDType(v.NodeValue(g), dtype)
	}
	return v.NodeValue(g)
}

// AssertLastDim panics with a readable message unless x's last axis is dim.
func AssertLastDim(x *Node, dim int, what string) {
	if x.Shape().Dim(-1) != dim {
		exceptions.Panicf("%s: got shape %s, want last dimension %d", what, x.Shape(), dim)
	}
}

// AssertRank panics unless x has the given rank.
func AssertRank(x *Node, rank int, what string) {
	if x.Rank() != rank {
		exceptions.Panicf("%s: got shape %s, want rank %d", what, x.Shape(), rank)
	}
}

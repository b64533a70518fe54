package train

import (
	"github.com/cpllm/cpllm/model"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Exponential moving average of the trainable weights (Polyak averaging):
// after each optimizer update, ema = d*ema + (1-d)*w. Validation and the best
// checkpoint use the averaged weights: on small noisy runs they score
// steadier than the last iterate. The averages live in the store under /ema
// (non-trainable), so step checkpoints carry them and resume stays exact;
// model.SwapEMA exchanges them with the weights.

const emaPrefix = model.EMAPrefix

// emaVar is v's running average, created from v's current value.
func emaVar(store *gm.Store, v *gm.Variable) *gm.Variable {
	path := emaPrefix + v.Path()
	if e := store.GetVariable(path); e != nil {
		return e
	}
	t, err := v.Value()
	if err == nil {
		t, err = t.LocalClone()
	}
	if err != nil {
		exceptions.Panicf("ema of %s: %v", v.Path(), err)
	}
	e, err := store.CreateVariable(path, t)
	if err != nil {
		exceptions.Panicf("ema of %s: %v", v.Path(), err)
	}
	return e.SetTrainable(false)
}

// updateEMA adds the averaging of vars (after their update in g) to the graph.
func updateEMA(store *gm.Store, g *Graph, vars []*gm.Variable, decay float64) {
	for _, v := range vars {
		e := emaVar(store, v)
		w := v.NodeValue(g)
		avg := ConvertDType(e.NodeValue(g), w.DType())
		avg = Add(MulScalar(avg, decay), MulScalar(w, 1-decay))
		e.SetNodeValue(ConvertDType(avg, e.DType()))
	}
}

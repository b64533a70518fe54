package train

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Exponential moving average of the trainable weights (Polyak averaging):
// after each optimizer update, ema = d*ema + (1-d)*w. Validation and the best
// checkpoint use the averaged weights: on small noisy runs they score
// steadier than the last iterate. The averages live in the store under /ema
// (non-trainable), so step checkpoints carry them and resume stays exact.

const emaPrefix = "/ema"

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

// swapEMA exchanges every trainable weight with its average (a second call
// swaps back). Variables without an average (never trained yet) stay.
func swapEMA(store *gm.Store) error {
	for v := range store.IterVariables() {
		if !v.Trainable {
			continue
		}
		e := store.GetVariable(emaPrefix + v.Path())
		if e == nil {
			continue
		}
		a, err := v.Value()
		if err != nil {
			return fmt.Errorf("ema swap %s: %w", v.Path(), err)
		}
		b, err := e.Value()
		if err != nil {
			return fmt.Errorf("ema swap %s: %w", e.Path(), err)
		}
		if err := v.SetValuePreservingOld(b); err != nil {
			return err
		}
		if err := e.SetValuePreservingOld(a); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"math"
	"strings"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// hostInit declares the model's variables and fills them on the host:
// matrices uniform in +-sqrt(3/fan_in), norm scales 1, other vectors 0.
// GoMLX's initialiser graph took 128 s and 3.6x the weights' memory for the
// one-layer paper piece on the pure-Go backend; the benchmark times the
// model, not the initialiser. Float32 variables only (bfloat16 compute keeps
// float32 weights); others keep the graph initialiser.
func hostInit(m *model.Model, backend compute.Backend) error {
	if err := m.DeclareVariables(backend); err != nil {
		return err
	}
	rng := uint64(0x9e3779b97f4a7c15)
	for v := range m.Store.IterVariables() {
		if v.HasValue() || v.DType() != dtypes.Float32 {
			continue
		}
		t, err := tensors.FromShapeForBackend(backend, 0, v.Shape())
		if err != nil {
			return err
		}
		fill := fillFor(v.Path(), v.Shape().Dimensions)
		err = tensors.MutableFlatData(t, func(flat []float32) {
			for i := range flat {
				rng ^= rng << 13
				rng ^= rng >> 7
				rng ^= rng << 17
				flat[i] = fill(rng)
			}
		})
		if err != nil {
			return err
		}
		if err := v.SetValue(t); err != nil {
			return err
		}
	}
	return m.Store.InitializeVariables(backend, nil)
}

// fillFor returns the value generator of one variable from its path and shape.
func fillFor(path string, dims []int) func(uint64) float32 {
	if len(dims) < 2 {
		v := float32(0)
		if strings.Contains(path, "scale") || strings.Contains(path, "gamma") {
			v = 1
		}
		return func(uint64) float32 { return v }
	}
	fanIn := 1
	for _, d := range dims[:len(dims)-1] {
		fanIn *= d
	}
	a := math.Sqrt(3 / float64(fanIn))
	return func(r uint64) float32 { return float32(a * (2*float64(r>>11)/(1<<53) - 1)) }
}

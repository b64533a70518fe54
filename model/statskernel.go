package model

import (
	"fmt"
	"math"

	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// heads.stats_kernel: beside the linear path, a kernel ridge reading of the
// 45 hand-made statistics, one per domain (videos, still images). Fixed
// regressions on the training pool rank KoNViD-1k and CLIVE better when a
// linear reading of all the features is averaged with an RBF kernel ridge
// of the hand-made statistics than with either alone
// (experiments/results/real-gate/ridge.md); the kernel part is a closed-form
// fit (train stats_linear_init: ridge) and stays fixed while the network
// trains, like the statistics' standardisation.

// StatsKernelDims is how many leading statistics the kernel reads: the 45
// hand-made ones that every statistics kind with a still-image indicator
// starts with.
const StatsKernelDims = 45

// statsKernelScope holds the kernel's supports [S, StatsKernelDims] (the
// standardised statistics of training records), their coefficients [S]
// (0 for an unused slot), their domain [S] (1 still image, 0 video) and
// the RBF widths [2] (videos, still images). Not trainable.
const statsKernelScope = "stats_kernel"

// StatsKernel is a fitted kernel reading: the tilt of a record with
// standardised statistics z and still-image indicator s is
// sum_i Alpha_i exp(-Gamma[s] |z[:45] - Support_i|^2) over the supports of
// the same domain (Still_i == s).
type StatsKernel struct {
	Support [][]float64
	Alpha   []float64
	Still   []float64
	Gamma   [2]float64
}

// Tilt is the kernel's tilt for standardised statistics z and still-image
// indicator s (0 or 1): the formula the graph computes.
func (k StatsKernel) Tilt(z []float64, s float64) float64 {
	var t float64
	for i, sup := range k.Support {
		if k.Still[i] != s {
			continue
		}
		var d2 float64
		for j, v := range sup {
			d2 += (z[j] - v) * (z[j] - v)
		}
		t += k.Alpha[i] * math.Exp(-k.Gamma[int(s)]*d2)
	}
	return t
}

// kernelTilt is heads.stats_kernel's tilt [B] of statistics stats [B, F]
// with standardised values z [B, F].
func (m *Model) kernelTilt(scope *gm.Scope, stats, z *Node) *Node {
	f, n := m.Cfg.StatsDim(), m.Cfg.Heads.StatsKernel
	g := z.Graph()
	ks := scope.At(statsKernelScope)
	sup := layers.VarTrainable(ks, g, "support", dtypes.Float32, layers.ZeroInit, false, n, StatsKernelDims)
	alpha := layers.VarTrainable(ks, g, "alpha", dtypes.Float32, layers.ZeroInit, false, n)
	dom := layers.VarTrainable(ks, g, "still", dtypes.Float32, layers.ZeroInit, false, n)
	gamma := layers.VarTrainable(ks, g, "gamma", dtypes.Float32, layers.ZeroInit, false, 2)

	x := Slice(z, AxisRange(), AxisRange(0, StatsKernelDims))      // [B, 45]
	s := Reshape(Slice(stats, AxisRange(), AxisElem(f-1)), -1)     // [B]
	cross := layers.Contract(x, []int{1}, nil, sup, []int{1}, nil) // [B, S]
	xx := ReduceSum(Square(x), 1)                                  // [B]
	ss := ReduceSum(Square(sup), 1)                                // [S]
	d2 := MaxScalar(Sub(Add(ExpandAxes(xx, 1), ExpandAxes(ss, 0)), MulScalar(cross, 2)), 0)
	gv, gs := Slice(gamma, AxisElem(0)), Slice(gamma, AxisElem(1)) // [1] each
	gb := Add(Mul(OneMinus(s), gv), Mul(s, gs))                    // [B]
	same := Add(Mul(ExpandAxes(s, 1), ExpandAxes(dom, 0)),
		Mul(ExpandAxes(OneMinus(s), 1), ExpandAxes(OneMinus(dom), 0))) // [B, S]
	k := Mul(Exp(Neg(Mul(ExpandAxes(gb, 1), d2))), same)
	return layers.Contract(k, []int{1}, nil, alpha, []int{0}, nil) // [B]
}

// SetStatsKernel stores a fitted kernel reading after Init (training's
// stats_linear_init), its unused slots zero.
func (m *Model) SetStatsKernel(k StatsKernel) error {
	n := m.Cfg.Heads.StatsKernel
	if n == 0 {
		return fmt.Errorf("model: stats kernel set on a model without heads.stats_kernel")
	}
	if len(k.Support) > n {
		return fmt.Errorf("model: %d kernel supports, heads.stats_kernel holds %d: raise it to at least the scored training records", len(k.Support), n)
	}
	if len(k.Alpha) != len(k.Support) || len(k.Still) != len(k.Support) {
		return fmt.Errorf("model: %d kernel supports with %d coefficients and %d domains", len(k.Support), len(k.Alpha), len(k.Still))
	}
	sup, alpha, dom := make([]float32, n*StatsKernelDims), make([]float32, n), make([]float32, n)
	for i, row := range k.Support {
		if len(row) != StatsKernelDims {
			return fmt.Errorf("model: kernel support %d has %d values, want %d", i, len(row), StatsKernelDims)
		}
		if k.Still[i] != 0 && k.Still[i] != 1 {
			return fmt.Errorf("model: kernel support %d has domain %g, want 0 (video) or 1 (still image)", i, k.Still[i])
		}
		for j, v := range row {
			sup[i*StatsKernelDims+j] = float32(v)
		}
		alpha[i], dom[i] = float32(k.Alpha[i]), float32(k.Still[i])
	}
	for _, v := range append(append([]float64{}, k.Alpha...), k.Gamma[:]...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("model: stats kernel value %g", v)
		}
	}
	for name, x := range map[string]*tensors.Tensor{
		"support": tensors.FromFlatDataAndDimensions(sup, n, StatsKernelDims),
		"alpha":   tensors.FromFlatDataAndDimensions(alpha, n),
		"still":   tensors.FromFlatDataAndDimensions(dom, n),
		"gamma":   tensors.FromFlatDataAndDimensions([]float32{float32(k.Gamma[0]), float32(k.Gamma[1])}, 2),
	} {
		v := m.Store.GetVariable("/" + statsKernelScope + "/" + name)
		if v == nil {
			return fmt.Errorf("model: variable /%s/%s does not exist (Init first)", statsKernelScope, name)
		}
		if err := v.SetValue(x); err != nil {
			return err
		}
	}
	return nil
}

package model

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// ModelScopes are the top-level scopes holding model weights (everything else
// in the store, e.g. optimizer moments and the global step, is training state).
var ModelScopes = []string{"context_encoder", "pixel_encoder", "projector", "fusion", "decoder", "heads"}

// IsModelVariable reports whether a variable path belongs to the model weights.
func IsModelVariable(path string) bool {
	for _, s := range ModelScopes {
		if strings.HasPrefix(path, "/"+s+"/") {
			return true
		}
	}
	return false
}

// Variables returns the model's weights (created so far), in creation order.
func (m *Model) Variables() []*gm.Variable {
	var vs []*gm.Variable
	for v := range m.Store.IterVariables() {
		if IsModelVariable(v.Path()) {
			vs = append(vs, v)
		}
	}
	return vs
}

// DeclareVariables builds (without compiling or running) the graph of every task
// on backend so that all variables exist with their shapes; values are not
// initialised. Panics in graph building are returned as errors.
func (m *Model) DeclareVariables(backend compute.Backend) (err error) {
	if backend.Capabilities().PreferConstantsForVariables {
		// ONNX Runtime embeds frozen variables of inference graphs as
		// constants, which needs values this graph does not have yet: the
		// shapes are the same on the Go backend.
		if backend, err = declareBackend(); err != nil {
			return err
		}
	}
	return exceptions.TryCatch[error](func() {
		g := NewGraph(backend, "declare_variables")
		defer g.Finalize()
		gm.SetStore(g, m.Store)
		scope := m.Store.RootScope()
		frames, patches, tokens := m.InputShapes(1, 2)
		video := func(tag string) Video {
			var v Video
			if m.Variant.Context {
				v.Frames = Parameter(g, "frames"+tag, frames)
			}
			if m.Variant.Pixel {
				v.Patches = Parameter(g, "patches"+tag, patches)
			}
			if f := m.Cfg.StatsDim(); f > 0 {
				v.Stats = Parameter(g, "stats"+tag, shapes.Make(dtypes.Float32, 1, f))
			}
			return v
		}
		tok := Parameter(g, "tokens", tokens)
		pos := Parameter(g, "answer_pos", shapes.Make(dtypes.Int32, 1))
		va := video("_a")
		hidden := m.Hidden(scope, []Video{va, video("_b")}, tok)
		m.ScoreLogits(scope, hidden, pos, va.Stats)
		m.RegressionScore(scope, hidden, pos)
		m.PairLogits(scope, hidden, pos)
	})
}

// Init declares all variables and initialises those without a value. The
// initial values are always drawn on the pure-Go backend and handed to
// backend as host tensors: each backend has its own random generator (ONNX
// Runtime's graph RNG is SplitMix64, XLA's is Philox), so drawing them there
// would give one seed different weights on each backend.
func (m *Model) Init(backend compute.Backend) error {
	if err := m.DeclareVariables(backend); err != nil {
		return err
	}
	initB, err := declareBackend()
	if err != nil {
		return err
	}
	if backend.Name() == initB.Name() {
		return m.Store.InitializeVariables(backend, nil)
	}
	var fresh []*gm.Variable
	for v := range m.Store.IterVariables() {
		if !v.HasValue() {
			fresh = append(fresh, v)
		}
	}
	if err := m.Store.InitializeVariables(initB, nil); err != nil {
		return err
	}
	for _, v := range fresh {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("init %s: %w", v.Path(), err)
		}
		if err := t.ToLocal(); err != nil {
			return fmt.Errorf("init %s: moving to host: %w", v.Path(), err)
		}
	}
	return nil
}

// Counts returns the number of trainable and frozen model parameters.
func (m *Model) Counts() (trainable, frozen int64) {
	c := m.ParamCounts()
	return c.Trainable, c.Total - c.Trainable
}

// ComponentCount is one component's parameters under its trainable setting.
type ComponentCount struct {
	Component string `json:"component"` // one of Components
	Setting   string `json:"setting"`   // full | frozen | lora
	Total     int64  `json:"total"`
	Trainable int64  `json:"trainable"`
}

// ParamCounts are a model's parameter counts, whole and per component.
type ParamCounts struct {
	Total      int64            `json:"total"`
	Trainable  int64            `json:"trainable"`
	Components []ComponentCount `json:"components"` // every entry of Components, in order
}

// ParamCounts counts the model's variables created so far (DeclareVariables
// creates them all, as shapes) by their trainable flags.
func (m *Model) ParamCounts() ParamCounts {
	c := ParamCounts{Components: make([]ComponentCount, len(Components))}
	index := map[string]int{}
	for i, name := range Components {
		c.Components[i] = ComponentCount{Component: name, Setting: m.Cfg.Trainable.Setting(name)}
		index[name] = i
	}
	for _, v := range m.Variables() {
		n := int64(v.Shape().Size())
		cc := &c.Components[index[ComponentOf(v.Path())]]
		cc.Total += n
		c.Total += n
		if v.Trainable {
			cc.Trainable += n
			c.Trainable += n
		}
	}
	return c
}

// declareBackend is the pure-Go backend that declares shapes (graphs built,
// never run) and draws initial values for every backend.
var declareBackend = sync.OnceValues(func() (compute.Backend, error) { return NewBackend(GoBackend) })

// CountParams builds the variables of cfg's model (shapes only, nothing is
// initialised, trained or run) and returns its trainable and frozen parameter counts.
func CountParams(cfg Config) (trainable, frozen int64, err error) {
	c, err := CountParamsDetail(cfg)
	return c.Trainable, c.Total - c.Trainable, err
}

// CountParamsDetail is CountParams per component. Declaring variables
// allocates no values, so a paper-size config is counted in little memory.
func CountParamsDetail(cfg Config) (ParamCounts, error) {
	m, err := Build(cfg)
	if err != nil {
		return ParamCounts{}, err
	}
	backend, err := declareBackend()
	if err != nil {
		return ParamCounts{}, err
	}
	if err := m.DeclareVariables(backend); err != nil {
		return ParamCounts{}, fmt.Errorf("building %s: %w", m.Variant.Name(), err)
	}
	return m.ParamCounts(), nil
}

package model

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TrainConfig configures the tests' optimiser.
type TrainConfig struct {
	LearningRate float64 // AdamW learning rate
	WeightDecay  float64 // AdamW decoupled weight decay
}

// Trainer runs AdamW training steps on the trainable variables only (encoders,
// projectors, LoRA adapters, cross-attention and heads; the decoder base is
// frozen), for the tests; training proper is package train.
type Trainer struct {
	M       *Model
	Backend compute.Backend
	opt     optimizer.Interface
	execs   map[Task]*gm.Exec
}

// NewTrainer creates a trainer; graphs are compiled on the first step of each task.
func NewTrainer(m *Model, backend compute.Backend, tc TrainConfig) *Trainer {
	opt := optimizer.Adam().LearningRate(tc.LearningRate).WeightDecay(tc.WeightDecay).Done()
	return &Trainer{M: m, Backend: backend, opt: opt, execs: map[Task]*gm.Exec{}}
}

func (t *Trainer) exec(task Task) (*gm.Exec, error) {
	if e := t.execs[task]; e != nil {
		return e, nil
	}
	e, err := gm.NewExec(t.Backend, t.M.Store, func(scope *gm.Scope, in []*Node) *Node {
		g := in[0].Graph()
		t.M.Store.SetTraining(g, true)
		out := t.M.TaskGraph(scope, task, in)
		t.opt.UpdateGraph(scope, g, out.Loss)
		return out.Loss
	})
	if err != nil {
		return nil, err
	}
	t.execs[task] = e.WithName("train_" + task.String())
	return t.execs[task], nil
}

// Step runs one training step on b and returns the loss before the update.
func (t *Trainer) Step(b *Batch) (loss float64, err error) {
	in, err := t.M.Inputs(b)
	if err != nil {
		return 0, err
	}
	e, err := t.exec(b.Task)
	if err != nil {
		return 0, err
	}
	out, err := e.Call(in...)
	if err != nil {
		return 0, fmt.Errorf("train step %s: %w", b.Task, err)
	}
	return ScalarValue(out[0])
}

package model

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Predictor runs inference graphs (no labels, no updates). Batches need the
// videos, Tokens and (score, pair) AnswerPos.
type Predictor struct {
	M       *Model
	Backend compute.Backend
	execs   map[Task]*gm.Exec
}

// NewPredictor creates a predictor; graphs compile on first use.
func NewPredictor(m *Model, backend compute.Backend) *Predictor {
	return &Predictor{M: m, Backend: backend, execs: map[Task]*gm.Exec{}}
}

func (p *Predictor) run(b *Batch) ([]*tensors.Tensor, error) {
	m := p.M
	e := p.execs[b.Task]
	if e == nil {
		if err := m.ensureInit(p.Backend); err != nil {
			return nil, err
		}
		task := b.Task
		var err error
		e, err = gm.NewExec(p.Backend, m.Store, func(scope *gm.Scope, in []*Node) []*Node {
			video, in := m.takeVideo(in)
			videos := []Video{video}
			if task == TaskPair {
				var vb Video
				vb, in = m.takeVideo(in)
				videos = append(videos, vb)
			}
			hidden := m.Hidden(scope, videos, in[0])
			switch task {
			case TaskScore:
				level := m.ScoreLogits(scope, hidden, in[1], video.Stats)
				return []*Node{ExpectedScore(level), Softmax(level, -1)}
			case TaskPair:
				return []*Node{Softmax(toF32(m.PairLogits(scope, hidden, in[1])), -1)}
			}
			return []*Node{toF32(m.LMLogits(scope, hidden))}
		})
		if err != nil {
			return nil, err
		}
		p.execs[b.Task] = e
	}
	in, err := m.flatten(b, false)
	if err != nil {
		return nil, err
	}
	out, err := e.Call(in...)
	if err != nil {
		return nil, fmt.Errorf("predict %s: %w", b.Task, err)
	}
	return out, nil
}

// Score returns the expected scores [B] in [1, 5] and the level probabilities
// [B, 5] (ordered as LevelWords) as tensors of the model dtype.
func (p *Predictor) Score(b *Batch) (scores, probs *tensors.Tensor, err error) {
	b.Task = TaskScore
	out, err := p.run(b)
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// Pair returns [B, 2] probabilities of "first" and "second" (renormalised over the two words).
func (p *Predictor) Pair(b *Batch) (*tensors.Tensor, error) {
	b.Task = TaskPair
	out, err := p.run(b)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Logits returns the next-token logits [B, L, V] at every text position.
func (p *Predictor) Logits(b *Batch) (*tensors.Tensor, error) {
	b.Task = TaskDescribe
	out, err := p.run(b)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ScalarValue reads a float32 or float64 scalar tensor (a loss, a norm).
func ScalarValue(t *tensors.Tensor) (v float64, err error) {
	err = exceptions.TryCatch[error](func() {
		switch x := t.Value().(type) {
		case float32:
			v = float64(x)
		case float64:
			v = x
		default:
			exceptions.Panicf("scalar: unexpected %T", x)
		}
	})
	return
}

// ensureInit initialises a model whose variables were never declared or
// given values. The Go backend would do it lazily at the first call, but
// backends that embed frozen variables as constants (ONNX Runtime) need the
// values while the graph is built.
func (m *Model) ensureInit(backend compute.Backend) error {
	vs := m.Variables()
	missing := len(vs) == 0
	for _, v := range vs {
		missing = missing || !v.HasValue()
	}
	if !missing {
		return nil
	}
	return m.Init(backend)
}

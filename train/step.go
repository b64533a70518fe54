package train

import (
	"fmt"
	"math"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// LRAt is the learning rate of step (0-based): linear warmup from lr/warmup to
// lr, then cosine decay to lr*min_lr_ratio at the last step (or constant).
func (c Config) LRAt(step int) float64 {
	if c.WarmupSteps > 0 && step < c.WarmupSteps {
		return c.LR * float64(step+1) / float64(c.WarmupSteps)
	}
	if c.Schedule != "cosine" {
		return c.LR
	}
	span := c.Steps - c.WarmupSteps
	if span <= 1 {
		return c.LR
	}
	p := float64(step-c.WarmupSteps) / float64(span-1)
	lo := c.LR * c.MinLRRatio
	return lo + (c.LR-lo)*0.5*(1+math.Cos(math.Pi*p))
}

// TaskAt is the task of step: a stateless draw from (seed, step) against the
// normalised mix ratios, so a resumed run sees the same sequence of tasks.
func (c Config) TaskAt(step int) model.Task {
	u := float64(splitmix(c.Seed^0x7a5c3e1d^uint64(step)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	sum := 0.0
	for t := range model.Task(numTasks) {
		sum += c.Mix.of(t)
	}
	acc := 0.0
	last := model.TaskScore
	for t := range model.Task(numTasks) {
		if c.Mix.of(t) <= 0 {
			continue
		}
		last = t
		acc += c.Mix.of(t) / sum
		if u < acc {
			return last
		}
	}
	return last
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// gradUpdater is implemented by GoMLX's Adam: it takes precomputed gradients,
// which lets us clip them by their global norm first.
type gradUpdater interface {
	UpdateGraphWithGradients(scope *gm.Scope, grads []*Node, lossDType dtypes.DType)
}

// stepper compiles one training graph per task: weighted loss, gradients of
// the trainable variables, global-norm clipping, AdamW with the learning
// rate fed as an input (so the schedule lives on the host and is exact).
type stepper struct {
	m       *model.Model
	backend compute.Backend
	cfg     Config
	opt     optimizer.Interface
	execs   map[execKey]*gm.Exec
}

func newStepper(m *model.Model, backend compute.Backend, cfg Config) *stepper {
	// The lr given here only seeds the variable; every step overrides it.
	opt := optimizer.Adam().LearningRate(cfg.LR).WeightDecay(cfg.WeightDecay).Done()
	return &stepper{m: m, backend: backend, cfg: cfg, opt: opt, execs: map[execKey]*gm.Exec{}}
}

// execKey picks a compiled step: with gradient accumulation a micro-batch
// either only accumulates its gradients (apply=false) or adds them to the
// accumulated ones and updates the weights (apply=true, the last one).
type execKey struct {
	task  model.Task
	apply bool
}

func (s *stepper) exec(task model.Task, apply bool) (*gm.Exec, error) {
	key := execKey{task, apply}
	if e := s.execs[key]; e != nil {
		return e, nil
	}
	n := float64(s.cfg.accum())
	weight := s.cfg.weight(task) / n // the mean over micro-batches
	clip := s.cfg.GradClip
	e, err := gm.NewExec(s.backend, s.m.Store, func(scope *gm.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		s.m.Store.SetTraining(g, true)
		lr := in[len(in)-1]
		out := s.m.TaskGraphWith(scope, task, in[:len(in)-1], model.LossOptions{ScoreL1: s.cfg.ScoreL1, PairRank: s.cfg.PairRank})
		loss := out.Loss
		optimizer.LearningRateVar(scope, loss.DType(), s.cfg.LR).SetNodeValue(ConvertDType(lr, loss.DType()))
		var vars []*gm.Variable // the order BuildTrainableVariablesGradientsGraph uses
		for v := range scope.IterVariables() {
			if v.Trainable && v.InUseByGraph(g) {
				vars = append(vars, v)
			}
		}
		grads := scope.BuildTrainableVariablesGradientsGraph(MulScalar(loss, weight))
		if n > 1 {
			for i, v := range vars {
				acc := accumulator(s.m.Store, v)
				sum := Add(acc.ValueGraph(g), grads[i])
				if !apply {
					acc.SetValueGraph(sum)
					continue
				}
				acc.SetValueGraph(ZerosLike(sum))
				grads[i] = sum
			}
			if !apply {
				return []*Node{loss, ScalarZero(g, loss.DType())}
			}
		}
		sq := make([]*Node, len(grads))
		for i, gr := range grads {
			sq[i] = ReduceAllSum(Square(ConvertDType(gr, loss.DType())))
		}
		norm := Sqrt(ReduceAllSum(Stack(sq, 0)))
		if clip > 0 {
			// scale = min(1, clip / norm): a no-op below the threshold
			scale := Min(OnesLike(norm), Div(Scalar(g, norm.DType(), clip), MaxScalar(norm, 1e-12)))
			for i, gr := range grads {
				grads[i] = Mul(gr, ConvertDType(scale, gr.DType()))
			}
		}
		up, ok := s.opt.(gradUpdater)
		if !ok {
			exceptions.Panicf("optimizer %T cannot take precomputed gradients", s.opt)
		}
		up.UpdateGraphWithGradients(scope, grads, loss.DType())
		if s.cfg.EMA > 0 {
			updateEMA(s.m.Store, g, vars, s.cfg.EMA)
		}
		return []*Node{loss, norm}
	})
	if err != nil {
		return nil, err
	}
	name := "train_" + task.String()
	if n > 1 && !apply {
		name += "_accumulate"
	}
	s.execs[key] = e.WithName(name)
	return s.execs[key], nil
}

// accumulator is v's gradient sum across micro-batches: a non-trainable
// variable under /grad_accum, zero between optimizer steps (so checkpoints,
// taken between steps, never hold a partial sum).
func accumulator(store *gm.Store, v *gm.Variable) *gm.Variable {
	path := "/grad_accum" + v.Path()
	if a := store.GetVariable(path); a != nil {
		return a
	}
	a, err := store.CreateVariable(path, tensors.FromShape(v.Shape()))
	if err != nil {
		exceptions.Panicf("gradient accumulator for %s: %v", v.Path(), err)
	}
	return a.SetTrainable(false)
}

// step runs one optimizer update over the micro-batches bs (one unless
// grad_accum > 1) and returns the mean unweighted loss and the gradient norm
// (of the accumulated gradient, before clipping).
func (s *stepper) step(bs []*model.Batch, lr float64) (loss, gradNorm float64, err error) {
	for i, b := range bs {
		in, err := s.m.Inputs(b)
		if err != nil {
			return 0, 0, err
		}
		e, err := s.exec(b.Task, i == len(bs)-1)
		if err != nil {
			return 0, 0, err
		}
		in = append(in, tensors.FromValue(float32(lr)))
		out, err := e.Call(in...)
		if err != nil {
			return 0, 0, fmt.Errorf("train step %s: %w", b.Task, err)
		}
		l, err := model.ScalarValue(out[0])
		if err != nil {
			return 0, 0, err
		}
		loss += l / float64(len(bs))
		if gradNorm, err = model.ScalarValue(out[1]); err != nil {
			return 0, 0, err
		}
	}
	return loss, gradNorm, nil
}

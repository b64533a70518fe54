package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// gradMaxAbs returns, for each trainable model variable used by the task's
// graph, max |dLoss/dVar|, plus the names of model variables the graph does not use.
func gradMaxAbs(t testing.TB, m *Model, backend compute.Backend, b *Batch) (grads map[string]float64, unused []string) {
	t.Helper()
	var names []string
	e, err := gm.NewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		loss := m.TaskGraph(scope, b.Task, in).Loss
		var vars []*Node
		names, unused = nil, nil
		for _, v := range m.Variables() {
			switch {
			case !v.InUseByGraph(g):
				unused = append(unused, v.Path())
			case v.Trainable:
				names = append(names, v.Path())
				vars = append(vars, v.NodeValue(g))
			}
		}
		var outs []*Node
		for _, gr := range Gradient(loss, vars...) {
			outs = append(outs, ReduceAllMax(Abs(gr)))
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Inputs(b)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := e.Call(in...)
	if err != nil {
		t.Fatal(err)
	}
	grads = map[string]float64{}
	for i, o := range outs {
		grads[names[i]] = flat(t, o)[0]
	}
	return grads, unused
}

// snapshot copies every model variable's values.
func snapshot(t testing.TB, m *Model) map[string][]float64 {
	s := map[string][]float64{}
	for _, v := range m.Variables() {
		s[v.Path()] = flat(t, v.MustValue())
	}
	return s
}

func changed(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return true
		}
	}
	return false
}

func isLoRAA(path string) bool { return strings.HasSuffix(path, "/lora_A") }

// Acceptance 1: every registered variant gives finite outputs of the right
// shapes; training steps give a non-zero gradient to every trainable variable
// and change none of the frozen ones.
func TestVariantsForwardAndTrain(t *testing.T) {
	backend := testBackend(t)
	const b, l = 2, 6
	type tc struct {
		name string
		cfg  func() (Config, error)
	}
	var cases []tc
	for _, name := range Variants() {
		cases = append(cases, tc{name, func() (Config, error) { return tinyConfig(t).WithVariant(name) }})
	}
	// The statistics token, with in-sequence and cross-attention fusion.
	for _, name := range []string{"context+pixel/concat", "context+pixel/cross-attention", "pixel-only/concat"} {
		cases = append(cases, tc{"stats-" + name, func() (Config, error) {
			c, err := tinyConfig(t).WithVariant(name)
			c.Stats = "nss"
			return c, err
		}})
	}
	// Every other statistics kind: only the token's input width changes.
	for kind := range StatsKinds {
		if kind == "nss" {
			continue
		}
		cases = append(cases, tc{"stats-" + kind + "-pixel-only", func() (Config, error) {
			c, err := tinyConfig(t).WithVariant("pixel-only/concat")
			c.Stats = kind
			return c, err
		}})
	}
	// The shipped demo and sweep-base configs: conv stem, local normalisation.
	for _, file := range []string{"demo", "ablation"} {
		cases = append(cases, tc{"config-" + file, func() (Config, error) { return LoadConfig(configPath(file)) }})
	}
	for _, c := range cases {
		name := c.name
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			cfg, err := c.cfg()
			if err != nil {
				t.Fatal(err)
			}
			m, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			within(t, 90*time.Second, name, func() {
				if err := m.Init(backend); err != nil {
					t.Fatal(err)
				}
				checkForwardShapes(t, m, backend, b, l, rng)
				before := snapshot(t, m)

				// At initialisation LoRA B = 0, so dL/dA = 0 exactly; everything else moves.
				batch := randomBatch(m, TaskScore, b, l, rng)
				grads, unused := gradMaxAbs(t, m, backend, batch)
				if len(unused) > 0 {
					t.Errorf("variables unused by the score graph: %v", unused)
				}
				for path, g := range grads {
					if isLoRAA(path) {
						if g != 0 {
							t.Errorf("%s: gradient %g at init, want 0 (B = 0)", path, g)
						}
					} else if !(g > 0) {
						t.Errorf("%s: zero or invalid gradient %g", path, g)
					}
				}

				tr := NewTrainer(m, backend, TrainConfig{LearningRate: 1e-3})
				for _, task := range []Task{TaskScore, TaskDescribe, TaskPair} {
					loss, err := tr.Step(randomBatch(m, task, b, l, rng))
					if err != nil {
						t.Fatal(err)
					}
					if math.IsNaN(loss) || math.IsInf(loss, 0) {
						t.Fatalf("%s loss %g", task, loss)
					}
				}
				// After a step B != 0: now every trainable variable has a gradient.
				grads, _ = gradMaxAbs(t, m, backend, randomBatch(m, TaskScore, b, l, rng))
				for path, g := range grads {
					if !(g > 0) {
						t.Errorf("%s: zero or invalid gradient %g after a step", path, g)
					}
				}
				after := snapshot(t, m)
				for _, v := range m.Variables() {
					moved := changed(before[v.Path()], after[v.Path()])
					if v.Trainable && !moved {
						t.Errorf("trainable %s did not change", v.Path())
					}
					if !v.Trainable && moved {
						t.Errorf("frozen %s changed", v.Path())
					}
				}
				nt, nf := m.Counts()
				t.Logf("%s: trainable %d, frozen %d, visual tokens/video %d", name, nt, nf, m.VisualTokensPerVideo())
			})
		})
	}
}

// checkForwardShapes runs every task's forward pass and checks output shapes and finiteness.
func checkForwardShapes(t *testing.T, m *Model, backend compute.Backend, b, l int, rng *rand.Rand) {
	v := m.Cfg.Decoder.VocabSize
	want := map[Task][][]int{
		TaskScore:    {{}, {b, 5}, {b}},
		TaskDescribe: {{}, {b, l, v}},
		TaskPair:     {{}, {b, 2}},
	}
	if m.Cfg.Heads.Regression {
		want[TaskScore] = append(want[TaskScore], []int{b})
	}
	for _, task := range []Task{TaskScore, TaskDescribe, TaskPair} {
		in, err := m.Inputs(randomBatch(m, task, b, l, rng))
		if err != nil {
			t.Fatal(err)
		}
		outs, err := forwardExec(t, m, backend, task).Call(in...)
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != len(want[task]) {
			t.Fatalf("%s: %d outputs, want %d", task, len(outs), len(want[task]))
		}
		for i, o := range outs {
			if !sameDims(o, want[task][i]) {
				t.Errorf("%s output %d: shape %s, want %v", task, i, o.Shape(), want[task][i])
			}
			for _, x := range flat(t, o) {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("%s output %d: non-finite", task, i)
				}
			}
		}
		if task == TaskScore {
			for _, s := range flat(t, outs[2]) {
				if s < 1 || s > 5 {
					t.Errorf("score %g outside [1, 5]", s)
				}
			}
		}
	}
}

func sameDims(x *tensors.Tensor, dims []int) bool {
	d := x.Shape().Dimensions
	if len(d) != len(dims) {
		return false
	}
	for i := range d {
		if d[i] != dims[i] {
			return false
		}
	}
	return true
}

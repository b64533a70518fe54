//go:build onnx

package model

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Tests of the experimental ONNX Runtime backend (build tag onnx; the
// library comes from make onnx-deps, see backend_onnx.go).
//
// CPLLM_TEST_BACKEND=onnx:cpu runs the tests that use the shared test
// backend (testBackend) on ONNX Runtime instead of the Go backend:
//
//	CPLLM_TEST_BACKEND=onnx:cpu go test -tags onnx ./model/
const testBackendEnv = "CPLLM_TEST_BACKEND"

func init() {
	if spec := os.Getenv(testBackendEnv); spec != "" {
		sharedBackend = sync.OnceValues(func() (compute.Backend, error) { return NewBackend(spec) })
	}
}

const onnxSpec = "onnx:cpu"

// goBackendForONNX is the Go backend the comparisons run against (not
// testBackend, which CPLLM_TEST_BACKEND may point at ONNX Runtime).
var goBackendForONNX = sync.OnceValues(func() (compute.Backend, error) { return NewBackend(GoBackend) })

func onnxBackend(t testing.TB) compute.Backend {
	t.Helper()
	if _, err := FindONNXLibrary(); err != nil {
		t.Skipf("no ONNX Runtime library: %v", err)
	}
	b, err := NewBackend(onnxSpec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestONNXBackendOpens(t *testing.T) {
	b := onnxBackend(t)
	t.Logf("backend %s: %s", b.Name(), b.Description())
}

// TestONNXIsAuto: where the library is found, auto (the configs' default) is
// ONNX Runtime; with the library path pointing nowhere, opening it is an
// error naming the path, never a silent switch to another backend.
func TestONNXIsAuto(t *testing.T) {
	onnxBackend(t) // skips without the library
	for _, spec := range []string{"", AutoBackend} {
		if got := ResolveBackend(spec); got != ONNXSpec {
			t.Errorf("ResolveBackend(%q) = %q, want %q", spec, got, ONNXSpec)
		}
	}
	if got := AvailableBackends(); !slices.Equal(got, []string{GoBackend, ONNXSpec}) {
		t.Errorf("AvailableBackends() = %v", got)
	}
	if got := ResolveBackend(GoBackend); got != GoBackend {
		t.Errorf("an explicit spec changed: %q", got)
	}
	bad := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	t.Setenv(ONNXLibraryEnv, bad)
	if _, err := NewBackend(AutoBackend); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("auto with %s=%s: %v, want an error naming the path", ONNXLibraryEnv, bad, err)
	}
}

// twinModels builds cfg's model twice: on the Go backend (initialised there)
// and on ONNX Runtime with the same variable values copied over.
func twinModels(t testing.TB, cfg Config) (goM, onnxM *Model, goB, onnxB compute.Backend) {
	t.Helper()
	goB, err := goBackendForONNX()
	if err != nil {
		t.Fatal(err)
	}
	onnxB = onnxBackend(t)
	if goM, err = Build(cfg); err != nil {
		t.Fatal(err)
	}
	if err := goM.Init(goB); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vars.gob")
	if err := WriteVariables(goM.Store, path); err != nil {
		t.Fatal(err)
	}
	if onnxM, err = Build(cfg); err != nil {
		t.Fatal(err)
	}
	if err := onnxM.Init(onnxB); err != nil {
		t.Fatalf("init on %s: %v", onnxSpec, err)
	}
	if err := ReadVariables(onnxM.Store, path); err != nil {
		t.Fatal(err)
	}
	return
}

// onnxRun is one backend's measurements.
type onnxRun struct {
	losses        []float64
	fwdOut        []float64 // forward outputs (loss, logits, ...) on the first batch
	steps, fwd    float64   // training steps/s and forward calls/s after warm-up
	compileFirstS float64   // first training step (compile + run), seconds
}

func measureBackend(t *testing.T, m *Model, b compute.Backend, batches []*Batch, n int) (r onnxRun) {
	t.Helper()
	// Forward first (before training changes the weights).
	e := forwardExec(t, m, b, TaskScore)
	in, err := m.Inputs(batches[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Call(in...)
	if err != nil {
		t.Fatalf("%s forward: %v", b.Name(), err)
	}
	for _, o := range out {
		r.fwdOut = append(r.fwdOut, flat(t, o)...)
	}
	const warm = 3
	for range warm {
		if _, err := e.Call(in...); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	for range n {
		if _, err := e.Call(in...); err != nil {
			t.Fatal(err)
		}
	}
	r.fwd = float64(n) / time.Since(t0).Seconds()

	tr := NewTrainer(m, b, TrainConfig{LearningRate: 1e-3})
	var tWarm time.Time
	t0 = time.Now()
	for i, batch := range batches {
		loss, err := tr.Step(batch)
		if err != nil {
			t.Fatalf("%s train step %d: %v", b.Name(), i, err)
		}
		if i == 0 {
			r.compileFirstS = time.Since(t0).Seconds()
		}
		if i == warm-1 {
			tWarm = time.Now()
		}
		r.losses = append(r.losses, loss)
	}
	r.steps = float64(len(batches)-warm) / time.Since(tWarm).Seconds()
	return r
}

// TestONNXVsGo trains the same initial weights on the same batches on both
// backends (score task, batch 8) and logs training steps/s, forward/s, their
// ratios (ONNX / Go) and the loss agreement. ONNX_STEPS sets the step count
// (default 20); ONNX_CONFIGS the model configs (default "tiny demo real":
// the model tests' tiny model, make demo's and the shipped model's).
func TestONNXVsGo(t *testing.T) {
	steps := 20
	if s := os.Getenv("ONNX_STEPS"); s != "" {
		fmt.Sscan(s, &steps)
	}
	names := []string{"tiny", "demo", "real"}
	if s := os.Getenv("ONNX_CONFIGS"); s != "" {
		names = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(configPath(name))
			if err != nil {
				t.Fatal(err)
			}
			goM, onnxM, goB, onnxB := twinModels(t, cfg)
			mk := func(m *Model) []*Batch {
				rng := rand.New(rand.NewPCG(7, 7))
				bs := make([]*Batch, steps)
				for i := range bs {
					bs[i] = randomBatch(m, TaskScore, benchB, benchL, rng)
				}
				return bs
			}
			rg := measureBackend(t, goM, goB, mk(goM), steps)
			ro := measureBackend(t, onnxM, onnxB, mk(onnxM), steps)
			maxFwd := 0.0
			for i := range rg.fwdOut {
				maxFwd = math.Max(maxFwd, math.Abs(rg.fwdOut[i]-ro.fwdOut[i]))
			}
			maxRel := 0.0
			for i := range rg.losses {
				maxRel = math.Max(maxRel, math.Abs(rg.losses[i]-ro.losses[i])/math.Max(1e-9, math.Abs(rg.losses[i])))
			}
			t.Logf("%s: forward outputs max |go-onnx| %.3g over %d values", name, maxFwd, len(rg.fwdOut))
			t.Logf("%s: losses go   %v", name, fmtLosses(rg.losses))
			t.Logf("%s: losses onnx %v", name, fmtLosses(ro.losses))
			t.Logf("%s: loss after %d steps go %.6f onnx %.6f; max relative loss difference over the run %.3g",
				name, steps, rg.losses[steps-1], ro.losses[steps-1], maxRel)
			t.Logf("%s: train steps/s go %.2f onnx %.2f (ratio onnx/go %.2f); forward/s go %.2f onnx %.2f (ratio %.2f); first step (compile) go %.2fs onnx %.2fs",
				name, rg.steps, ro.steps, ro.steps/rg.steps, rg.fwd, ro.fwd, ro.fwd/rg.fwd, rg.compileFirstS, ro.compileFirstS)
			if maxFwd > 1e-3 {
				t.Errorf("%s: forward outputs differ by %.3g", name, maxFwd)
			}
			if maxRel > 1e-2 {
				t.Errorf("%s: losses differ by %.3g (relative)", name, maxRel)
			}
		})
	}
}

func fmtLosses(l []float64) string {
	s := "["
	for i, v := range l {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.4f", v)
	}
	return s + "]"
}

// TestONNXInitVsGo: the same seed initialises bit-identical weights on both
// backends (Init draws them on the Go backend for every backend).
func TestONNXInitVsGo(t *testing.T) {
	cfg, err := LoadConfig(configPath("demo"))
	if err != nil {
		t.Fatal(err)
	}
	goB, err := goBackendForONNX()
	if err != nil {
		t.Fatal(err)
	}
	onnxB := onnxBackend(t)
	a, _ := Build(cfg)
	b, _ := Build(cfg)
	if err := a.Init(goB); err != nil {
		t.Fatal(err)
	}
	if err := b.Init(onnxB); err != nil {
		t.Fatal(err)
	}
	same, differ := 0, []string{}
	for v := range a.Store.IterVariables() {
		w := b.Store.GetVariable(v.Path())
		if w == nil {
			t.Fatalf("variable %s missing on onnx", v.Path())
		}
		x, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		y, err := w.Value()
		if err != nil {
			t.Fatal(err)
		}
		var bx, by []byte
		_ = x.ConstBytes(func(b []byte) { bx = slices.Clone(b) })
		_ = y.ConstBytes(func(b []byte) { by = slices.Clone(b) })
		if bytes.Equal(bx, by) {
			same++
			continue
		}
		d := math.NaN()
		if x.DType().IsFloat() {
			d = 0
			fx, fy := flat(t, x), flat(t, y)
			for i := range fx {
				d = math.Max(d, math.Abs(fx[i]-fy[i]))
			}
		}
		if d == 0 && !math.IsNaN(d) {
			same++
		} else {
			differ = append(differ, fmt.Sprintf("%s (max |diff| %.3g)", v.Path(), d))
		}
	}
	t.Logf("initial variables: %d equal, %d differ between go and onnx", same, len(differ))
	for _, s := range differ {
		t.Errorf("differs: %s", s)
	}
	if same == 0 {
		t.Error("no variables compared")
	}
}

// TestONNXDeterministic: two runs of 10 training steps from the same weights
// on ONNX Runtime give bit-identical losses (the trainer's --resume promise
// needs it).
func TestONNXDeterministic(t *testing.T) {
	cfg, err := LoadConfig(configPath("demo"))
	if err != nil {
		t.Fatal(err)
	}
	_, m1, _, onnxB := twinModels(t, cfg)
	_, m2, _, _ := twinModels(t, cfg)
	var losses [2][]float64
	for k, m := range []*Model{m1, m2} {
		rng := rand.New(rand.NewPCG(3, 3))
		tr := NewTrainer(m, onnxB, TrainConfig{LearningRate: 1e-3})
		for range 10 {
			loss, err := tr.Step(randomBatch(m, TaskScore, benchB, benchL, rng))
			if err != nil {
				t.Fatal(err)
			}
			losses[k] = append(losses[k], loss)
		}
	}
	for i := range losses[0] {
		if losses[0][i] != losses[1][i] {
			t.Errorf("step %d: loss %.9g then %.9g", i, losses[0][i], losses[1][i])
		}
	}
	t.Logf("losses %s", fmtLosses(losses[0]))
}

// TestONNXPairRank: the pair loss with the rank term, and its gradients,
// build and run on ONNX Runtime (every op it uses exists there) and agree
// with the Go backend from the same weights.
func TestONNXPairRank(t *testing.T) {
	goM, onnxM, goB, onnxB := twinModels(t, tinyConfig(t))
	run := func(m *Model, b compute.Backend) []float64 {
		batch := randomBatch(m, TaskPair, 3, 6, rand.New(rand.NewPCG(3, 4)))
		in, err := m.Inputs(batch)
		if err != nil {
			t.Fatal(err)
		}
		e, err := gm.NewExec(b, m.Store, func(scope *gm.Scope, in []*Node) []*Node {
			loss := m.TaskGraphWith(scope, TaskPair, in, LossOptions{PairRank: 1}).Loss
			grads := scope.BuildTrainableVariablesGradientsGraph(loss)
			sq := ZerosLike(loss)
			for _, g := range grads {
				sq = Add(sq, ConvertDType(ReduceAllSum(Square(g)), loss.DType()))
			}
			return []*Node{loss, sq}
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := e.Call(in...)
		if err != nil {
			t.Fatal(err)
		}
		return []float64{flat(t, outs[0])[0], flat(t, outs[1])[0]}
	}
	g, o := run(goM, goB), run(onnxM, onnxB)
	for i, what := range []string{"loss", "squared gradient norm"} {
		if math.Abs(g[i]-o[i]) > 1e-3*math.Max(1, math.Abs(g[i])) || g[i] == 0 {
			t.Errorf("%s: go %.6g, onnx %.6g", what, g[i], o[i])
		}
	}
}

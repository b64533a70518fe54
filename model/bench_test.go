package model

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks of the tiny model (context+pixel/concat, score task) at batch 8,
// text length 16. Run: go test ./model -run '^$' -bench Tiny -benchtime 50x
const benchB, benchL = 8, 16

func benchModel(b *testing.B) (*Model, *Batch) {
	b.Helper()
	m, err := Build(tinyConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	return m, randomBatch(m, TaskScore, benchB, benchL, rand.New(rand.NewPCG(1, 1)))
}

func BenchmarkTinyForward(b *testing.B) {
	m, batch := benchModel(b)
	e := forwardExec(b, m, testBackend(b), TaskScore)
	in, err := m.Inputs(batch)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Call(in...); err != nil { // compile + init
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Call(in...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fwd/s")
}

func BenchmarkTinyTrainStep(b *testing.B) {
	m, batch := benchModel(b)
	tr := NewTrainer(m, testBackend(b), TrainConfig{LearningRate: 3e-4})
	if _, err := tr.Step(batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.Step(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// trainRate measures training steps/s and score-task forwards/s of the model
// of configs/model/<config>.yaml on backend spec over n steps after warm-up,
// on one fixed batch (batch 8, text length 16).
func trainRate(b *testing.B, config, spec string, n int) (train, fwd float64) {
	cfg, err := LoadConfig(configPath(config))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Build(cfg)
	if err != nil {
		b.Fatal(err)
	}
	batch := randomBatch(m, TaskScore, benchB, benchL, rand.New(rand.NewPCG(1, 1)))
	backend, err := NewBackend(spec)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Init(backend); err != nil {
		b.Fatal(err)
	}
	tr := NewTrainer(m, backend, TrainConfig{LearningRate: 3e-4})
	for range 5 {
		if _, err := tr.Step(batch); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	for range n {
		if _, err := tr.Step(batch); err != nil {
			b.Fatal(err)
		}
	}
	train = float64(n) / time.Since(t0).Seconds()
	e := forwardExec(b, m, backend, TaskScore)
	in, _ := m.Inputs(batch)
	for range 5 {
		if _, err := e.Call(in...); err != nil {
			b.Fatal(err)
		}
	}
	t0 = time.Now()
	for range n {
		if _, err := e.Call(in...); err != nil {
			b.Fatal(err)
		}
	}
	return train, float64(n) / time.Since(t0).Seconds()
}

type torchResult struct {
	Train float64 `json:"train_steps_per_s"`
	Fwd   float64 `json:"forward_per_s"`
	Torch string  `json:"torch"`
}

// torchRate runs testdata/torch_tiny.py --config config (the same
// architecture in PyTorch, 2 threads, OPENBLAS_NUM_THREADS=1); ok is false if
// PyTorch is unavailable.
func torchRate(b *testing.B, config string, n int) (r torchResult, ok bool) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		return r, false
	}
	if exec.Command(py, "-c", "import torch").Run() != nil {
		return r, false
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "torch_tiny.py")
	cmd := exec.Command(py, script, "--config", config, "--batch", strconv.Itoa(benchB), "--text-len", strconv.Itoa(benchL), "--steps", strconv.Itoa(n))
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=2")
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("torch_tiny.py: %v", err)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("torch_tiny.py output %q: %v", out, err)
	}
	return r, true
}

// BenchmarkVsPyTorch trains and runs the tiny and demo models on every
// backend available here (AvailableBackends: pure Go, and ONNX Runtime in a
// -tags onnx build with its library) and the PyTorch peer, one after the
// other in the same run, and reports each rate and its ratio to PyTorch.
// Run: go test [-tags onnx] ./model -run '^$' -bench VsPyTorch -benchtime 1x
func BenchmarkVsPyTorch(b *testing.B) {
	const n = 50
	for _, config := range []string{"tiny", "demo"} {
		b.Run(config, func(b *testing.B) {
			for b.Loop() {
				tr, torchOK := torchRate(b, config, n)
				if torchOK {
					b.ReportMetric(tr.Train, "torch-steps/s")
					b.ReportMetric(tr.Fwd, "torch-fwd/s")
				} else {
					b.Logf("PyTorch not available: no ratios")
				}
				for _, spec := range AvailableBackends() {
					name, _, _ := strings.Cut(spec, ":")
					train, fwd := trainRate(b, config, spec, n)
					b.ReportMetric(train, name+"-steps/s")
					b.ReportMetric(fwd, name+"-fwd/s")
					if !torchOK {
						b.Logf("%s: %s %.1f steps/s, %.1f fwd/s", config, spec, train, fwd)
						continue
					}
					b.ReportMetric(train/tr.Train, name+"/torch-train")
					b.ReportMetric(fwd/tr.Fwd, name+"/torch-fwd")
					b.Logf("%s: train %s %.1f vs PyTorch %s %.1f steps/s (ratio %.2f); forward %.1f vs %.1f /s (ratio %.2f)",
						config, spec, train, tr.Torch, tr.Train, train/tr.Train, fwd, tr.Fwd, fwd/tr.Fwd)
				}
			}
		})
	}
}

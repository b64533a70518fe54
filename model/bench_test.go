package model

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
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

// goTrainRate measures Go training steps/s over n steps after warm-up.
func goTrainRate(b *testing.B, n int) (train, fwd float64) {
	m, batch := benchModel(b)
	backend := testBackend(b)
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

// torchRate runs testdata/torch_tiny.py (the same architecture in PyTorch,
// 2 threads, OPENBLAS_NUM_THREADS=1); ok is false if PyTorch is unavailable.
func torchRate(b *testing.B, n int) (r torchResult, ok bool) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		return r, false
	}
	if exec.Command(py, "-c", "import torch").Run() != nil {
		return r, false
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "torch_tiny.py")
	cmd := exec.Command(py, script, "--batch", strconv.Itoa(benchB), "--text-len", strconv.Itoa(benchL), "--steps", strconv.Itoa(n))
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

// BenchmarkTinyVsPyTorch runs the Go model and the PyTorch peer in the same
// benchmark run and reports both rates and their ratio (Go / PyTorch).
func BenchmarkTinyVsPyTorch(b *testing.B) {
	const n = 50
	for b.Loop() {
		goTrain, goFwd := goTrainRate(b, n)
		b.ReportMetric(goTrain, "go-steps/s")
		b.ReportMetric(goFwd, "go-fwd/s")
		tr, ok := torchRate(b, n)
		if !ok {
			b.Logf("PyTorch not available: Go only (%.1f steps/s, %.1f fwd/s)", goTrain, goFwd)
			continue
		}
		b.ReportMetric(tr.Train, "torch-steps/s")
		b.ReportMetric(tr.Fwd, "torch-fwd/s")
		b.ReportMetric(goTrain/tr.Train, "train-ratio")
		b.ReportMetric(goFwd/tr.Fwd, "fwd-ratio")
		b.Logf("train: Go %.1f vs PyTorch %s %.1f steps/s (ratio %.2f); forward: Go %.1f vs %.1f /s (ratio %.2f)",
			goTrain, tr.Torch, tr.Train, goTrain/tr.Train, goFwd, tr.Fwd, goFwd/tr.Fwd)
	}
}

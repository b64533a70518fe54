package train

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cpllm/cpllm/model"
)

// BenchmarkTrainerVsPyTorch: steps/s of the whole trainer (shard streaming,
// bridge, step, metrics log) on configs/model/tiny.yaml at batch 8, score
// task, against the PyTorch peer of the model issue (model/testdata/
// torch_tiny.py: the model step alone, on in-memory tensors), in the same
// run, and the process's peak RSS.
// Run: go test ./train -run '^$' -bench TrainerVsPyTorch -benchtime 1x
func BenchmarkTrainerVsPyTorch(b *testing.B) {
	const steps, warm = 80, 10
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	mc, err := model.LoadConfig(filepath.Join(root, "configs", "model", "tiny.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	trainDir := filepath.Join(b.TempDir(), "train")
	writeShards(b, trainDir, 64, 1, -1)
	for b.Loop() {
		cfg := testConfig(steps)
		var t0 time.Time
		_, err := Run(context.Background(), Options{ModelConfig: mc, Train: cfg, TrainDir: trainDir, OutDir: b.TempDir(),
			Progress: func(step, _ int) {
				if step == warm {
					t0 = time.Now()
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		goRate := float64(steps-warm) / time.Since(t0).Seconds()
		b.ReportMetric(goRate, "go-steps/s")
		b.ReportMetric(peakRSSMiB(), "peak-rss-MiB")
		py := "/usr/bin/python3"
		if exec.Command(py, "-c", "import torch").Run() != nil {
			b.Logf("PyTorch not available: trainer %.1f steps/s only", goRate)
			continue
		}
		cmd := exec.Command(py, filepath.Join(root, "model", "testdata", "torch_tiny.py"),
			"--batch", strconv.Itoa(cfg.BatchSize), "--text-len", "16", "--steps", strconv.Itoa(steps-warm))
		cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=2")
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("torch_tiny.py: %v", err)
		}
		var tr struct {
			Train float64 `json:"train_steps_per_s"`
			Torch string  `json:"torch"`
		}
		if err := json.Unmarshal(out, &tr); err != nil {
			b.Fatalf("torch_tiny.py output %q: %v", out, err)
		}
		b.ReportMetric(tr.Train, "torch-steps/s")
		b.ReportMetric(goRate/tr.Train, "ratio")
		b.Logf("trainer: Go %.1f steps/s vs PyTorch %s model step %.1f steps/s (ratio %.2f); peak RSS %.0f MiB",
			goRate, tr.Torch, tr.Train, goRate/tr.Train, peakRSSMiB())
	}
}

// peakRSSMiB is this process's high-water resident set (VmHWM), Linux only.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

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
// task, on every backend available here (model.AvailableBackends), against
// the PyTorch peer (model/testdata/torch_tiny.py: the model step alone, on
// in-memory tensors), in the same run, and the process's peak RSS.
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
		rates := map[string]float64{}
		for _, spec := range model.AvailableBackends() {
			name, _, _ := strings.Cut(spec, ":")
			mc.Backend = spec
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
			rates[name] = float64(steps-warm) / time.Since(t0).Seconds()
			b.ReportMetric(rates[name], name+"-steps/s")
		}
		b.ReportMetric(peakRSSMiB(), "peak-rss-MiB")
		py := "/usr/bin/python3"
		if exec.Command(py, "-c", "import torch").Run() != nil {
			b.Logf("PyTorch not available: trainer steps/s %v only", rates)
			continue
		}
		cmd := exec.Command(py, filepath.Join(root, "model", "testdata", "torch_tiny.py"),
			"--batch", strconv.Itoa(testConfig(steps).BatchSize), "--text-len", "16", "--steps", strconv.Itoa(steps-warm))
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
		for name, r := range rates {
			b.ReportMetric(r/tr.Train, name+"/torch")
			b.Logf("trainer on %s: %.1f steps/s vs PyTorch %s model step %.1f steps/s (ratio %.2f)", name, r, tr.Torch, tr.Train, r/tr.Train)
		}
		b.Logf("peak RSS %.0f MiB (all backends)", peakRSSMiB())
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

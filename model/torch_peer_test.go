package model

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestTorchPeerParamCounts checks that the PyTorch peer of the benchmarks
// (testdata/torch_tiny.py) builds the same model as Go for each config it
// mirrors: the same parameter counts, whole and per component, total and
// trainable. The Go model is the reference.
func TestTorchPeerParamCounts(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no %s: %v", py, err)
	}
	if out, err := exec.Command(py, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("PyTorch not importable by %s: %v\n%s", py, err, out)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "torch_tiny.py")
	type count struct {
		Total     int64 `json:"total"`
		Trainable int64 `json:"trainable"`
	}
	for _, name := range []string{"tiny", "demo"} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(configPath(name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := CountParamsDetail(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, script, "--config", name, "--count-only")
			cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
			out, err := cmd.Output()
			if err != nil {
				if ee, ok := err.(*exec.ExitError); ok {
					t.Fatalf("torch_tiny.py --config %s --count-only: %v\n%s", name, err, ee.Stderr)
				}
				t.Fatalf("torch_tiny.py --config %s --count-only: %v", name, err)
			}
			var got struct {
				Total      int64            `json:"params_total"`
				Trainable  int64            `json:"params_trainable"`
				Components map[string]count `json:"components"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("torch_tiny.py output %q: %v", out, err)
			}
			t.Logf("%s: Go total %d trainable %d; PyTorch total %d trainable %d",
				name, want.Total, want.Trainable, got.Total, got.Trainable)
			if got.Total != want.Total || got.Trainable != want.Trainable {
				t.Errorf("%s: PyTorch total %d trainable %d, Go total %d trainable %d",
					name, got.Total, got.Trainable, want.Total, want.Trainable)
			}
			for _, c := range want.Components {
				g := got.Components[c.Component] // absent = 0
				if g.Total != c.Total || g.Trainable != c.Trainable {
					t.Errorf("%s: %s (%s): PyTorch total %d trainable %d, Go total %d trainable %d",
						name, c.Component, c.Setting, g.Total, g.Trainable, c.Total, c.Trainable)
				}
			}
			for c := range got.Components {
				if !slices.Contains(Components, c) {
					t.Errorf("%s: PyTorch component %q is not one of Go's %v", name, c, Components)
				}
			}
		})
	}
}

package weights

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
)

// testdata/tiny_checkpoints.py writes checkpoints that configs/model/import-tiny.yaml
// imports completely: the end-to-end check (import -> train --init -> score)
// starts from them.
func TestTinyCheckpointsImport(t *testing.T) {
	py := testutil.RequireTorch(t)
	out := t.TempDir()
	cfgPath := filepath.Join("..", "..", "configs", "model", "import-tiny.yaml")
	if b, err := exec.Command(py, "testdata/tiny_checkpoints.py", "--out", out, "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("tiny_checkpoints.py: %v\n%s", err, b)
	}
	cfg, err := model.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(testBackend(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportSigLIP(m, filepath.Join(out, "siglip")); err != nil {
		t.Error(err)
	}
	if _, err := ImportGemma(m, filepath.Join(out, "gemma")); err != nil {
		t.Error(err)
	}
	rep, resized, err := ImportVideoPrism(m, filepath.Join(out, "videoprism.npz"))
	if err != nil {
		t.Error(err)
	}
	t.Logf("videoprism: %d tensors loaded; resized %q", len(rep.Loaded), resized)
}

package train

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
)

// varValue is a variable's bytes.
func varValue(t *testing.T, m *model.Model, path string) []byte {
	t.Helper()
	v := m.Store.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := val.ConstBytes(func(b []byte) { out = slices.Clone(b) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Init starts a fresh run from another run's weights: the frozen decoder
// weights (LoRA trains) are the source's, not this seed's, the step count
// starts at 0; a checkpoint of another architecture or tokenizer is refused
// before any step, naming what does not fit.
func TestInitFromCheckpoint(t *testing.T) {
	trainDir, valDir := dataDirs(t)
	cfg := testConfig(3)
	cfg.CheckpointEvery = 3
	mc := tinyModel(t)
	srcDir := t.TempDir()
	src := run(t, Options{ModelConfig: mc, Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: srcDir})
	if err := model.WriteModelFiles(srcDir, mc, []byte("tokenizer: x\n")); err != nil {
		t.Fatal(err)
	}
	frozen := "/decoder/model/layers/0/mlp/up_proj/weight"
	if src.Model.Store.GetVariable(frozen).Trainable {
		t.Fatalf("%s trains in the tiny model; the test needs a frozen weight", frozen)
	}

	other := mc
	other.Seed = 7
	fresh := run(t, Options{ModelConfig: other, Train: cfg, TrainDir: trainDir, OutDir: t.TempDir()})
	if bytes.Equal(varValue(t, fresh.Model, frozen), varValue(t, src.Model, frozen)) {
		t.Fatal("seed 7 initialises like seed 1: the test cannot tell init from none")
	}
	out := t.TempDir()
	res := run(t, Options{ModelConfig: other, Train: cfg, TrainDir: trainDir, OutDir: out, Init: srcDir})
	if !bytes.Equal(varValue(t, res.Model, frozen), varValue(t, src.Model, frozen)) {
		t.Error("the frozen weight is not the initialising checkpoint's")
	}
	ms, err := ReadMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil || len(ms) != 3 || ms[0].Step != 1 {
		t.Errorf("metrics of the initialised run: %d rows, %v", len(ms), err)
	}

	wide := mc
	wide.Decoder.Layers = 2
	_, err = Run(t.Context(), Options{ModelConfig: wide, Train: cfg, TrainDir: trainDir, OutDir: t.TempDir(), Init: srcDir})
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "/decoder/model/layers/1/") {
		t.Errorf("init into another architecture: %v", err)
	}
	if err := os.WriteFile(filepath.Join(srcDir, model.TokenizerFile), []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(t.Context(), Options{ModelConfig: mc, Train: cfg, TrainDir: trainDir, OutDir: t.TempDir(), Init: srcDir})
	if err == nil || !strings.Contains(err.Error(), "differs from the model config's") {
		t.Errorf("init with another tokenizer: %v", err)
	}
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
)

// The pretrained path end to end on tiny checkpoints PyTorch writes in the
// released layouts: weights import -> a checkpoint directory (model.yaml
// naming its tokenizer.model copy, variables, state at step 0) -> train
// --init -> score prints a score and a description; weights export reads
// the checkpoint; a checkpoint of another architecture is refused.
func TestImportTrainScore(t *testing.T) {
	py := testutil.RequireTorch(t)
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "pretrained")
	cfgPath := filepath.Join("..", "..", "configs", "model", "import-tiny.yaml")
	if b, err := exec.Command(py, "../../model/weights/testdata/tiny_checkpoints.py", "--out", src, "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("tiny_checkpoints.py: %v\n%s", err, b)
	}
	ckpt := filepath.Join(dir, "ckpt")
	tok := filepath.Join("..", "..", "configs", "tokenizer", "cpllm.model")
	out, err := run(t, "weights", "import", "--siglip", filepath.Join(src, "siglip"), "--gemma", filepath.Join(src, "gemma"),
		"--videoprism", filepath.Join(src, "videoprism.npz"), "--tokenizer", tok, "--out", ckpt, "--set", "model_config="+cfgPath)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	var st struct {
		Step    int               `json:"step"`
		From    string            `json:"from"`
		Sources map[string]string `json:"sources"`
	}
	js, _ := os.ReadFile(filepath.Join(ckpt, model.StateFile))
	if err := json.Unmarshal(js, &st); err != nil || st.Step != 0 || st.From != "import" || st.Sources["gemma"] == "" {
		t.Fatalf("state.json %s: %v", js, err)
	}
	y, _ := os.ReadFile(filepath.Join(ckpt, model.ModelFile))
	if !strings.Contains(string(y), "tokenizer: tokenizer.model") {
		t.Fatalf("model.yaml does not name tokenizer.model:\n%s", y)
	}

	shards := filepath.Join(dir, "shards")
	feedtest.WriteShards(t, filepath.Join(shards, "train"), 16, 0, -1)
	feedtest.WriteShards(t, filepath.Join(shards, "val"), 8, 1, -1)
	runDir := filepath.Join(dir, "run")
	out, err = run(t, "train", "--init", ckpt, "--train-shards", filepath.Join(shards, "train"), "--val-shards", filepath.Join(shards, "val"),
		"--out", runDir, "--set", "model_config="+filepath.Join(ckpt, model.ModelFile), "--set", "train_config=../../configs/train/tiny.yaml",
		"--set", "train.steps=2", "--set", "train.eval_every=2", "--set", "train.checkpoint_every=2", "--set", "train.batch_size=4")
	if err != nil {
		t.Fatalf("train --init: %v\n%s", err, out)
	}
	img := testutil.Clip(t, dir, "a.png", "testsrc2=size=320x240", "-frames:v", "1", "-update", "1")
	out, err = run(t, "score", "--checkpoint", runDir, "--max-tokens", "8", img)
	var r scoreResult
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || r.Score < 1 || r.Score > 5 || r.Description == "" {
		t.Fatalf("score: %v\n%s", err, out)
	}
	t.Logf("score %.3f, description %q", r.Score, r.Description)

	if out, err := run(t, "weights", "export", "--in", ckpt, "--out", filepath.Join(dir, "w.safetensors")); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	_, err = run(t, "train", "--init", ckpt, "--train-shards", filepath.Join(shards, "train"), "--val-shards", filepath.Join(shards, "val"),
		"--out", filepath.Join(dir, "run2"), "--set", "model_config="+filepath.Join(ckpt, model.ModelFile),
		"--set", "train_config=../../configs/train/tiny.yaml", "--set", "model.decoder.layers=3")
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "/decoder/model/layers/2/") {
		t.Fatalf("init into another architecture: %v", err)
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// The whole path through the CLI: synth -> shards per split -> train -> resume.
func TestTrainCLI(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	synth := filepath.Join(dir, "synth")
	if _, err := run(t, "data", "synth", "--out", synth, "--videos", "4", "--set", "synth.max_height=360", "--set", "synth.max_fps=25",
		"--set", "synth.min_seconds=0.5", "--set", "synth.max_seconds=1", "--set", "synth.variants=1",
		"--set", "synth.ladder_crf=20,45", "--set", "synth.preset=ultrafast", "--set", "synth.val_frac=0.25"); err != nil {
		t.Fatal(err)
	}
	small := []string{"--set", "shards.size=32", "--set", "shards.min_side=32", "--set", "shards.m=4", "--set", "shards.k=2"}
	for _, s := range []string{"train", "val"} {
		if _, err := run(t, append([]string{"data", "shards", "--dataset", "manifest", "--root", synth, "--split", s,
			"--out", filepath.Join(dir, s)}, small...)...); err != nil {
			t.Fatal(err)
		}
	}
	recipe, _ := os.ReadFile("../../configs/train/tiny.yaml")
	r := strings.NewReplacer("steps: 2000", "steps: 6", "eval_every: 200", "eval_every: 3", "checkpoint_every: 200", "checkpoint_every: 3",
		"warmup_steps: 100", "warmup_steps: 2").Replace(string(recipe))
	rp := filepath.Join(dir, "recipe.yaml")
	os.WriteFile(rp, []byte(r), 0o644)
	out := filepath.Join(dir, "run")
	args := []string{"train", "--train-shards", filepath.Join(dir, "train"), "--val-shards", filepath.Join(dir, "val"), "--out", out,
		"--set", "model_config=../../configs/model/tiny.yaml", "--set", "train_config=" + rp}
	stdout, err := run(t, args...)
	if err != nil || !strings.Contains(stdout, "train: 6 steps") {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, f := range []string{"config.yaml", "model.yaml", "recipe.yaml", "metrics.jsonl", "train.log", "checkpoints/best", "loss.png", "val.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run dir lacks %s", f)
		}
	}
	if _, err := run(t, args...); err == nil {
		t.Fatal("training into an existing run without --resume must fail")
	}
	if _, err := run(t, append(args, "--resume")...); err != nil {
		t.Fatalf("resume of a finished run: %v", err)
	}
	// Score a clip of the corpus and a corrupt file with the trained run.
	clip := filepath.Join(synth, "s000-bars-overlay", "s000-bars-overlay-pristine.mp4")
	corrupt := filepath.Join(dir, "corrupt.mp4")
	os.WriteFile(corrupt, []byte("not a video"), 0o644)
	stdout, err = run(t, append([]string{"score", "--checkpoint", out, "--max-tokens", "4", clip, corrupt,
		"--set", "model_config=../../configs/model/tiny.yaml"}, small...)...)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 videos failed") {
		t.Fatalf("score: %v\n%s", err, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var first, second scoreResult
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("score output:\n%s", stdout)
	}
	if first.Error != "" || first.Score < 1 || first.Score > 5 || first.Level == "" || second.Error == "" || !strings.Contains(second.Error, "corrupt.mp4") {
		t.Fatalf("score results: %+v / %+v", first, second)
	}
	// Bad inputs fail before any training: a batch larger than the data, a
	// corrupt shard, a missing shard.
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte(strings.Replace(r, "batch_size: 8", "batch_size: 100000", 1)), 0o644)
	fresh := func(name string) []string {
		return []string{"train", "--val-shards", filepath.Join(dir, "val"), "--out", filepath.Join(dir, name),
			"--set", "model_config=../../configs/model/tiny.yaml"}
	}
	if _, err := run(t, append(fresh("big"), "--train-shards", filepath.Join(dir, "train"), "--set", "train_config="+big)...); err == nil || !strings.Contains(err.Error(), "batch_size 100000") {
		t.Fatalf("batch larger than the data: %v", err)
	}
	shard := filepath.Join(dir, "train", "shard-00000.arrow")
	data, _ := os.ReadFile(shard)
	data[len(data)/2] ^= 1
	os.WriteFile(shard, data, 0o644)
	if _, err := run(t, append(fresh("corrupt"), "--train-shards", filepath.Join(dir, "train"), "--set", "train_config="+rp)...); err == nil || !strings.Contains(err.Error(), "shard-00000") {
		t.Fatalf("corrupt shard: %v", err)
	}
	os.Remove(shard)
	if _, err := run(t, append(fresh("missing"), "--train-shards", filepath.Join(dir, "train"), "--set", "train_config="+rp)...); err == nil || !strings.Contains(err.Error(), "shard-00000") {
		t.Fatalf("missing shard: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("stepz: 3\n"), 0o644)
	if _, err := run(t, "train", "--train-shards", filepath.Join(dir, "train"), "--val-shards", filepath.Join(dir, "val"),
		"--out", filepath.Join(dir, "run2"), "--set", "model_config=../../configs/model/tiny.yaml", "--set", "train_config="+bad); err == nil || !strings.Contains(err.Error(), "stepz") {
		t.Fatalf("unknown recipe key: %v", err)
	}
}

package main

import (
	"encoding/json"
	"github.com/cpllm/cpllm/data/describe"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
)

// Without --checkpoint, score uses the config key "checkpoint"; a default
// that is not there is an error naming it and the flag.
func TestScoreDefaultCheckpoint(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	img := testutil.Clip(t, dir, "a.png", "testsrc2=size=320x240", "-frames:v", "1", "-update", "1")
	runDir := evaltest.Train(t, filepath.Join(dir, "run"), evaltest.TrainOptions{Steps: 4})
	stdout, err := run(t, "--set", "checkpoint="+runDir, "score", "--describe=false", img)
	if err != nil {
		t.Fatal(err)
	}
	var r scoreResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Model != runDir || r.Score < 1 || r.Score > 5 {
		t.Fatalf("score with the default checkpoint: %+v, %v", r, err)
	}
	// A shipped copy scores identically and holds no optimizer state.
	shipped := filepath.Join(dir, "models", "tiny")
	if _, err := run(t, "model", "ship", "--run", runDir, "--out", shipped); err != nil {
		t.Fatal(err)
	}
	stdout, err = run(t, "--set", "checkpoint="+shipped, "score", "--describe=false", img)
	var r2 scoreResult
	if err != nil || json.Unmarshal([]byte(stdout), &r2) != nil || r2.Score != r.Score {
		t.Fatalf("shipped copy scores %+v (%v), the run %+v", r2, err, r)
	}
	src, err := model.ResolveCheckpoint(runDir)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := os.Stat(filepath.Join(src, model.VarsFile))
	small, _ := os.Stat(filepath.Join(shipped, "variables.gob"))
	if full == nil || small == nil || small.Size()*2 > full.Size() {
		t.Fatalf("shipped weights %v vs the training checkpoint's %v: want under half", small, full)
	}
	gone := filepath.Join(dir, "models", "none")
	_, err = run(t, "--set", "checkpoint="+gone, "score", img)
	if err == nil || !strings.Contains(err.Error(), "the default model "+gone+" (config key \"checkpoint\") is not here") ||
		!strings.Contains(err.Error(), "--checkpoint") {
		t.Fatalf("missing default: %v", err)
	}
	_, err = run(t, "--set", "checkpoint="+gone, "eval", "--datasets", "shards:"+dir)
	if err == nil || !strings.Contains(err.Error(), "the default model") {
		t.Fatalf("eval, missing default: %v", err)
	}
}

// The shipped model (models/real) scores real clips and a CLIVE image
// without --checkpoint: scores in [1, 5], one JSON object per file.
func TestShippedModelScoresRealData(t *testing.T) {
	root := testutil.RealData(t)
	clips, _ := filepath.Glob(filepath.Join(root, "KoNViD-1k", "KoNViD_1k_videos", "*.mp4"))
	imgs, _ := filepath.Glob(filepath.Join(root, "CLIVE", "Images", "*.JPG"))
	if len(clips) == 0 || len(imgs) == 0 {
		t.Skip("no KoNViD-1k clips or CLIVE images in " + root)
	}
	files := []string{clips[0], imgs[0]}
	stdout, err := run(t, append([]string{"--set", "checkpoint=../../models/real", "score"}, files...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(files) {
		t.Fatalf("%d results for %d files:\n%s", len(lines), len(files), stdout)
	}
	for i, line := range lines {
		var r scoreResult
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Path != files[i] || r.Error != "" || r.Score < 1 || r.Score > 5 {
			t.Errorf("%s: %+v (%v)", files[i], r, err)
		}
		// The describe stage trained the canonical form: the text is its own
		// canonical rewrite, opens with the level of the score (score's
		// --level-lead, on by default), and says nothing twice.
		g := describe.CheckText(r.Description, describe.Signals{}, r.Level)
		if describe.CanonicalText(r.Description, false) != r.Description || !g.QualityAgrees || g.Repeats != 0 || g.FileFacts {
			t.Errorf("%s: description %q (level %s): not the canonical form", files[i], r.Description, r.Level)
		}
	}
}

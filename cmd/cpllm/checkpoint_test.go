package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/internal/testutil"
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

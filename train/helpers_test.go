package train

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/internal/corr"
	"github.com/cpllm/cpllm/model"
)

// tinyModel is configs/model/tiny.yaml shrunk further for fast tests.
func tinyModel(t testing.TB) model.Config { return feedtest.ModelConfig(t) }

// writeShards writes feedtest's synthetic shards (see feedtest.WriteShards).
func writeShards(t testing.TB, dir string, n int, seed uint64, nan int) {
	feedtest.WriteShards(t, dir, n, seed, nan)
}

// openShards writes n records (seed 1) under a temp dir and opens them.
func openShards(t testing.TB, n int) (*shards.Dataset, string) { return feedtest.OpenShards(t, n) }

// testConfig is a short score-only recipe.
func testConfig(steps int) Config {
	c := DefaultConfig()
	c.Steps, c.BatchSize, c.LR, c.WarmupSteps = steps, 8, 3e-3, 5
	c.EvalEvery, c.CheckpointEvery, c.KeepLast = 0, 0, 2
	c.StepTimeout, c.CompileTimeout = 60*time.Second, 120*time.Second
	return c
}

// dataDirs writes train (16 records, one NaN) and val (8 records) shards once per test.
func dataDirs(t testing.TB) (trainDir, valDir string) {
	t.Helper()
	root := t.TempDir()
	trainDir, valDir = filepath.Join(root, "train"), filepath.Join(root, "val")
	writeShards(t, trainDir, 16, 1, -1)
	writeShards(t, valDir, 8, 2, 5)
	return
}

// datasetSRCC scores dir's records with a trained run's model and returns
// the SRCC against their MOS and how many were scored.
func datasetSRCC(t testing.TB, res Result, dir string) (float64, int) {
	t.Helper()
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := feed.ScoreShards(context.Background(), model.NewPredictor(res.Model, res.Backend), ds, 8)
	if err != nil {
		t.Fatal(err)
	}
	srcc, err := corr.SRCC(s.Pred, s.MOS)
	if err != nil {
		t.Fatal(err)
	}
	return srcc, len(s.Pred)
}

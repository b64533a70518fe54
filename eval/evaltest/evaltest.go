// Package evaltest builds fixtures for evaluation tests: a shrunk tiny model
// config, synthetic shard sets whose brightness encodes the MOS, and
// checkpoints trained on them in seconds (a "good" one, and a deliberately
// bad one trained on inverted labels, for regression tests).
package evaltest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// FrameSize is the side of the synthetic shards' frames (feedtest's).
const FrameSize = feedtest.FrameSize

// RepoFile is a path under the repository root.
func RepoFile(parts ...string) string { return feedtest.RepoFile(parts...) }

// ModelConfig is the shrunk tiny model of feedtest.ModelConfig.
func ModelConfig(t testing.TB) model.Config { return feedtest.ModelConfig(t) }

// Params are small deterministic sampler settings matching the tiny model
// (4 context frames, 2 patches of 32 px), so real clips sample quickly.
func Params() sample.Params {
	return sample.Params{M: 4, K: 2, Size: 32, MaxLong: 1080, MaxShort: 540, MinSide: 32}
}

// WriteShards writes n records whose brightness encodes their MOS (plus
// noise), in a shuffled order. With invert the stored label is 6-MOS, so a
// model trained on them ranks backwards.
func WriteShards(t testing.TB, dir string, n int, seed uint64, invert bool) {
	t.Helper()
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: FrameSize, MaxRows: 8})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	img := func(k int, mos float64) []byte { return feedtest.Frames(rng, k, mos) }
	var cands []shards.PairCandidate
	for i := range n {
		mos := feedtest.MOS((i*7+3)%n, n)
		label := mos
		if invert {
			label = 6 - mos
		}
		rec := shards.Record{ID: fmt.Sprintf("v%03d", i), Dataset: "synthetic", Split: "test",
			SourceID: fmt.Sprintf("s%03d", i), MOS: label, MOSNorm: label,
			Context: img(4, mos), M: 4, Patches: img(2, mos), K: 2,
			PatchPos: []shards.PatchPos{{}, {}}, PixelW: FrameSize, PixelH: FrameSize}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, shards.PairCandidate{ID: rec.ID, SourceID: rec.SourceID, MOSNorm: rec.MOSNorm})
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := shards.WritePairs(filepath.Join(dir, "pairs.jsonl"), shards.BuildPairs(cands, 0.5, -1, seed)); err != nil {
		t.Fatal(err)
	}
}

// TrainOptions shape a fixture checkpoint.
type TrainOptions struct {
	Steps  int    // 0 = 60
	Seed   uint64 // training seed (0 = 1)
	Invert bool   // train on inverted labels: a deliberately bad model
}

// Train trains the fixture model into the run directory out (with its
// model.yaml, as `cpllm train` leaves it) and returns out.
func Train(t testing.TB, out string, o TrainOptions) string {
	t.Helper()
	if o.Steps == 0 {
		o.Steps = 60
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	data := filepath.Join(t.TempDir(), "train")
	WriteShards(t, data, 16, 11, o.Invert)
	c := train.DefaultConfig()
	c.Steps, c.BatchSize, c.LR, c.WarmupSteps, c.Seed = o.Steps, 8, 3e-3, 5, o.Seed
	c.EvalEvery, c.CheckpointEvery, c.KeepLast = 0, 0, 1
	c.StepTimeout, c.CompileTimeout = 60*time.Second, 120*time.Second
	mc := ModelConfig(t)
	if _, err := train.Run(context.Background(), train.Options{ModelConfig: mc, Train: c, TrainDir: data, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(mc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "model.yaml"), y, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

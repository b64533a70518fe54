package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model"
)

const testShardSize = 64 // resized to the tiny model's 32

// tinyModel is configs/model/tiny.yaml shrunk further for fast tests.
func tinyModel(t testing.TB) model.Config {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	c, err := model.LoadConfig(filepath.Join(filepath.Dir(file), "..", "configs", "model", "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.Decoder.Layers = 1
	c.ContextEncoder.Layers = 1
	c.Input.MaxTextLen = 32
	return c
}

// testMOS spreads n scores over [1, 5].
func testMOS(i, n int) float64 { return 1 + 4*float64(i)/float64(n-1) }

// writeShards writes n synthetic records whose brightness encodes MOSNorm
// (plus pixel noise), every third one with a description, and pairs.jsonl.
// Record nan (if >= 0) gets a NaN MOS, like a CRF-ladder item.
func writeShards(t testing.TB, dir string, n int, seed uint64, nan int) {
	t.Helper()
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: testShardSize, MaxRows: 6})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	frame := testShardSize * testShardSize * 3
	img := func(k int, mos float64) []byte {
		b := make([]byte, k*frame)
		base := 30 + 45*(mos-1)
		for i := range b {
			b[i] = uint8(math.Max(0, math.Min(255, base+float64(rng.IntN(31)-15))))
		}
		return b
	}
	var cands []shards.PairCandidate
	for i := range n {
		// a fixed permutation so storage order is not sorted by MOS
		j := (i*7 + 3) % n
		mos := testMOS(j, n)
		rec := shards.Record{ID: fmt.Sprintf("v%03d", i), Dataset: "test", Split: "train",
			SourceID: fmt.Sprintf("s%03d", i), MOS: mos, MOSNorm: mos,
			Context: img(4, mos), M: 4, Patches: img(2, mos), K: 2,
			PatchPos: []shards.PatchPos{{}, {}}, PixelW: 64, PixelH: 64}
		if i%3 == 0 {
			rec.Description = levels.Word(mos) + " quality"
		}
		if i == nan {
			rec.MOSNorm = math.NaN()
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, shards.PairCandidate{ID: rec.ID, SourceID: rec.SourceID, MOSNorm: rec.MOSNorm})
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pairs := shards.BuildPairs(cands, 0.5, -1, seed)
	if err := shards.WritePairs(filepath.Join(dir, "pairs.jsonl"), pairs); err != nil {
		t.Fatal(err)
	}
}

// openShards writes n records (seed 1) under a temp dir and opens them.
func openShards(t testing.TB, n int) (*shards.Dataset, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "s")
	writeShards(t, dir, n, 1, -1)
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds, dir
}

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
	br, err := NewBridge(res.Model, ds.FrameSize(), 0)
	if err != nil {
		t.Fatal(err)
	}
	pred, mos, _, err := Predictions(context.Background(), model.NewPredictor(res.Model, res.Backend), br, ds, 8)
	if err != nil {
		t.Fatal(err)
	}
	srcc, err := metrics.SRCC(pred, mos)
	if err != nil {
		t.Fatal(err)
	}
	return srcc, len(pred)
}

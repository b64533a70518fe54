// Package feedtest builds fixtures for tests of feed and train: a shrunk
// tiny model config and synthetic shard sets whose brightness encodes the
// MOS, with descriptions and comparison pairs, written without decoding any
// video.
package feedtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model"
)

// FrameSize is the synthetic shards' frame size (the tiny model reads 32;
// the bridge area-resizes).
const FrameSize = 64

// RepoFile is a path under the repository root.
func RepoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

// ModelConfig is configs/model/tiny.yaml with one layer per stack and a
// shorter text, so tests train and score fast.
func ModelConfig(t testing.TB) model.Config {
	t.Helper()
	c, err := model.LoadConfig(RepoFile("configs", "model", "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.Decoder.Layers = 1
	c.ContextEncoder.Layers = 1
	c.Input.MaxTextLen = 32
	return c
}

// MOS spreads n scores over [1, 5].
func MOS(i, n int) float64 { return 1 + 4*float64(i)/float64(n-1) }

// Frames is k FrameSize x FrameSize RGB frames whose brightness encodes mos
// (1..5), with uniform pixel noise drawn from rng.
func Frames(rng *rand.Rand, k int, mos float64) []byte {
	b := make([]byte, k*FrameSize*FrameSize*3)
	base := 30 + 45*(mos-1)
	for i := range b {
		b[i] = uint8(math.Max(0, math.Min(255, base+float64(rng.IntN(31)-15))))
	}
	return b
}

// WriteShards writes n records whose brightness encodes MOSNorm (plus pixel
// noise), in a fixed permutation of the MOS order, every third one with a
// description naming its level, and pairs.jsonl. Record nan (if >= 0) gets a
// NaN MOS, like a CRF-ladder item.
func WriteShards(t testing.TB, dir string, n int, seed uint64, nan int) {
	t.Helper()
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: FrameSize, MaxRows: 6})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	img := func(k int, mos float64) []byte { return Frames(rng, k, mos) }
	var cands []shards.PairCandidate
	for i := range n {
		j := (i*7 + 3) % n
		mos := MOS(j, n)
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

// OpenShards writes n records (seed 1) under a temp dir and opens them.
func OpenShards(t testing.TB, n int) (*shards.Dataset, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "s")
	WriteShards(t, dir, n, 1, -1)
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds, dir
}

// Model builds and initialises the model of mc on its backend; the backend
// is finalised when the test ends.
func Model(t testing.TB, mc model.Config) (*model.Model, *model.Predictor) {
	t.Helper()
	m, err := model.Build(mc)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := model.NewBackend(mc.Backend)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(backend.Finalize)
	if err := m.Init(backend); err != nil {
		t.Fatal(err)
	}
	return m, model.NewPredictor(m, backend)
}

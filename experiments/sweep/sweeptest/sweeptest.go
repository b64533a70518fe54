// Package sweeptest builds small sweep fixtures for tests: synthetic shards
// (no video decoding), a shrunk tiny model, a few-step recipe and an
// experiment file of two variants x two seeds that trains in seconds.
package sweeptest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
)

// Repo is the repository root.
func Repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// FrameSize is the shards' frame size: the tiny model's input, no resizing.
const FrameSize = 32

// WriteShards writes n records whose brightness follows the MOS loosely (a
// per-record offset, so correlations stay below 1 and differ between seeds)
// and pairs.jsonl. ladder > 0 adds as many unlabelled CRF items derived
// from the first records, like `data shards --ladder`.
func WriteShards(t testing.TB, dir string, n, ladder int, seed uint64) {
	t.Helper()
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: FrameSize, MaxRows: 6})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	img := func(k int, mos float64) []byte {
		b := make([]byte, k*FrameSize*FrameSize*3)
		base := 100 + 15*(mos-1) + float64(rng.IntN(81)-40)
		for i := range b {
			b[i] = uint8(math.Max(0, math.Min(255, base+float64(rng.IntN(41)-20))))
		}
		return b
	}
	var cands []shards.PairCandidate
	add := func(rec shards.Record) {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, shards.PairCandidate{ID: rec.ID, SourceID: rec.SourceID, CRF: rec.CRF, MOSNorm: rec.MOSNorm})
	}
	for i := range n {
		mos := 1 + 4*float64((i*7+3)%n)/float64(n-1)
		add(shards.Record{ID: fmt.Sprintf("v%03d", i), Dataset: "test", Split: "train", SourceID: fmt.Sprintf("s%03d", i),
			MOS: mos, MOSNorm: mos, Context: img(4, mos), M: 4, Patches: img(2, mos), K: 2,
			PatchPos: []shards.PatchPos{{}, {}}, PixelW: 64, PixelH: 64, Description: "fair quality"})
	}
	for i := range ladder {
		crf := 30 + i
		add(shards.Record{ID: fmt.Sprintf("v%03d/crf%d", i, crf), Dataset: "test", Split: "train", SourceID: fmt.Sprintf("s%03d", i),
			CRF: &crf, MOS: math.NaN(), MOSNorm: math.NaN(), Context: img(4, 2), M: 4, Patches: img(2, 2), K: 2,
			PatchPos: []shards.PatchPos{{}, {}}, PixelW: 64, PixelH: 64})
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := shards.WritePairs(filepath.Join(dir, shards.PairsName), shards.BuildPairs(cands, 0.5, -1, seed)); err != nil {
		t.Fatal(err)
	}
}

// Fixture is a directory with train/val/test shards, model.yaml (the tiny
// model with one context and one decoder layer), recipe.yaml and exp.yaml.
type Fixture struct {
	Dir string
	Exp string // exp.yaml: name tsweep, variants both (baseline) and pixel, seeds 2
}

// Recipe is a score-only recipe of steps steps, checkpointing every ckpt.
func Recipe(steps, ckpt int) string {
	return fmt.Sprintf("steps: %d\nbatch_size: 4\nlr: 3.0e-3\nwarmup_steps: 2\nmix: {score: 1, describe: 0, pair: 0}\n"+
		"eval_every: %d\ncheckpoint_every: %d\nstep_timeout: 1m\ncompile_timeout: 2m\n", steps, ckpt, ckpt)
}

// New writes a fixture whose recipe has 6 steps; extra is appended to the
// experiment's variant list.
func New(t testing.TB, extra string) Fixture {
	t.Helper()
	dir := t.TempDir()
	WriteShards(t, filepath.Join(dir, "train"), 16, 0, 1)
	WriteShards(t, filepath.Join(dir, "val"), 8, 0, 2)
	WriteShards(t, filepath.Join(dir, "test"), 10, 0, 3)
	data, err := os.ReadFile(filepath.Join(Repo(), "configs", "model", "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  layers: 2\b`).ReplaceAllString(string(data), "  layers: 1")
	m = strings.Replace(m, "max_text_len: 64", "max_text_len: 32", 1)
	// The tokenizer path is relative to the YAML file: point the copy at the repository's.
	m = regexp.MustCompile(`(?m)^tokenizer: \S+`).ReplaceAllString(m, "tokenizer: "+filepath.Join(Repo(), "configs", "tokenizer", "cpllm.model"))
	f := Fixture{Dir: dir, Exp: filepath.Join(dir, "exp.yaml")}
	f.Write(t, "model.yaml", m)
	f.Write(t, "recipe.yaml", Recipe(6, 3))
	f.Write(t, "exp.yaml", `name: tsweep
model: model.yaml
train: recipe.yaml
data: {train: train, val: val, test: test}
seeds: 2
baseline: both
variants:
  - name: both
  - name: pixel
    model: {variant.encoders: pixel-only}
`+extra)
	return f
}

// Write writes a file into the fixture directory and returns its path.
func (f Fixture) Write(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(f.Dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

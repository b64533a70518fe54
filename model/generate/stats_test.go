package generate

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// withStats rebuilds m's config with the statistics token and random stats.
func withStats(t *testing.T, fusion string) (*model.Model, []Video) {
	t.Helper()
	base := tinyModel(t, fusion)
	cfg := base.Cfg
	cfg.Stats = "nss"
	m, err := model.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(testBackend(t)); err != nil {
		t.Fatal(err)
	}
	videos := randomVideos(m, 1, 2, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	f := cfg.StatsDim()
	st := make([]float32, 2*f)
	for i := range st {
		st[i] = float32(rng.NormFloat64() * 3)
	}
	videos[0].Stats = tensors.FromFlatDataAndDimensions(st, 2, f)
	return m, videos
}

// With the statistics token, generation sees the sequence training sees:
// the first logits equal Predictor.Logits at each prompt's last token, and
// the KV cache equals recomputation.
func TestGenerateWithStatsToken(t *testing.T) {
	for _, fusion := range []string{model.FusionConcat, model.FusionCrossAttn} {
		t.Run(fusion, func(t *testing.T) {
			m, videos := withStats(t, fusion)
			backend := testBackend(t)
			ps := prompts(m)
			g := NewGenerator(m, backend)
			ref, logits := run(t, g, videos, ps, Options{MaxNew: 8})
			l := max(len(ps[0]), len(ps[1]))
			tok := make([]int32, 2*l)
			for i, p := range ps {
				for j, v := range p {
					tok[i*l+j] = int32(v)
				}
			}
			batch := &model.Batch{Frames: videos[0].Frames, Patches: videos[0].Patches, Stats: videos[0].Stats, Tokens: tensorOf(tok, 2, l)}
			lm, err := model.NewPredictor(m, backend).Logits(batch)
			if err != nil {
				t.Fatal(err)
			}
			flat := flat32(t, lm)
			v := m.Cfg.Decoder.VocabSize
			for i, p := range ps {
				at := flat[(i*l+len(p)-1)*v : (i*l+len(p))*v]
				if d := maxDiff([][]float32{at}, [][]float32{logits[0][i]}); d > 1e-4 {
					t.Errorf("row %d: first logits differ from Predictor.Logits by %g", i, d)
				}
			}
			got, _ := run(t, g, videos, ps, Options{MaxNew: 8, UseCache: true})
			for i := range ref {
				if !slices.Equal(ref[i], got[i]) {
					t.Errorf("row %d: cache %v != recompute %v", i, got[i], ref[i])
				}
			}
		})
	}
}

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
			checkFirstLogits(t, m, backend, videos[0], ps, logits[0])
			got, _ := run(t, g, videos, ps, Options{MaxNew: 8, UseCache: true})
			for i := range ref {
				if !slices.Equal(ref[i], got[i]) {
					t.Errorf("row %d: cache %v != recompute %v", i, got[i], ref[i])
				}
			}
		})
	}
}

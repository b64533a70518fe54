package model

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// statsModel is the tiny model with the nss statistics token, after the
// edits, initialised.
func statsModel(t *testing.T, edits ...func(*Config)) *Model {
	t.Helper()
	c := tinyConfig(t)
	c.Stats = "nss"
	for _, e := range edits {
		e(&c)
	}
	m, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(testBackend(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

// The statistics token standardises with the stored mean and std, clips at
// +-statsClip, and changes the score; the norm is checked and travels with
// the weights.
func TestStatsToken(t *testing.T) {
	m := statsModel(t)
	backend := testBackend(t)
	p := NewPredictor(m, backend)
	rng := rand.New(rand.NewPCG(7, 8))
	batch := randomBatch(m, TaskScore, 3, 6, rng)
	batch.Target = nil
	f := m.Cfg.StatsDim()
	z := flat(t, batch.Stats)
	score := func(stats []float64) []float64 {
		t.Helper()
		x := make([]float32, len(stats))
		for i, v := range stats {
			x[i] = float32(v)
		}
		batch.Stats = tensors.FromFlatDataAndDimensions(x, 3, f)
		s, _, err := p.Score(batch)
		if err != nil {
			t.Fatal(err)
		}
		return flat(t, s)
	}
	near := func(a, b []float64, tol float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > tol {
				return false
			}
		}
		return true
	}
	base := score(z) // norm mean 0, std 1 at Init

	// Raw statistics under a norm give what their standardised values give under the identity.
	mean, std := make([]float64, f), make([]float64, f)
	raw := make([]float64, len(z))
	for j := range f {
		mean[j], std[j] = 10*rng.NormFloat64(), math.Exp(3*rng.NormFloat64())
	}
	for i, v := range z {
		raw[i] = mean[i%f] + std[i%f]*v
	}
	if err := m.SetStatsNorm(mean, std); err != nil {
		t.Fatal(err)
	}
	if got := score(raw); !near(got, base, 2e-4) {
		t.Errorf("standardised scores %v, want %v", got, base)
	}
	gm, gs, err := m.StatsNorm()
	if err != nil || !near(gm, mean, 1e-5*10) || math.Abs(gs[0]-std[0]) > 1e-6*std[0] {
		t.Errorf("StatsNorm() = %v, %v, %v; want what was set", gm[:2], gs[:2], err)
	}

	// Beyond the clip every value is the same; inside it the token matters.
	far := func(k float64) []float64 {
		out := make([]float64, len(z))
		for i := range out {
			out[i] = mean[i%f] + k*std[i%f]
		}
		return out
	}
	if a, b := score(far(6)), score(far(600)); !near(a, b, 1e-6) {
		t.Errorf("statistics 6 and 600 std out score %v and %v, want equal (clipped at %g)", a, b, statsClip)
	}
	if a, b := score(far(0)), score(far(2)); near(a, b, 1e-4) {
		t.Errorf("statistics at the mean and 2 std out both score %v: the token has no effect", a)
	}

	// The norm is saved and loaded with the weights.
	path := filepath.Join(t.TempDir(), "variables.gob")
	if err := WriteVariables(m.Store, path); err != nil {
		t.Fatal(err)
	}
	m2 := statsModel(t)
	if err := ReadVariables(m2.Store, path); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := m2.StatsNorm(); !near(got, mean, 1e-4) {
		t.Errorf("loaded norm mean %v, want %v", got[:2], mean[:2])
	}

	for _, c := range []struct {
		mean, std []float64
		want      string
	}{
		{mean[:3], std, "3/38 values"},
		{mean, append(append([]float64{}, std[:f-1]...), 0), "std[37] = 0"},
	} {
		if err := m.SetStatsNorm(c.mean, c.std); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetStatsNorm: err %v, want %q", err, c.want)
		}
	}
	batch.Stats = nil
	if _, _, err := p.Score(batch); err == nil || !strings.Contains(err.Error(), "lacks Stats") {
		t.Errorf("batch without statistics: err %v", err)
	}
	noStats, _ := Build(tinyConfig(t))
	if err := noStats.SetStatsNorm(mean, std); err == nil {
		t.Error("SetStatsNorm on a model without stats: want an error")
	}
	bad := tinyConfig(t)
	bad.Stats = "brisque"
	if _, err := Build(bad); err == nil || !strings.Contains(err.Error(), `stats: "brisque"`) {
		t.Errorf("unknown stats kind: err %v", err)
	}
}

// randomStatsNorm gives m a random standardisation of its statistics (the
// still-image indicator's, when the kind has one, maps 0 and 1 to -1 and
// +1) and returns it.
func randomStatsNorm(t *testing.T, m *Model, rng *rand.Rand) (mean, std []float64) {
	t.Helper()
	f := m.Cfg.StatsDim()
	mean, std = make([]float64, f), make([]float64, f)
	for j := range f {
		mean[j], std[j] = rng.NormFloat64(), math.Exp(rng.NormFloat64())
	}
	if StillKind(m.Cfg.Stats) {
		mean[f-1], std[f-1] = 0.5, 0.5
	}
	if err := m.SetStatsNorm(mean, std); err != nil {
		t.Fatal(err)
	}
	return mean, std
}

// stillRows puts b rows of statistics into batch, drawn around mean with
// spread x std, alternately a still image and a video (the kind's last
// entry), and returns them raw and standardised.
func stillRows(m *Model, batch *Batch, rng *rand.Rand, mean, std []float64, spread float64) (rows, zs [][]float64) {
	f, b := m.Cfg.StatsDim(), batch.Stats.Shape().Dim(0)
	xs := make([]float32, b*f)
	rows, zs = make([][]float64, b), make([][]float64, b)
	for i := range b {
		rows[i] = make([]float64, f)
		for j := range f - 1 {
			rows[i][j] = mean[j] + std[j]*spread*rng.NormFloat64()
		}
		rows[i][f-1] = float64(1 - i%2) // still, video, still, video
		for j, v := range rows[i] {
			xs[i*f+j] = float32(v)
		}
		zs[i] = StatsZ(rows[i], mean, std)
	}
	batch.Stats = tensors.FromFlatDataAndDimensions(xs, b, f)
	return rows, zs
}

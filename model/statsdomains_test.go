package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// heads.stats_linear_domains: the tilt is w . z + s (u . z) + (1 - s)
// (v . z) with s the raw still-image indicator (the statistics' last
// entry), computed here by hand from the zero-weight probabilities, for
// still images and videos in one batch.
func TestStatsLinearDomains(t *testing.T) {
	m := statsModel(t, func(c *Config) {
		c.Stats, c.Heads.StatsLinear, c.Heads.StatsLinearDomains, c.Heads.StatsLinearGain = "frame-nss-logsignals+mnv2mid+still", true, true, 2.5
	})
	p := NewPredictor(m, testBackend(t))
	rng := rand.New(rand.NewPCG(21, 22))
	const b = 4
	f := m.Cfg.StatsDim()
	batch := randomBatch(m, TaskScore, b, 6, rng)
	batch.Target = nil
	mean, std := randomStatsNorm(t, m, rng)
	rows, zs := stillRows(m, batch, rng, mean, std, 1)
	probs := func() []float64 { return scoreProbs(t, p, batch) }
	p0 := probs()
	w := make([]float64, 3*f)
	for j := range w {
		w[j] = 0.2 * rng.NormFloat64()
	}
	if err := m.SetStatsLinear(w); err != nil {
		t.Fatal(err)
	}
	got := probs()
	for i := range b {
		z := zs[i]
		s := rows[i][f-1]
		tilt := 0.0
		for j := range f {
			tilt += (w[j] + s*w[f+j] + (1-s)*w[2*f+j]) * z[j]
		}
		checkTilted(t, fmt.Sprintf("video %d (still %v)", i, s), p0[i*5:i*5+5], got[i*5:i*5+5], tilt)
	}
	if err := m.SetStatsLinear(w[:f]); err == nil || !strings.Contains(err.Error(), "want") {
		t.Errorf("shared weights alone on a model with domains: err %v", err)
	}
	for _, edit := range []func(*Config){
		func(c *Config) {
			c.Stats, c.Heads.StatsLinear, c.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid", true, true
		},
		func(c *Config) { c.Stats, c.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid+still", true },
	} {
		c := tinyConfig(t)
		edit(&c)
		if _, err := Build(c); err == nil || !strings.Contains(err.Error(), "stats_linear_domains needs stats_linear: true and stats frame-nss-logsignals+mnv2mid+still") {
			t.Errorf("%+v: err %v", c.Heads, err)
		}
	}
}

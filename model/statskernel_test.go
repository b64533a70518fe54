package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// heads.stats_kernel: the level probabilities are the kernel-free ones
// tilted by sum_i alpha_i exp(-gamma_s |z[:45] - support_i|^2) over the
// supports of the row's own domain, computed here by hand; a support of
// the other domain sitting exactly on a row, with a large coefficient,
// leaves it alone.
func TestStatsKernelTilt(t *testing.T) {
	m := statsModel(t, func(c *Config) {
		c.Stats, c.Heads.StatsLinear, c.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid+still", true, true
		c.Heads.StatsKernel = 9
	})
	p := NewPredictor(m, testBackend(t))
	rng := rand.New(rand.NewPCG(31, 32))
	const b = 4
	f := m.Cfg.StatsDim()
	batch := randomBatch(m, TaskScore, b, 6, rng)
	batch.Target = nil
	mean, std := randomStatsNorm(t, m, rng)
	rows, zs := stillRows(m, batch, rng, mean, std, 0.5)
	p0 := scoreProbs(t, p, batch)

	// supports near the rows (so the kernel is far from zero), one per row
	// and domain, plus one of the video domain exactly on the first (still) row
	var k StatsKernel
	for i := range b {
		sup := make([]float64, StatsKernelDims)
		for j := range sup {
			sup[j] = zs[i][j] + 0.3*rng.NormFloat64()
		}
		k.Support = append(k.Support, sup)
		k.Alpha = append(k.Alpha, rng.NormFloat64())
		k.Still = append(k.Still, rows[i][f-1])
	}
	k.Support = append(k.Support, append([]float64{}, zs[0][:StatsKernelDims]...))
	k.Alpha = append(k.Alpha, 50)
	k.Still = append(k.Still, 0)
	k.Gamma = [2]float64{0.05, 0.2}
	if err := m.SetStatsKernel(k); err != nil {
		t.Fatal(err)
	}
	got := scoreProbs(t, p, batch)
	big := 0
	for i := range b {
		s := rows[i][f-1]
		tilt := 0.0
		for n, sup := range k.Support {
			if k.Still[n] != s {
				continue
			}
			d2 := 0.0
			for j := range StatsKernelDims {
				d2 += (zs[i][j] - sup[j]) * (zs[i][j] - sup[j])
			}
			tilt += k.Alpha[n] * math.Exp(-k.Gamma[int(s)]*d2)
		}
		if math.Abs(tilt) > 0.05 {
			big++
		}
		if cpu := k.Tilt(zs[i], s); math.Abs(cpu-tilt) > 1e-12 {
			t.Errorf("row %d: StatsKernel.Tilt %g, want %g", i, cpu, tilt)
		}
		checkTilted(t, fmt.Sprintf("row %d (still %v)", i, s), p0[i*5:i*5+5], got[i*5:i*5+5], tilt)
	}
	if big < 2 {
		t.Fatalf("only %d rows have a kernel tilt above 0.05: the test cannot see the kernel", big)
	}

	k.Support = append(k.Support, make([][]float64, 5)...)
	if err := m.SetStatsKernel(k); err == nil || !strings.Contains(err.Error(), "heads.stats_kernel holds 9") {
		t.Errorf("more supports than slots: err %v", err)
	}
	c := tinyConfig(t)
	c.Stats, c.Heads.StatsLinear, c.Heads.StatsKernel = "frame-nss-logsignals+mnv2mid+still", true, 4
	if _, err := Build(c); err == nil || !strings.Contains(err.Error(), "heads: stats_kernel needs stats_linear_domains") {
		t.Errorf("stats_kernel without domains: err %v", err)
	}
}

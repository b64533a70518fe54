package train

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/model"
)

// A run with the statistics token standardises them over its training
// records only (never the holdout), and its checkpoints carry the norm.
func TestStatsNormFromTrainingRecords(t *testing.T) {
	cfg := testConfig(2)
	cfg.EvalEvery = 2
	cfg.BatchSize = 4
	cfg.Data = twoSources(t)
	cfg.Holdout = Holdout{Fraction: 0.25}
	mc := tinyModel(t)
	mc.Stats = "nss"
	res := run(t, Options{ModelConfig: mc, Train: cfg, OutDir: t.TempDir()})

	p, err := openPool(cfg.Data, cfg.Holdout, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	var fit, all [][]float64
	for i, ds := range p.ds {
		for recs, err := range ds.Batches(context.Background(), shards.BatchOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				v, ok, err := nss.PatchStats(r.Patches, r.K, ds.FrameSize())
				if err != nil || !ok {
					t.Fatalf("%s: statistics ok %v err %v", r.ID, ok, err)
				}
				all = append(all, v)
				if !p.heldOut[i][r.ID] {
					fit = append(fit, v)
				}
			}
		}
	}
	meanOf := func(rows [][]float64, j int) float64 {
		s := 0.0
		for _, r := range rows {
			s += r[j]
		}
		return s / float64(len(rows))
	}
	for _, ck := range []string{res.Checkpoint, res.BestCheckpoint} {
		m, _, err := model.LoadCheckpoint(mc, ck)
		if err != nil {
			t.Fatal(err)
		}
		mean, std, err := m.StatsNorm()
		if err != nil {
			t.Fatal(err)
		}
		differs := false
		for j := range mean {
			want := meanOf(fit, j)
			if math.Abs(mean[j]-want) > 1e-5*max(1, math.Abs(want)) || !(std[j] > 0) {
				t.Fatalf("%s: %s norm %g +- %g, want the training records' mean %g", ck, nss.NSSNames[j], mean[j], std[j], want)
			}
			differs = differs || math.Abs(meanOf(all, j)-want) > 1e-4*max(1, math.Abs(want))
		}
		if !differs {
			t.Fatal("the held-out records do not move the mean: the test cannot tell them apart")
		}
	}
}

// A model that reads whole-frame statistics refuses, before it is built,
// to train on shards made without them (every record would get the same
// token), naming the directory and the shards setting.
func TestFrameStatsNeedFrameShards(t *testing.T) {
	cfg := testConfig(2)
	cfg.BatchSize = 4
	cfg.Data = twoSources(t)
	mc := tinyModel(t)
	mc.Stats = "frame-nss-logsignals"
	_, err := Run(context.Background(), Options{ModelConfig: mc, Train: cfg, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), cfg.Data[0].Shards) || !strings.Contains(err.Error(), "shards.frame_stats=true") {
		t.Fatalf("training frame-nss-logsignals on shards without frame statistics: %v", err)
	}
}

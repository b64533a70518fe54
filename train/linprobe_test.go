package train

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// pyOracle runs the Python oracle script with in as JSON on stdin and
// decodes its JSON stdout into out.
func pyOracle(t *testing.T, py, script string, in, out any) {
	t.Helper()
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Stdin = bytes.NewReader(js)
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle %s: %v", script, err)
	}
	if err := json.Unmarshal(got, out); err != nil {
		t.Fatalf("oracle %s: %v", script, err)
	}
}

// ridgeLOO against numpy's explicit leave-one-out refits
// (testdata/ridge_oracle.py): the chosen penalty and the weights, on
// weighted rows with fewer rows than features and with more.
func TestRidgeLOOMatchesOracle(t *testing.T) {
	py := testutil.RequireTorch(t) // Debian's python3 with numpy
	for _, c := range []struct{ n, f int }{{40, 12}, {15, 30}} {
		rng := rand.New(rand.NewPCG(uint64(c.n), uint64(c.f)))
		xs := make([][]float64, c.n)
		ys, ws := make([]float64, c.n), make([]float64, c.n)
		truth := make([]float64, c.f)
		for k := range truth {
			truth[k] = rng.NormFloat64() * 0.3
		}
		for i := range xs {
			xs[i] = make([]float64, c.f)
			for k := range xs[i] {
				xs[i][k] = rng.NormFloat64() + 0.5
				ys[i] += truth[k] * xs[i][k]
			}
			ys[i] += 2 + rng.NormFloat64()
			ws[i] = 0.2 + rng.Float64()
		}
		w, lambda, err := ridgeLOO(xs, ys, ws)
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			W      []float64 `json:"w"`
			Lambda float64   `json:"lambda"`
		}
		pyOracle(t, py, "testdata/ridge_oracle.py", map[string]any{"x": xs, "y": ys, "w": ws, "lambdas": ridgeLambdas}, &want)
		if lambda != want.Lambda {
			t.Errorf("n=%d f=%d: lambda %g, oracle %g", c.n, c.f, lambda, want.Lambda)
		}
		for k := range w {
			if math.Abs(w[k]-want.W[k]) > 1e-8*(1+math.Abs(want.W[k])) {
				t.Errorf("n=%d f=%d: w[%d] = %.12g, oracle %.12g", c.n, c.f, k, w[k], want.W[k])
			}
		}
		t.Logf("n=%d f=%d: lambda %g (grid %g..%g)", c.n, c.f, lambda, ridgeLambdas[0], ridgeLambdas[len(ridgeLambdas)-1])
	}
}

// stats_linear_init: ridge starts heads.stats_linear at the ridge fit of the
// tilts of the score sources' training records (held-out ones and
// pair-only sources left out, each source weighted by its share), the gain
// divided out. A learning rate of 1e-12 keeps the weights where they start.
func TestStatsLinearInitRidge(t *testing.T) {
	cfg := testConfig(1)
	cfg.BatchSize = 4
	cfg.LR, cfg.WeightDecay = 1e-12, 0
	cfg.Data = twoSources(t)
	cfg.Data = append(cfg.Data, Source{Name: "a-pairs", Shards: cfg.Data[0].Shards, Weight: 5, Tasks: []string{"pair"}})
	cfg.Holdout = Holdout{Fraction: 0.25}
	cfg.StatsLinearInit = "ridge"
	mc := tinyModel(t)
	mc.Stats = "nss"
	mc.Heads.StatsLinear, mc.Heads.StatsLinearGain = true, 2.5
	m, mean, std, p := startedRun(t, mc, cfg)
	var xs [][]float64
	var ys, ws []float64
	for i, ds := range p.ds[:2] { // the score sources
		var n int
		for recs, err := range ds.Batches(context.Background(), shards.BatchOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if p.heldOut[i][r.ID] {
					continue
				}
				v, ok, err := nss.PatchStats(r.Patches, r.K, ds.FrameSize())
				if err != nil || !ok {
					t.Fatalf("%s: statistics ok %v err %v", r.ID, ok, err)
				}
				xs = append(xs, model.StatsZ(v, mean, std))
				ys = append(ys, model.TiltFor(r.MOSNorm))
				n++
			}
		}
		for range n {
			ws = append(ws, cfg.Data[i].weight()/float64(n))
		}
	}
	want, _, err := ridgeLOO(xs, ys, ws)
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Store.GetVariable("/heads/stats_linear/weight").Value()
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](v)
	nonzero := false
	for k := range want {
		g := 2.5 * float64(got[k])
		if math.Abs(g-want[k]) > 1e-5*(1e-3+math.Abs(want[k])) {
			t.Errorf("stats_linear weight %d: %g x gain 2.5 = %g, want the ridge fit's %g", k, got[k], g, want[k])
		}
		nonzero = nonzero || want[k] != 0
	}
	if !nonzero {
		t.Fatal("the ridge fit is zero: the test cannot tell it from the default init")
	}
}

// startedRun trains cfg for its (one, lr 1e-12) step and returns the
// trained model, its statistics' mean and std, and the recipe's pool.
func startedRun(t *testing.T, mc model.Config, cfg Config) (*model.Model, []float64, []float64, *pool) {
	t.Helper()
	res := run(t, Options{ModelConfig: mc, Train: cfg, OutDir: t.TempDir()})
	m, _, err := model.LoadCheckpoint(mc, res.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	mean, std, err := m.StatsNorm()
	if err != nil {
		t.Fatal(err)
	}
	p, err := openPool(cfg.Data, cfg.Holdout, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return m, mean, std, p
}

// stats_linear_init on a model without the linear path is refused with an
// error naming both settings, before any step.
func TestStatsLinearInitNeedsTheHead(t *testing.T) {
	cfg := testConfig(1)
	cfg.BatchSize = 4
	cfg.StatsLinearInit = "ridge"
	mc := tinyModel(t)
	mc.Stats = "nss"
	cfg.Data = twoSources(t)
	_, err := Run(context.Background(), Options{ModelConfig: mc, Train: cfg, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "stats_linear_init") || !strings.Contains(err.Error(), "heads.stats_linear") {
		t.Fatalf("err %v, want one naming stats_linear_init and heads.stats_linear", err)
	}
}

// probeRow lays a record's ridge row out as model.SetStatsLinear takes the
// weights (shared, still images', videos'), so w . row is the tilt the
// model computes for it: w . z + s (u . z) + (1 - s) (v . z); without
// heads.stats_linear_domains the row is z.
func TestProbeRowDomains(t *testing.T) {
	var c model.Config
	z := []float64{0.5, -1, 2}
	if got := probeRow(c, []float64{9, 9, 9}, z); !slices.Equal(got, z) {
		t.Fatalf("without domains: %v, want z %v", got, z)
	}
	c.Heads.StatsLinearDomains = true
	w := []float64{1, 2, 3, 0.1, 0.2, 0.3, -1, -2, -3}
	for _, s := range []float64{0, 1} {
		row := probeRow(c, []float64{7, 7, s}, z)
		var got, want float64
		for j := range row {
			got += w[j] * row[j]
		}
		for j, v := range z {
			want += (w[j] + s*w[3+j] + (1-s)*w[6+j]) * v
		}
		if len(row) != 9 || math.Abs(got-want) > 1e-12 {
			t.Fatalf("still %v: row %v gives %g, want %g", s, row, got, want)
		}
	}
}

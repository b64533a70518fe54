package train

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// randomRank draws n weighted score rows and p ranking rows of f features.
func randomRank(seed uint64, n, f, p int) (xs [][]float64, ys, ws []float64, pairs []rankRow) {
	rng := rand.New(rand.NewPCG(seed, 11))
	truth := make([]float64, f)
	for k := range truth {
		truth[k] = rng.NormFloat64() * 0.3
	}
	for range n {
		x := make([]float64, f)
		y := 1.5 + rng.NormFloat64()
		for k := range x {
			x[k] = rng.NormFloat64() + 0.5
			y += truth[k] * x[k]
		}
		xs, ys, ws = append(xs, x), append(ys, y), append(ws, 0.2+rng.Float64())
	}
	for range p {
		d := make([]float64, f)
		for k := range d {
			d[k] = rng.NormFloat64()
		}
		pairs = append(pairs, rankRow{d: d, m: 0.2 + 0.6*rng.Float64()})
	}
	return
}

// ridgeRank against scipy's L-BFGS on the same objective with the
// intercept free (testdata/rank_oracle.py): the Newton active-set
// iterations must land on the minimiser, with some pairs past their
// margin and some short of it so both sides of the hinge are exercised.
func TestRidgeRankMatchesOracle(t *testing.T) {
	py := testutil.RequireTorch(t) // Debian's python3 with numpy and scipy
	for _, c := range []struct {
		n, f, p       int
		lambda, alpha float64
	}{{40, 8, 30, 0.5, 2}, {20, 15, 60, 3, 10}, {30, 6, 25, 0.05, 0.3}} {
		xs, ys, ws, pairs := randomRank(uint64(c.n*c.p), c.n, c.f, c.p)
		w, its, short, err := ridgeRank(xs, ys, ws, c.lambda, pairs, c.alpha)
		if err != nil {
			t.Fatal(err)
		}
		if short == 0 || short == c.p {
			t.Errorf("%+v: %d of %d pairs short of the margin: the hinge's two sides are not both tested", c, short, c.p)
		}
		d, m := make([][]float64, c.p), make([]float64, c.p)
		for i, r := range pairs {
			d[i], m[i] = r.d, r.m
		}
		var want struct {
			W []float64 `json:"w"`
		}
		pyOracle(t, py, "testdata/rank_oracle.py", map[string]any{"x": xs, "y": ys, "w": ws, "lambda": c.lambda, "d": d, "m": m, "alpha": c.alpha}, &want)
		for k := range w {
			if math.Abs(w[k]-want.W[k]) > 1e-6*(1+math.Abs(want.W[k])) {
				t.Errorf("%+v: w[%d] = %.10g, oracle %.10g", c, k, w[k], want.W[k])
			}
		}
		t.Logf("%+v: %d Newton steps, %d pairs short", c, its, short)
	}
}

// Without ranking weight the fit is ridgeLOO's at the same penalty.
func TestRidgeRankWithoutPairsIsTheRidge(t *testing.T) {
	xs, ys, ws, pairs := randomRank(3, 30, 10, 20)
	want, lambda, err := ridgeLOO(xs, ys, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]rankRow{nil, pairs} {
		w, _, _, err := ridgeRank(xs, ys, ws, lambda, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k := range w {
			if math.Abs(w[k]-want[k]) > 1e-9*(1+math.Abs(want[k])) {
				t.Fatalf("%d pairs at weight 0: w[%d] = %.12g, ridge %.12g", len(p), k, w[k], want[k])
			}
		}
	}
}

// stats_linear_ladder starts heads.stats_linear at ridgeRank's fit of the
// training records' tilts plus the ladder pairs of the score sources'
// pairs.jsonl: pairs touching a held-out record are left out, a rung
// without MOS still takes part, and the start orders the ladder pairs
// better than the MOS-only ridge does.
func TestStatsLinearLadder(t *testing.T) {
	cfg := testConfig(1)
	cfg.BatchSize = 4
	cfg.LR, cfg.WeightDecay = 1e-12, 0
	root := t.TempDir()
	a := filepath.Join(root, "a")
	writeShards(t, a, 20, 1, 4) // v004 has no MOS
	// ladders against the statistics' MOS reading: by MOS the first rung
	// would be the worse one
	ladder := []shards.Pair{}
	for _, l := range [][]string{{"v001", "v002", "v003", "v004"}, {"v005", "v006", "v007"}, {"v010", "v011", "v012", "v013"}, {"v015", "v016", "v017"}} {
		for i := range l {
			for j := i + 1; j < len(l); j++ {
				ladder = append(ladder, shards.Pair{A: l[j], B: l[i], Label: 1, Kind: shards.KindLadder})
			}
		}
	}
	if err := shards.WritePairs(filepath.Join(a, "pairs.jsonl"), ladder); err != nil {
		t.Fatal(err)
	}
	cfg.Data = []Source{{Name: "a", Shards: a, Tasks: []string{"score", "pair"}}}
	cfg.Holdout = Holdout{Fraction: 0.25}
	cfg.StatsLinearInit, cfg.StatsLinearLadder = "ridge", 4
	mc := tinyModel(t)
	mc.Stats = "nss"
	mc.Heads.StatsLinear = true
	m, mean, std, p := startedRun(t, mc, cfg)
	var xs [][]float64
	var ys, ws []float64
	z := map[string][]float64{}
	for recs, err := range p.ds[0].Batches(context.Background(), shards.BatchOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if p.heldOut[0][r.ID] {
				continue
			}
			v, ok, err := nss.PatchStats(r.Patches, r.K, p.ds[0].FrameSize())
			if err != nil || !ok {
				t.Fatalf("%s: statistics ok %v err %v", r.ID, ok, err)
			}
			z[r.ID] = model.StatsZ(v, mean, std)
			if !math.IsNaN(r.MOSNorm) {
				xs, ys, ws = append(xs, z[r.ID]), append(ys, model.TiltFor(r.MOSNorm)), append(ws, 1)
			}
		}
	}
	var pairs []rankRow
	for _, q := range ladder {
		if p.heldOut[0][q.A] || p.heldOut[0][q.B] {
			continue
		}
		d := make([]float64, len(z[q.B]))
		for k := range d {
			d[k] = z[q.B][k] - z[q.A][k] // B is the better one
		}
		pairs = append(pairs, rankRow{d: d, m: ladderMargin})
	}
	if len(pairs) == len(ladder) || len(pairs) == 0 {
		t.Fatalf("%d of %d ladder pairs outside the holdout: the test needs some of each", len(pairs), len(ladder))
	}
	if _, ok := z["v004"]; !ok || p.heldOut[0]["v004"] {
		t.Fatal("the rung without MOS is held out: the test cannot check it takes part")
	}
	ridge, lambda, err := ridgeLOO(xs, ys, ws)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _, err := ridgeRank(xs, ys, ws, lambda, pairs, 4)
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Store.GetVariable("/heads/stats_linear/weight").Value()
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](v)
	for k := range want {
		if math.Abs(float64(got[k])-want[k]) > 1e-5*(1e-3+math.Abs(want[k])) {
			t.Errorf("stats_linear weight %d: %g, want the ranking fit's %g", k, got[k], want[k])
		}
	}
	ordered := func(w []float64) (n int) {
		for _, q := range pairs {
			var s float64
			for k := range w {
				s += w[k] * q.d[k]
			}
			if s > 0 {
				n++
			}
		}
		return n
	}
	if ordered(want) <= ordered(ridge) {
		t.Errorf("the ranking fit orders %d of %d ladder pairs, the MOS-only ridge %d: want more", ordered(want), len(pairs), ordered(ridge))
	}
	t.Logf("ladder pairs ordered: ridge %d, with the ranking term %d of %d", ordered(ridge), ordered(want), len(pairs))
}

// stats_linear_ladder is refused when negative or without the ridge start,
// naming the key.
func TestStatsLinearLadderValidated(t *testing.T) {
	for in, want := range map[string]string{
		"stats_linear_ladder: -1\nstats_linear_init: ridge\n": "stats_linear_ladder -1 is negative",
		"stats_linear_ladder: 2\n":                            "stats_linear_ladder needs stats_linear_init: ridge",
	} {
		if _, err := ParseConfig([]byte(in), "r.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if c, err := ParseConfig([]byte("stats_linear_ladder: 2\nstats_linear_init: ridge\n"), "r.yaml"); err != nil || c.StatsLinearLadder != 2 {
		t.Fatalf("stats_linear_ladder 2: %+v %v", c, err)
	}
}

// With a kernel reading beside the linear one the pairs' margins are on
// the mean of the two: at a large ranking weight every pair's final tilt
// difference, (w . d) / 2 plus the kernel's, reaches the margin, also for
// pairs the kernel orders the wrong way (which a margin on w . d alone
// would leave short).
func TestFitLadderMarginOnTheMean(t *testing.T) {
	xs, ys, ws, _ := randomRank(9, 30, 6, 0)
	rng := rand.New(rand.NewPCG(4, 4))
	k := model.StatsKernel{Gamma: [2]float64{0.02, 0.02}}
	for range 5 {
		sup := make([]float64, model.StatsKernelDims)
		for j := range sup {
			sup[j] = rng.NormFloat64()
		}
		k.Support, k.Alpha, k.Still = append(k.Support, sup), append(k.Alpha, 2*rng.NormFloat64()), append(k.Still, 0)
	}
	feat := func() probeFeat {
		z := make([]float64, model.StatsKernelDims)
		for j := range z {
			z[j] = rng.NormFloat64() * 0.7
		}
		return probeFeat{row: z[:6], z: z}
	}
	// the better record is the worse one moved along a fixed direction of
	// the linear features, so one linear reading can order every pair
	u := []float64{0.5, -0.5, 0.5, 0.5, 0, 0}
	var pairs [][2]probeFeat
	against := 0
	for range 40 {
		worse := feat()
		zb := slices.Clone(worse.z)
		step := 0.3 + rng.Float64()
		for j, v := range u {
			zb[j] += step * v
		}
		p := [2]probeFeat{{row: zb[:6], z: zb}, worse}
		if k.Tilt(p[0].z, 0)-k.Tilt(p[1].z, 0) < -ladderMargin {
			against++
		}
		pairs = append(pairs, p)
	}
	if against == 0 {
		t.Fatal("no pair the kernel orders against its margin: the test cannot tell the margins apart")
	}
	r := &runner{cfg: Config{StatsLinearLadder: 1e5}, opts: Options{Log: io.Discard}}
	w, err := r.fitLadder(xs, ys, ws, 1, pairs, &k)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		var lin float64
		for j := range w {
			lin += w[j] * (p[0].row[j] - p[1].row[j])
		}
		if got := lin/2 + k.Tilt(p[0].z, 0) - k.Tilt(p[1].z, 0); got < ladderMargin-1e-3 {
			t.Errorf("pair %d: final tilt difference %.4f, want >= %g", i, got, ladderMargin)
		}
	}
	t.Logf("%d of %d pairs ordered against the margin by the kernel alone", against, len(pairs))
}

// ladderPairs: a source without pairs.jsonl (an image dataset) has no
// ladder pairs and is no error; an unreadable pairs.jsonl is, naming it;
// MOS pairs and pairs with a record outside feats are left out, and a
// pair is returned better first whichever side its label names.
func TestLadderPairs(t *testing.T) {
	dir := t.TempDir()
	feats := map[string]probeFeat{"a": {}, "b": {}, "c": {}}
	if got, err := ladderPairs(dir, feats); err != nil || got != nil {
		t.Fatalf("no pairs.jsonl: %v %v", got, err)
	}
	path := filepath.Join(dir, "pairs.jsonl")
	os.WriteFile(path, []byte("{not json\n"), 0o644)
	if _, err := ladderPairs(dir, feats); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt pairs.jsonl: %v, want an error naming %s", err, path)
	}
	pairs := []shards.Pair{{A: "a", B: "b", Label: 0, Kind: shards.KindLadder}, {A: "a", B: "c", Label: 1, Kind: shards.KindLadder},
		{A: "b", B: "c", Label: 0, Kind: shards.KindMOS}, {A: "a", B: "held", Label: 0, Kind: shards.KindLadder}}
	if err := shards.WritePairs(path, pairs); err != nil {
		t.Fatal(err)
	}
	got, err := ladderPairs(dir, feats)
	if want := [][2]string{{"a", "b"}, {"c", "a"}}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("pairs %v (%v), want %v", got, err, want)
	}
}

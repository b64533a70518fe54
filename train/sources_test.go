package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
)

// The holdout draws round(fraction * groups) groups, from the seed alone.
func TestDrawHoldout(t *testing.T) {
	groups := map[string][]string{}
	for _, k := range strings.Fields("a b c d e f g h i j k l m n o p q r s t") {
		groups[k] = []string{k}
	}
	a := drawHoldout(groups, Holdout{Fraction: 0.25, Seed: 3}, "konvid")
	b := drawHoldout(groups, Holdout{Fraction: 0.25, Seed: 3}, "konvid")
	c := drawHoldout(groups, Holdout{Fraction: 0.25, Seed: 4}, "konvid")
	if len(a) != 5 || !slices.Equal(a, b) {
		t.Fatalf("draws %v and %v: want the same 5 groups", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 3 and 4 drew the same groups %v", a)
	}
	if got := drawHoldout(groups, Holdout{Fraction: 0.01, Seed: 3}, "x"); len(got) != 1 {
		t.Fatalf("a tiny fraction holds out %d groups, want 1", len(got))
	}
}

// The folds of one seed partition the groups: fold 0 is the plain holdout,
// the last fold takes the remainder, and no group is in two folds.
func TestDrawHoldoutFolds(t *testing.T) {
	for _, tc := range []struct {
		groups, folds int
		frac          float64
		sizes         []int
	}{
		{63, 5, 0.2, []int{13, 13, 13, 13, 11}},
		{627, 5, 0.2, []int{125, 125, 125, 125, 127}},
		{20, 4, 0.25, []int{5, 5, 5, 5}},
	} {
		groups := map[string][]string{}
		for i := range tc.groups {
			k := strconv.Itoa(i)
			groups[k] = []string{k}
		}
		h := Holdout{Fraction: tc.frac, Seed: 3}
		if h.Folds() != tc.folds {
			t.Fatalf("fraction %g: %d folds, want %d", tc.frac, h.Folds(), tc.folds)
		}
		seen := map[string]int{}
		for f := range tc.folds {
			h.Fold = f
			got := drawHoldout(groups, h, "konvid")
			if len(got) != tc.sizes[f] {
				t.Errorf("%d groups, fold %d: %d held out, want %d", tc.groups, f, len(got), tc.sizes[f])
			}
			if f == 0 && !slices.Equal(got, drawHoldout(groups, Holdout{Fraction: tc.frac, Seed: 3}, "konvid")) {
				t.Errorf("fold 0 %v is not the plain holdout", got)
			}
			for _, k := range got {
				seen[k]++
			}
		}
		for k := range groups {
			if seen[k] != 1 {
				t.Errorf("%d groups: group %s held out by %d folds, want 1", tc.groups, k, seen[k])
			}
		}
	}
	cfg := DefaultConfig()
	cfg.Holdout = Holdout{Fraction: 0.2, Fold: 5}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "holdout.fold 5 must be in [0, 5)") {
		t.Errorf("fold 5 of 5: %v, want a holdout.fold error", err)
	}
}

// Batches of a mixture come from the sources in proportion to their weights.
func TestMixturePick(t *testing.T) {
	m := newMixture(make([]taskStream, 3), []float64{1, 2, 1}, 7, StreamPos{})
	var n [3]int
	const draws = 20000
	for d := range draws {
		n[m.pick(d)]++
	}
	for i, want := range []float64{0.25, 0.5, 0.25} {
		if got := float64(n[i]) / draws; math.Abs(got-want) > 0.015 {
			t.Errorf("source %d: share %.3f, want %.2f", i, got, want)
		}
	}
}

// twoSources writes a score+describe source "a" (20 records) and a
// pair-only source "b" (12 records) and returns their Sources.
func twoSources(t *testing.T) []Source {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeShards(t, a, 20, 1, -1)
	writeShards(t, b, 12, 2, -1)
	return []Source{
		{Name: "a", Shards: a, Tasks: []string{"score", "describe"}},
		{Name: "b", Shards: b, Weight: 3, Tasks: []string{"score", "pair"}},
	}
}

// Held-out records never reach a training stream, for any task and source;
// the rest of the pool does.
func TestHoldoutLeavesTraining(t *testing.T) {
	srcs := twoSources(t)
	p, err := openPool(srcs, Holdout{Fraction: 0.25}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.valIDs[0]) != 5 || len(p.valIDs[1]) != 3 {
		t.Fatalf("validation ids %v: want 5 of a's 20 and 3 of b's 12", p.valIDs)
	}
	cfg := testConfig(1)
	cfg.BatchSize = 4
	ctx := context.Background()
	for i := range srcs {
		held := p.heldOut[i]
		for _, id := range p.valIDs[i] {
			if !held[id] {
				t.Fatalf("source %s: validation id %s is not held out", srcs[i].Name, id)
			}
		}
		seen := map[string]bool{}
		rs, err := tasks[model.TaskScore].open(p.ds[i], 1, StreamPos{}, cfg, srcs[i], held)
		if err != nil {
			t.Fatal(err)
		}
		for range 40 {
			recs, err := rs.(*recordStream).Next(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				seen[r.ID] = true
			}
		}
		rs.Close()
		ps, err := newPairStream(p.ds[i], 1, StreamPos{}, 4, held, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range ps.pairs {
			if held[pr.A] || held[pr.B] {
				t.Fatalf("source %s: pair %s-%s touches a held-out record", srcs[i].Name, pr.A, pr.B)
			}
		}
		for id := range seen {
			if held[id] {
				t.Fatalf("source %s: held-out %s was trained on", srcs[i].Name, id)
			}
		}
		if want := p.ds[i].Len() - len(held); len(seen) != want {
			t.Errorf("source %s: %d ids trained on, want every one of the %d kept", srcs[i].Name, len(seen), want)
		}
	}
}

// A run over two sources validates on each one's holdout and reports the mean.
func TestRunTwoSourcesHoldout(t *testing.T) {
	cfg := testConfig(12)
	cfg.EvalEvery = 6
	cfg.BatchSize = 4
	cfg.Mix = TaskMix{Score: 1, Describe: 0.5, Pair: 0.5}
	cfg.Data = twoSources(t)
	cfg.Holdout = Holdout{Fraction: 0.25}
	out := t.TempDir()
	res := run(t, Options{ModelConfig: tinyModel(t), Train: cfg, OutDir: out})
	ev := res.LastEval
	if ev == nil || len(ev.Sources) != 2 || ev.Sources["a"].N != 5 || ev.Sources["b"].N != 3 || ev.N != 8 {
		t.Fatalf("validation %+v: want sources a (5) and b (3)", ev)
	}
	if mean := (ev.Sources["a"].SRCC + ev.Sources["b"].SRCC) / 2; math.Abs(ev.SRCC-mean) > 1e-12 {
		t.Fatalf("SRCC %g is not the mean of the sources' %g", ev.SRCC, mean)
	}
	if res.BestCheckpoint == "" {
		t.Fatal("no best checkpoint")
	}
	js, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil || !strings.Contains(string(js), `"sources":{"a":{"srcc":`) {
		t.Fatalf("metrics.jsonl lacks the per-source figures (%v)", err)
	}
}

func TestDataConfigErrors(t *testing.T) {
	for body, want := range map[string]string{
		"data: [{shards: x}]\n":                                                    "data[0]: name is required",
		"data: [{name: a, shards: x}, {name: a, shards: y}]\n":                     `data[1]: name "a" repeats`,
		"data: [{name: a}]\n":                                                      "data[0] (a): shards is required",
		"data: [{name: a, shards: x, tasks: [scores]}]\n":                          `unknown task "scores"`,
		"mix: {score: 1, pair: 1}\ndata: [{name: a, shards: x, tasks: [score]}]\n": "task pair has ratio 1 but no data source serves it",
		"holdout: {fraction: 1}\n":                                                 "holdout.fraction 1 must be in [0, 1)",
		"data: [{name: a, shards: x, pair_kinds: [crf]}]\n":                        `data[0] (a): unknown pair kind "crf" (known: ladder, mos, ladder-adjacent)`,
		"data: [{name: a, shards: x, tasks: [score], pair_kinds: [ladder]}]\n":     "pair_kinds is set but the source does not serve the pair task",
	} {
		_, err := ParseConfig([]byte(body), "r.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", body, err, want)
		}
	}
	if _, err := ParseConfig([]byte("data: [{name: a, shards: x}, {name: b, shards: x, tasks: [pair], pair_kinds: [ladder-adjacent]}]\n"), "r.yaml"); err != nil {
		t.Errorf("pair_kinds [ladder-adjacent]: %v", err)
	}
	trainDir, valDir := dataDirs(t)
	cfg := testConfig(1)
	cfg.Data = []Source{{Name: "a", Shards: trainDir}}
	if _, err := Run(context.Background(), Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, OutDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "use one") {
		t.Errorf("data section and --train-shards: %v", err)
	}
	cfg.Holdout.Fraction = 0.2
	if _, err := Run(context.Background(), Options{ModelConfig: tinyModel(t), Train: cfg, ValDir: valDir, OutDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "both give validation data") {
		t.Errorf("holdout and --val-shards: %v", err)
	}
}

// HoldoutIDs names the records a run validates on, and a fixed holdout seed
// keeps them across recipe seeds (what a sweep's paired tests need).
func TestHoldoutIDs(t *testing.T) {
	cfg := testConfig(1)
	cfg.Data = twoSources(t)
	cfg.Holdout = Holdout{Fraction: 0.25, Seed: 9}
	sets, err := HoldoutIDs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := openPool(cfg.Data, cfg.Holdout, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || !slices.Equal(sets[0].IDs, p.valIDs[0]) || !slices.Equal(sets[1].IDs, p.valIDs[1]) || sets[1].Source != "b" {
		t.Fatalf("HoldoutIDs %+v, the run's %v", sets, p.valIDs)
	}
	for i, set := range sets {
		// the sources share group keys here, so each also leaves out the other's held-out groups
		if len(set.Fit)+len(p.heldOut[i]) != p.ds[i].Len() || slices.ContainsFunc(set.Fit, func(id string) bool { return p.heldOut[i][id] }) {
			t.Fatalf("%s: %d held out + %d fit of %d records; fit overlaps the holdout", set.Source, len(p.heldOut[i]), len(set.Fit), p.ds[i].Len())
		}
	}
	cfg.Seed = 77
	again, err := HoldoutIDs(cfg)
	if err != nil || !slices.Equal(again[0].IDs, sets[0].IDs) {
		t.Fatalf("another recipe seed with holdout.seed 9 moved the holdout: %v vs %v (%v)", again, sets, err)
	}
}

// With canonical describe text the describe stream takes only labelled
// records (the canonical form opens with the quality sentence); otherwise
// unlabelled records with a description are trained on too.
func TestCanonicalDescribeLabelledOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a")
	writeShards(t, dir, 12, 1, 3)
	p, err := openPool([]Source{{Name: "a", Shards: dir}}, Holdout{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		mode      string
		unlabeled bool
	}{{"stored", true}, {"canonical", false}} {
		cfg := testConfig(1)
		cfg.DescribeText = c.mode
		rs, err := tasks[model.TaskDescribe].open(p.ds[0], 1, StreamPos{}, cfg, Source{}, map[string]bool{})
		if err != nil {
			t.Fatal(err)
		}
		saw := false
		for range 12 {
			recs, err := rs.(*recordStream).Next(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				saw = saw || math.IsNaN(r.MOSNorm)
			}
		}
		rs.Close()
		if saw != c.unlabeled {
			t.Errorf("describe_text %s: unlabelled record drawn %v, want %v", c.mode, saw, c.unlabeled)
		}
	}
}

package sweep

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/experiments/sweep/sweeptest"
	"github.com/cpllm/cpllm/train"
)

// A sweep over a recipe's data section validates every cell on the same
// holdout (fixed holdout.seed) and reports it as a test set scored exactly
// on the ids train.HoldoutIDs draws.
func TestSweepRecipeHoldout(t *testing.T) {
	f := newFixture(t, "")
	pool := filepath.Join(f.Dir, "pool")
	writeShards(t, pool, 20, 0, 4)
	f.Write(t, "recipe.yaml", sweeptest.Recipe(6, 3)+
		fmt.Sprintf("data: [{name: pool, shards: %s}]\nholdout: {fraction: 0.3, seed: 5}\n", pool))
	exp := f.writeExp(t, "hold.yaml", `name: thold
model: model.yaml
train: recipe.yaml
data:
  eval: [{name: val, holdout: pool}, {name: test, shards: test}]
seeds: 2
baseline: both
variants:
  - name: both
  - name: pixel
    model: {variant.encoders: pixel-only}
`)
	e := mustLoad(t, exp, 0)
	out := t.TempDir()
	if s := runSweep(t, e, Options{Out: out, Jobs: 1}); s.Trained != 4 {
		t.Fatalf("summary %+v", s)
	}
	_, tc, _, _, err := e.Variants[0].cellConfigs(1)
	if err != nil {
		t.Fatal(err)
	}
	held, err := train.HoldoutIDs(tc)
	if err != nil || len(held) != 1 || len(held[0].IDs) != 6 {
		t.Fatalf("holdout %+v, %v: want 6 of the pool's 20", held, err)
	}
	want := slices.Clone(held[0].IDs)
	sort.Strings(want)
	for _, v := range e.Variants {
		for _, seed := range e.Seeds {
			rows, err := predictions.Read(filepath.Join(e.Dir(out, Cell{Variant: v, Seed: seed}), PredDir, "val.csv"))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
			sort.Strings(ids)
			if !slices.Equal(ids, want) {
				t.Fatalf("%s seed %d validated on %v, want %v", v.Name, seed, ids, want)
			}
		}
	}
	if _, err := BuildReport(e, out, ReportOptions{Resamples: 100, Seed: 1}); err != nil {
		t.Fatal(err)
	}

	// a holdout drawn from each recipe seed would differ per cell: refused
	f.Write(t, "recipe.yaml", sweeptest.Recipe(6, 3)+
		fmt.Sprintf("data: [{name: pool, shards: %s}]\nholdout: {fraction: 0.3}\n", pool))
	e = mustLoad(t, exp, 0)
	_, err = Run(t.Context(), e, Options{Out: t.TempDir(), Jobs: 1})
	if err == nil || !strings.Contains(err.Error(), "fixed holdout.seed") {
		t.Fatalf("holdout without a seed: %v", err)
	}
}

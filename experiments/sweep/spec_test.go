package sweep

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/partition"
)

// Every shipped experiment loads (its override keys exist, its values
// validate); capacity-matched variants are within 5% of the baseline.
func TestShippedExperiments(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repo(), "experiments", "*.yaml"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"capacity.yaml", "encoders.yaml", "fusion.yaml", "localnorm.yaml", "patches.yaml", "pixelnorm.yaml", "real-cv.yaml", "real-cv-frames.yaml", "real-encoders.yaml", "real-framestats.yaml", "real-ladder.yaml", "real-rank.yaml", "real-statshead.yaml", "real-statslinear.yaml", "tasks.yaml"} {
		if !slices.Contains(names, want) {
			t.Fatalf("experiments/%s missing (have %v)", want, names)
		}
	}
	for _, f := range files {
		e, err := Load(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Seeds) != 5 || e.Variant(e.Baseline) == nil || len(e.Cells()) != 5*len(e.Variants) {
			t.Fatalf("%s: seeds %v, %d cells", f, e.Seeds, len(e.Cells()))
		}
	}
	e, err := Load(filepath.Join(repo(), "experiments", "capacity.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	target := e.Variant(e.Baseline).Trainable()
	matched := 0
	for _, v := range e.Variants {
		key, val := v.CapacityMatch()
		if !v.Capacity {
			continue
		}
		matched++
		off := math.Abs(float64(v.Trainable()-target)) / float64(target)
		t.Logf("%s: %s=%d -> %d trainable (baseline %d, %.2f%% off)", v.Name, key, val, v.Trainable(), target, 100*off)
		if off > CapacityTolerance || key == "" || val <= 256 {
			t.Fatalf("%s: %d trainable vs %d (%s=%d)", v.Name, v.Trainable(), target, key, val)
		}
	}
	if matched != 2 {
		t.Fatalf("%d capacity-matched variants, want 2", matched)
	}
}

// Mistakes fail naming the file, the line and the key.
func TestLoadErrors(t *testing.T) {
	f := newFixture(t, "")
	head := "name: x\nmodel: model.yaml\ntrain: recipe.yaml\ndata: {train: train, val: val, test: test}\nseeds: 2\n"
	two := "variants:\n  - name: a\n  - name: b\n"
	cases := []struct{ body, want string }{
		{head + "alpah: 0.1\n" + two, `bad.yaml:6: unknown key "alpah"`},
		{head + "variants:\n  - name: a\n  - name: b\n    model: {context_encoder.mlp_dimm: 5}\n", `bad.yaml:9: variant "b": model: unknown key "context_encoder.mlp_dimm" (did you mean "context_encoder.mlp_dim"?)`},
		{head + "variants:\n  - name: a\n  - name: b\n    train:\n      steps: lots\n", `bad.yaml:10: variant "b": train: key "steps": got "lots", expected an integer`},
		{head + "variants:\n  - name: a\n  - name: b\n    model: {variant.encoders: eyes-only}\n", `bad.yaml:8: variant "b": variant: unknown variant`},
		{head + "variants:\n  - name: a\n  - name: b\n    data: {tain: d}\n", `bad.yaml:9: unknown key "tain"`},
		{head + "baseline: c\n" + two, `baseline "c" is not a variant`},
		{head + "variants:\n  - name: a\n  - name: a\n", `duplicate variant name "a"`},
		{strings.Replace(head, "seeds: 2", "seeds: [1, 1]", 1) + two, "bad.yaml:5: seeds"},
		{head + "variants:\n  - name: a\n  - name: b\n    capacity: maybe\n", `capacity "maybe"`},
		{head + "variants:\n  - name: a\n  - name: b\n    capacity: match\n", `variant "b": capacity: the variant uses both encoders`},
	}
	for _, c := range cases {
		_, err := Load(f.writeExp(t, "bad.yaml", c.body), 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
	e, err := Load(f.writeExp(t, "ok.yaml", strings.Replace(head, "seeds: 2", "seeds: [7, 3]", 1)+two), 0)
	if err != nil || !slices.Equal(e.Seeds, []int{7, 3}) {
		t.Fatalf("seed list: %v %v", err, e)
	}
	noSeeds, err := Load(f.writeExp(t, "noseeds.yaml", strings.Replace(head, "seeds: 2\n", "", 1)+two), 0)
	if err != nil || !slices.Equal(noSeeds.Seeds, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("no seeds in the file: %v %v, want 1..%d", err, noSeeds, DefaultSeeds)
	}
	if e, _ = Load(f.Exp, 4); !slices.Equal(e.Seeds, []int{1, 2, 3, 4}) {
		t.Fatalf("--seeds 4: %v", e.Seeds)
	}
	// the seed of a cell is set in both configs; the variant's override is applied
	v := e.Variant("pixel")
	mc, tc, my, _, err := v.cellConfigs(3)
	if err != nil || mc.Seed != 3 || tc.Seed != 3 || mc.Variant.Encoders != "pixel-only" || !strings.Contains(string(my), "encoders: pixel-only") {
		t.Fatalf("cell configs: %v %+v %+v", err, mc.Variant, tc.Seed)
	}
	plan := e.Plan(t.TempDir(), partition.Spec{I: 1, N: 3})
	if len(plan) != 3 || plan[0].Index != 1 || plan[0].Shard != "1/3" || plan[0].Status != StatusTodo || plan[0].Trainable != v.Trainable() && plan[0].Variant == "pixel" {
		t.Fatalf("plan %+v", plan)
	}
}

// drop_ladder trains on a cached copy without the unlabelled CRF items and
// the pairs that name them; the copy is built once.
func TestNoLadderDir(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "train")
	writeShards(t, src, 10, 4, 1)
	d, err := noLadderDir(t.Context(), filepath.Join(dir, "runs"), src)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := shards.Open(d)
	if err != nil || ds.Len() != 10 {
		t.Fatalf("%v: %d rows, want 10", err, ds.Len())
	}
	all, _ := shards.ReadPairs(filepath.Join(src, shards.PairsName))
	kept, _ := shards.ReadPairs(filepath.Join(d, shards.PairsName))
	ladder := 0
	for _, p := range all {
		if strings.Contains(p.A+p.B, "/crf") {
			ladder++
		}
	}
	for _, p := range kept {
		if strings.Contains(p.A+p.B, "/crf") {
			t.Fatalf("pair %+v names a ladder item", p)
		}
	}
	if ladder == 0 || len(kept) != len(all)-ladder {
		t.Fatalf("pairs %d -> %d (%d with ladder items)", len(all), len(kept), ladder)
	}
	st, _ := os.Stat(filepath.Join(d, shards.ManifestName))
	if d2, err := noLadderDir(t.Context(), filepath.Join(dir, "runs"), src); err != nil || d2 != d {
		t.Fatal(d2, err)
	}
	if st2, _ := os.Stat(filepath.Join(d, shards.ManifestName)); !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("the no-ladder copy was rebuilt")
	}
}

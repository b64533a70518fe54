package sweep

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpllm/cpllm/eval/compare"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/partition"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

func mustLoad(t *testing.T, path string, seeds int) *Experiment {
	t.Helper()
	e, err := Load(path, seeds)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func runSweep(t *testing.T, e *Experiment, o Options) Summary {
	t.Helper()
	start := time.Now()
	sum, err := Run(context.Background(), e, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep %s shard %v: %+v in %s", o.Out, o.Shard, sum, time.Since(start).Round(time.Millisecond))
	return sum
}

func report(t *testing.T, e *Experiment, out string) map[string][]byte {
	t.Helper()
	rep, err := BuildReport(e, out, ReportOptions{Resamples: 300, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(e.ReportDir(out), rep); err != nil {
		t.Fatal(err)
	}
	return tree(t, e.ReportDir(out))
}

// One small sweep (2 variants x 2 seeds) run four ways: straight; cancelled
// mid-cell and rerun; and as two shards merged. Every way gives the same
// predictions and a byte-identical report; the rerun skips finished cells.
func TestSweepResumeShardsReport(t *testing.T) {
	f := newFixture(t, "")
	e := mustLoad(t, f.Exp, 0)
	root := t.TempDir()
	full := filepath.Join(root, "full")
	if s := runSweep(t, e, Options{Out: full, Jobs: 2}); s.Trained != 4 || s.Skipped != 0 {
		t.Fatalf("summary %+v", s)
	}
	want := report(t, e, full)

	// Report shape: one table, baseline first, every test on both metrics
	// for the other variant, per-seed copies and seed-mean files, and
	// compare's numbers on the seed-mean files.
	rep, err := BuildReport(e, full, ReportOptions{Resamples: 300, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Eval) != 1 || rep.Eval[0].Videos != 10 || rep.Eval[0].Seeds != 2 || len(rep.Eval[0].Variants) != 2 {
		t.Fatalf("report shape %+v", rep.Eval)
	}
	base, other := rep.Eval[0].Variants[0], rep.Eval[0].Variants[1]
	if !base.Baseline || base.Tests != nil || other.Baseline || len(other.Tests) != 2*len(Methods) {
		t.Fatalf("rows %+v / %+v", base, other)
	}
	if base.Trainable <= other.Trainable || len(base.SRCC.PerSeed) != 2 {
		t.Fatalf("counts %d vs %d, per-seed %v", base.Trainable, other.Trainable, base.SRCC.PerSeed)
	}
	for _, tt := range other.Tests {
		// one comparison: Holm leaves p unchanged
		if tt.Error == "" && tt.Holm != tt.P && !math.IsNaN(float64(tt.P)) {
			t.Fatalf("holm with m=1: %+v", tt)
		}
	}
	dir := e.ReportDir(full)
	cell, _ := predictions.Read(filepath.Join(e.Dir(full, Cell{Variant: e.Variant("pixel"), Seed: 2}), PredDir, "test.csv"))
	copied, err := predictions.Read(filepath.Join(dir, other.SeedFiles[1]))
	if err != nil || len(copied) != 10 || len(cell) != 10 {
		t.Fatalf("per-seed copy %s: %v", other.SeedFiles[1], err)
	}
	if _, err := predictions.Align(cell, copied, "cell", "copy"); err != nil {
		t.Fatal(err)
	}
	c, err := compare.Files(filepath.Join(dir, other.MeanFile), filepath.Join(dir, base.MeanFile), 300, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name string
		p    float64
	}{{"williams", c.WilliamsP}, {"steiger", c.SteigerP}, {"bootstrap-videos", c.BootstrapDSRCC.P}} {
		if got := find(other, w.name, "srcc").P; float64(got) != w.p {
			t.Fatalf("%s on SRCC: report %v, cpllm compare on the seed-mean files %v", w.name, got, w.p)
		}
	}
	md := string(want["report.md"])
	for _, s := range []string{"| both (baseline) |", "| pixel |", "SRCC mean ± std", "![test](test.png)"} {
		if !strings.Contains(md, s) {
			t.Fatalf("report.md lacks %q:\n%s", s, md)
		}
	}
	if len(want["test.png"]) == 0 || len(want["report.json"]) == 0 {
		t.Fatal("report files missing")
	}

	// Cancel the second cell at step 5 (after its step-3 checkpoint), rerun.
	killed := filepath.Join(root, "killed")
	ctx, cancel := context.WithCancel(context.Background())
	hooks := func(c Cell) train.Hooks {
		if c.Index != 1 {
			return train.Hooks{}
		}
		return train.Hooks{BeforeStep: func(step int, _ model.Task) {
			if step == 5 {
				cancel()
			}
		}}
	}
	if _, err := Run(ctx, e, Options{Out: killed, Hooks: hooks}); err == nil {
		t.Fatal("cancelled sweep returned no error")
	}
	cells := e.Cells()
	if e.Status(killed, cells[0]) != StatusDone || e.Status(killed, cells[1]) != StatusPartial || e.Status(killed, cells[2]) != StatusTodo {
		t.Fatalf("after the cancel: %v %v %v", e.Status(killed, cells[0]), e.Status(killed, cells[1]), e.Status(killed, cells[2]))
	}
	done0 := filepath.Join(e.Dir(killed, cells[0]), DoneFile)
	st0, _ := os.Stat(done0)
	time.Sleep(20 * time.Millisecond)
	if s := runSweep(t, e, Options{Out: killed}); s.Skipped != 1 || s.Trained != 3 {
		t.Fatalf("rerun summary %+v", s)
	}
	if st, _ := os.Stat(done0); !st.ModTime().Equal(st0.ModTime()) {
		t.Fatal("a finished cell was redone")
	}
	if log, _ := os.ReadFile(filepath.Join(e.Dir(killed, cells[1]), "train.log")); !bytes.Contains(log, []byte("resumed from")) {
		t.Fatalf("cell 1 did not resume from its checkpoint:\n%s", log)
	}
	for _, c := range cells {
		a, _ := os.ReadFile(filepath.Join(e.Dir(full, c), PredDir, "test.csv"))
		b, _ := os.ReadFile(filepath.Join(e.Dir(killed, c), PredDir, "test.csv"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("cell %d: predictions differ after cancel and resume", c.Index)
		}
		da, _ := os.ReadFile(filepath.Join(e.Dir(full, c), DoneFile))
		db, _ := os.ReadFile(filepath.Join(e.Dir(killed, c), DoneFile))
		if !bytes.Equal(da, db) {
			t.Fatalf("cell %d: done.json differs after cancel and resume:\n%s\n%s", c.Index, da, db)
		}
	}

	// Killed after training but before done.json: the rerun only evaluates.
	last := e.Dir(killed, cells[3])
	os.Remove(filepath.Join(last, DoneFile))
	os.RemoveAll(filepath.Join(last, PredDir))
	if s := runSweep(t, e, Options{Out: killed}); s.Trained != 1 || s.Skipped != 3 {
		t.Fatalf("re-evaluation summary %+v", s)
	}
	da, _ := os.ReadFile(filepath.Join(e.Dir(full, cells[3]), DoneFile))
	if db, _ := os.ReadFile(filepath.Join(last, DoneFile)); !bytes.Equal(da, db) {
		t.Fatalf("done.json after re-evaluation:\n%s\nwant\n%s", db, da)
	}

	// Two shards: disjoint, covering, and their merged runs give the same report.
	var parts [2][]int
	for i := range 2 {
		p := partition.Spec{I: i, N: 2}
		for _, r := range e.Plan(root, p) {
			parts[i] = append(parts[i], r.Index)
		}
		runSweep(t, e, Options{Out: filepath.Join(root, "shard", string(rune('0'+i))), Shard: p})
	}
	all := append(slices.Clone(parts[0]), parts[1]...)
	slices.Sort(all)
	if !slices.Equal(all, []int{0, 1, 2, 3}) || len(parts[0]) != 2 {
		t.Fatalf("shards %v", parts)
	}
	merged := filepath.Join(root, "merged")
	copyTree(t, filepath.Join(root, "shard", "0"), merged)
	copyTree(t, filepath.Join(root, "shard", "1"), merged)
	for name, got := range map[string]map[string][]byte{"merged shards": report(t, e, merged), "cancelled and resumed": report(t, e, killed)} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d report files, want %d", name, len(got), len(want))
		}
		for f, b := range want {
			if !bytes.Equal(got[f], b) {
				t.Fatalf("%s: report file %s differs from the single run's", name, f)
			}
		}
	}

	// A changed recipe makes finished cells stale instead of silently reused.
	os.WriteFile(filepath.Join(f.Dir, "recipe.yaml"), []byte("steps: 7\nbatch_size: 4\nmix: {score: 1}\n"), 0o644)
	e2 := mustLoad(t, f.Exp, 0)
	if _, err := Run(context.Background(), e2, Options{Out: full}); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Fatalf("stale cells: %v", err)
	}
	if _, err := BuildReport(e2, full, ReportOptions{}); err == nil || !strings.Contains(err.Error(), "another model or recipe") {
		t.Fatalf("stale report: %v", err)
	}
	if _, err := BuildReport(e, filepath.Join(root, "shard", "0"), ReportOptions{}); err == nil || !strings.Contains(err.Error(), "2 of 4 cells are not done") {
		t.Fatalf("partial runs dir: %v", err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cpllm/cpllm/experiments/sweep/sweeptest"
)

// `cpllm sweep` end to end: dry run and shards, a 2 x 2 sweep, the report,
// `cpllm compare` on the report's seed-mean files giving its p-values, and the
// report re-rendered with --from from its own per-seed copies.
func TestSweepCLI(t *testing.T) {
	f := sweeptest.New(t, "")
	out := filepath.Join(f.Dir, "runs")
	var rows [3][]struct {
		Index     int
		Variant   string
		Seed      int
		Trainable int64
		Status    string
	}
	for i, shard := range []string{"", "0/2", "1/2"} {
		args := []string{"sweep", f.Exp, "--dry-run", "--json", "--out", out}
		if shard != "" {
			args = append(args, "--shard", shard)
		}
		stdout, err := run(t, args...)
		if err != nil || json.Unmarshal([]byte(stdout), &rows[i]) != nil {
			t.Fatalf("dry run %q: %v\n%s", shard, err, stdout)
		}
	}
	if len(rows[0]) != 4 || len(rows[1]) != 2 || len(rows[2]) != 2 || rows[0][0].Trainable <= rows[0][1].Trainable || rows[0][0].Status != "todo" {
		t.Fatalf("dry runs %+v", rows)
	}
	var union []int
	for _, r := range append(slices.Clone(rows[1]), rows[2]...) {
		union = append(union, r.Index)
	}
	slices.Sort(union)
	if !slices.Equal(union, []int{0, 1, 2, 3}) {
		t.Fatalf("shards 0/2 and 1/2 cover %v", union)
	}
	if stdout, err := run(t, "sweep", f.Exp, "--dry-run", "--out", out); err != nil || !strings.Contains(stdout, "both") || !strings.Contains(stdout, "trainable") {
		t.Fatalf("dry run table: %v\n%s", err, stdout)
	}
	// each cell trains in a child process of its own, given the sweep's
	// flags (global ones too) and that cell's index as the partition
	var mu sync.Mutex
	var cellRuns []string
	self := selfCommand
	selfCommand = func(args []string) (*exec.Cmd, error) {
		mu.Lock()
		cellRuns = append(cellRuns, strings.Join(args, " "))
		mu.Unlock()
		return self(args)
	}
	defer func() { selfCommand = self }()
	if stdout, err := run(t, "sweep", f.Exp, "--out", out, "--jobs", "2", "--log-level", "warn"); err != nil || !strings.Contains(stdout, "4 trained") {
		t.Fatalf("sweep: %v\n%s", err, stdout)
	}
	slices.Sort(cellRuns)
	for i, a := range cellRuns {
		if want := fmt.Sprintf("sweep %s --log-level=warn --out=%s --shard=%d/4 --isolate=false", f.Exp, out, i); a != want {
			t.Fatalf("cell process %d ran %q, want %q", i, a, want)
		}
	}
	if len(cellRuns) != 4 {
		t.Fatalf("%d cell processes, want 4: %v", len(cellRuns), cellRuns)
	}
	if stdout, err := run(t, "sweep", f.Exp, "--out", out); err != nil || !strings.Contains(stdout, "0 trained, 4 already done") {
		t.Fatalf("rerun: %v\n%s", err, stdout)
	}
	stdout, err := run(t, "sweep", "report", f.Exp, "--out", out, "--resamples", "200")
	if err != nil || !strings.Contains(stdout, "| pixel |") {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	dir := filepath.Join(out, "tsweep", "report")
	type test struct {
		Name, Metric string
		P            *float64
	}
	var rep struct {
		Eval []struct {
			Videos, Seeds int
			Variants      []struct {
				Name      string
				Baseline  bool
				MeanFile  string   `json:"mean_file"`
				SeedFiles []string `json:"seed_files"`
				Tests     []test
			}
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Eval) != 1 || len(rep.Eval[0].Variants) != 2 || rep.Eval[0].Seeds != 2 {
		t.Fatalf("report.json: %v\n%s", err, data)
	}
	base, other := rep.Eval[0].Variants[0], rep.Eval[0].Variants[1]
	stdout, err = run(t, "compare", filepath.Join(dir, other.MeanFile), filepath.Join(dir, base.MeanFile), "--json", "--resamples", "200")
	if err != nil {
		t.Fatal(err)
	}
	var cli map[string]any
	if err := json.Unmarshal([]byte(stdout), &cli); err != nil {
		t.Fatal(err)
	}
	pOf := map[string]any{"williams": cli["williams_p"], "steiger": cli["steiger_p"], "bootstrap-videos": cli["bootstrap_dsrcc"].(map[string]any)["p"]}
	n := 0
	for _, tt := range other.Tests {
		if want, ok := pOf[tt.Name]; ok && tt.Metric == "srcc" {
			n++
			if tt.P == nil || *tt.P != want.(float64) {
				t.Fatalf("report %s p %v, compare on the seed-mean files %v", tt.Name, tt.P, want)
			}
		}
	}
	if n != 3 || len(other.SeedFiles) != 2 {
		t.Fatalf("%d tests matched with compare; seed files %v", n, other.SeedFiles)
	}
	// re-render from the report's own per-seed copies, elsewhere: same report
	again := filepath.Join(f.Dir, "again")
	if _, err := run(t, "sweep", "report", f.Exp, "--out", filepath.Join(f.Dir, "nowhere"), "--from", dir, "--report-out", again, "--resamples", "200"); err != nil {
		t.Fatal(err)
	}
	if a, _ := os.ReadFile(filepath.Join(again, "report.json")); !reflect.DeepEqual(a, data) {
		t.Fatalf("report re-rendered with --from differs:\n%s", a)
	}
	for _, f := range []string{"report.md", "test.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// kill -9 a sweep in the middle of its second cell, rerun: the first cell
// is not redone and the predictions equal an uninterrupted sweep's.
func TestSweepKillResumeCLI(t *testing.T) {
	f := sweeptest.New(t, "")
	f.Write(t, "recipe.yaml", sweeptest.Recipe(24, 4))
	args := func(out string) []string { return []string{"sweep", f.Exp, "--seeds", "1", "--out", out} }
	straight := filepath.Join(f.Dir, "straight")
	if _, err := run(t, args(straight)...); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(f.Dir, "killed")
	cell := func(root, v string) string { return filepath.Join(root, "tsweep", v, "seed1") }
	done0 := filepath.Join(cell(killed, "both"), "done.json")
	killAtCheckpoint(t, args(killed), filepath.Join("killed", "tsweep", "pixel"), 8)
	if _, err := os.Stat(filepath.Join(cell(killed, "pixel"), "done.json")); err == nil {
		t.Fatal("the second cell finished past the kill point")
	}
	st0, err := os.Stat(done0)
	if err != nil {
		t.Fatalf("first cell not done before the kill: %v", err)
	}
	stdout, err := run(t, args(killed)...)
	if err != nil || !strings.Contains(stdout, "1 trained, 1 already done") {
		t.Fatalf("rerun after kill -9: %v\n%s", err, stdout)
	}
	if st, _ := os.Stat(done0); !st.ModTime().Equal(st0.ModTime()) {
		t.Fatal("the finished cell was redone")
	}
	if log, _ := os.ReadFile(filepath.Join(cell(killed, "pixel"), "train.log")); !bytes.Contains(log, []byte("resumed from")) {
		t.Fatalf("the killed cell did not resume:\n%s", log)
	}
	for _, v := range []string{"both", "pixel"} {
		a, _ := os.ReadFile(filepath.Join(cell(straight, v), "predictions", "test.csv"))
		b, _ := os.ReadFile(filepath.Join(cell(killed, v), "predictions", "test.csv"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s: predictions differ after kill -9 and resume", v)
		}
	}
}

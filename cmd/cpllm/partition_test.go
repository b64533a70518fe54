package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/testutil"
)

// `data ladder --shard` and `data shards --shard` split the sources
// disjointly; `data merge` of the shard partitions holds the same records
// as one run over everything, with byte-identical pairs.jsonl.
func TestDataPartitionsCLI(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	synth := filepath.Join(dir, "synth")
	if _, err := run(t, "data", "synth", "--out", synth, "--videos", "5", "--set", "synth.max_height=360", "--set", "synth.max_fps=25",
		"--set", "synth.min_seconds=0.5", "--set", "synth.max_seconds=0.5", "--set", "synth.variants=1",
		"--set", "synth.ladder_crf=30", "--set", "synth.preset=ultrafast", "--set", "synth.val_frac=0", "--set", "synth.train_frac=0.9"); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(synth, "pristine.csv"))
	lines, _ := csv.NewReader(f).ReadAll()
	f.Close()
	var sources []string
	for _, l := range lines[1:] {
		sources = append(sources, l[0])
	}
	var ladders []string
	var got []string
	for i, shard := range []string{"0/2", "1/2"} {
		out := filepath.Join(dir, "ladder", shard[:1])
		ladders = append(ladders, out)
		if _, err := run(t, "data", "ladder", "--in", filepath.Join(synth, "pristine.csv"), "--crf", "40,50", "--preset", "ultrafast",
			"--shard", shard, "--out", out); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(out)
		for _, e := range ents {
			if e.IsDir() {
				got = append(got, e.Name())
			}
		}
		if i == 0 && (len(got) == 0 || len(got) == len(sources)) {
			t.Logf("partition 0/2 holds %d of %d sources", len(got), len(sources))
		}
	}
	slices.Sort(got)
	slices.Sort(sources)
	if !slices.Equal(got, sources) {
		t.Fatalf("ladder partitions hold %v, want each of %v once", got, sources)
	}
	small := []string{"--set", "shards.size=32", "--set", "shards.min_side=32", "--set", "shards.m=2", "--set", "shards.k=2",
		"--set", "shards.max_rows=3", "--dataset", "manifest", "--root", synth, "--split", "train"}
	shardsArgs := func(out string, extra ...string) []string {
		return append(append([]string{"data", "shards", "--out", out}, small...), extra...)
	}
	full := filepath.Join(dir, "full")
	if _, err := run(t, shardsArgs(full, "--ladder", ladders[0], "--ladder", ladders[1])...); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, shard := range []string{"0/2", "1/2"} {
		p := filepath.Join(dir, "part", shard[:1])
		parts = append(parts, p)
		// every ladder partition is given: items join whichever partition holds their source
		if _, err := run(t, shardsArgs(p, "--shard", shard, "--ladder", ladders[0], "--ladder", ladders[1])...); err != nil {
			t.Fatal(err)
		}
	}
	merged := filepath.Join(dir, "merged")
	if _, err := run(t, append([]string{"data", "merge", "--out", merged, "--set", "shards.max_rows=3"}, parts...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "data", "verify", "--shards", merged); err != nil {
		t.Fatal(err)
	}
	a, err := shards.Open(full)
	if err != nil {
		t.Fatal(err)
	}
	b, err := shards.Open(merged)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := a.PairCandidates()
	if a.Len() != b.Len() || a.Len() <= len(sources) {
		t.Fatalf("merged %d rows, single run %d (with ladder items)", b.Len(), a.Len())
	}
	for _, c := range ca {
		ra, _ := a.Get(c.ID)
		rb, err := b.Get(c.ID)
		if err != nil || !bytes.Equal(ra.Context, rb.Context) || !bytes.Equal(ra.Patches, rb.Patches) || ra.Description != rb.Description {
			t.Fatalf("record %s differs between the merged and the single run (%v)", c.ID, err)
		}
	}
	pa, _ := os.ReadFile(filepath.Join(full, shards.PairsName))
	pb, _ := os.ReadFile(filepath.Join(merged, shards.PairsName))
	if len(pa) == 0 || !bytes.Equal(pa, pb) {
		t.Fatalf("pairs.jsonl differs:\n%s\nvs\n%s", pa, pb)
	}
	if _, err := run(t, "data", "shards", "--shard", "2/2", "--out", filepath.Join(dir, "x"), "--dataset", "manifest", "--root", synth); err == nil {
		t.Fatal("--shard 2/2 accepted")
	}
}

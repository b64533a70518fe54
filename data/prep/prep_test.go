package prep

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/augment"
	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/testutil"
)

func fixture(t *testing.T) (string, []datasets.Record) {
	t.Helper()
	dir := t.TempDir()
	testutil.Clip(t, dir, "a.mp4", "testsrc2=size=320x180:rate=25:duration=1")
	testutil.Clip(t, dir, "b.mp4", "mandelbrot=size=180x320:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	os.WriteFile(filepath.Join(dir, "bad.mp4"), []byte("garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos,split\na,a.mp4,4.5,train\nb,b.mp4,1.5,train\nbad,bad.mp4,3,train\nc,a.mp4,2.0,test\n"), 0o644)
	recs, err := datasets.Load("manifest", datasets.Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, recs
}

func small(out string) Options {
	p := sample.DefaultParams()
	p.M, p.K = 4, 4
	return Options{OutDir: out, Params: p, Mode: "auto", Seed: 7, Compression: "zstd", MaxRows: 2, PairMargin: 0.5, MaxCross: -1, Jobs: 2}
}

func TestBuildShards(t *testing.T) {
	dir, recs := fixture(t)
	rows, err := augmentLadder(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := LadderItems(recs, rows)
	if err != nil || len(all) != len(recs)+2 {
		t.Fatalf("ladder items: %d %v", len(all), err)
	}
	out := filepath.Join(t.TempDir(), "shards")
	man, sum, err := Build(context.Background(), all, small(out))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 5 || sum.Failed != 1 || man.TotalRows != 5 || len(man.Failures) != 1 || man.Failures[0].ID != "bad" {
		t.Fatalf("summary %+v, manifest rows %d failures %+v", sum, man.TotalRows, man.Failures)
	}
	rep, err := shards.Verify(out)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	ds, err := shards.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ds.Get("a/crf40")
	if err != nil {
		t.Fatal(err)
	}
	if r.SourceID != "a" || r.CRF == nil || *r.CRF != 40 || !math.IsNaN(r.MOS) || r.Split != "train" || !strings.Contains(r.Description, "CRF 40") {
		t.Fatalf("ladder record %+v", r)
	}
	a, _ := ds.Get("a")
	if a.MOSNorm != 4.5 || a.M != 4 || a.K != 4 || len(a.PatchPos) != 4 || a.Description == "" {
		t.Fatalf("record a: mos %v m %d k %d", a.MOSNorm, a.M, a.K)
	}
	pairs, err := shards.ReadPairs(filepath.Join(out, shards.PairsName))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, p := range pairs {
		kinds[p.Kind]++
		if p.A == "c" || p.B == "c" {
			t.Fatalf("pair crosses splits: %+v", p)
		}
	}
	if kinds["ladder"] != 3 || kinds["mos"] != 1 { // a > a/crf20 > a/crf40; a vs b
		t.Fatalf("pairs %v", kinds)
	}
	// Same inputs and seed: same shard bytes, and a rerun resumes without rewriting.
	out2 := filepath.Join(t.TempDir(), "shards")
	if _, _, err := Build(context.Background(), all, small(out2)); err != nil {
		t.Fatal(err)
	}
	for _, s := range man.Shards {
		x, _ := os.ReadFile(filepath.Join(out, s.Name))
		y, _ := os.ReadFile(filepath.Join(out2, s.Name))
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two builds", s.Name)
		}
	}
	_, sum, err = Build(context.Background(), all, small(out))
	if err != nil || sum.Skipped != 5 || sum.Written != 0 {
		t.Fatalf("rerun: %+v %v", sum, err)
	}
}

func augmentLadder(t *testing.T, dir string) (string, error) {
	out := filepath.Join(t.TempDir(), "ladder")
	_, err := augment.Run(context.Background(), []augment.Source{{ID: "a", Path: filepath.Join(dir, "a.mp4")}},
		augment.Options{OutDir: out, CRFs: []int{20, 40}, Preset: "ultrafast"})
	return out, err
}

// Issue: duplicate or empty ids were found only when the second record came
// to be written, after decoding everything before it. They fail up front,
// naming file:line, before a video is decoded or the output dir is made.
func TestBuildRejectsBadIDsUpFront(t *testing.T) {
	dir, _ := fixture(t)
	m := filepath.Join(dir, "dups.csv")
	os.WriteFile(m, []byte("id,path,mos,split\na,a.mp4,4.5,train\nb,b.mp4,1.5,train\na,b.mp4,2,train\n,a.mp4,3,train\n"), 0o644)
	recs, err := datasets.Load("manifest", datasets.Options{Labels: m})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "shards")
	o := small(out)
	decoded := 0
	o.Progress = func(n int) { decoded += n }
	_, _, err = Build(context.Background(), recs, o)
	if err == nil {
		t.Fatal("duplicate and empty ids: no error")
	}
	for _, want := range []string{m + `:4: id "a" already used at ` + m + ":2", m + ":5: empty id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if decoded != 0 {
		t.Errorf("%d videos processed before the id check", decoded)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output dir made before the id check: %v", err)
	}
}

// Issue: a build that stops with an error left the open shard's temp file
// (0 bytes) behind.
func TestBuildErrorLeavesNoTempFile(t *testing.T) {
	_, recs := fixture(t)
	out := filepath.Join(t.TempDir(), "shards")
	o := small(out)
	o.Jobs = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Progress = func(int) { cancel() } // stop after the first record is in the open shard
	if _, _, err := Build(ctx, recs, o); err == nil {
		t.Fatal("cancelled build: no error")
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temp file %s left after the error", e.Name())
		}
	}
	// The build resumes and completes.
	if _, sum, err := Build(context.Background(), recs, small(out)); err != nil || sum.Written+sum.Skipped+sum.Failed != len(recs) {
		t.Fatalf("resume: %+v %v", sum, err)
	}
}

// With SourceViews every rung of a ladder is sampled at its source's frames
// and patch positions (a same-source pair differs only by compression);
// without it, train-mode sampling keys on the rung's own id.
func TestSourceViews(t *testing.T) {
	dir, recs := fixture(t)
	rows, err := augmentLadder(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := LadderItems(recs[:1], rows) // "a" and its two rungs
	if err != nil || len(all) != 3 {
		t.Fatalf("ladder items: %d %v", len(all), err)
	}
	positions := func(shared bool) map[string][]shards.PatchPos {
		o := small(filepath.Join(t.TempDir(), "shards"))
		o.SourceViews = shared
		if _, _, err := Build(context.Background(), all, o); err != nil {
			t.Fatal(err)
		}
		ds, err := shards.Open(o.OutDir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]shards.PatchPos{}
		for _, id := range []string{"a", "a/crf20", "a/crf40"} {
			r, err := ds.Get(id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = r.PatchPos
			if shared && !strings.Contains(r.SamplerParams, `"source_views":true`) {
				t.Fatalf("%s: sampler params %s do not record source_views", id, r.SamplerParams)
			}
		}
		return out
	}
	same := positions(true)
	for _, id := range []string{"a/crf20", "a/crf40"} {
		if !slices.Equal(same[id], same["a"]) {
			t.Fatalf("source_views: %s at %v, its source at %v", id, same[id], same["a"])
		}
	}
	own := positions(false)
	if slices.Equal(own["a/crf20"], own["a"]) && slices.Equal(own["a/crf40"], own["a"]) {
		t.Fatalf("without source_views every rung has its source's positions %v", own["a"])
	}
}

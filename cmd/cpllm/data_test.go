package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// Issue 3, acceptance 1: verify on the real KoNViD-1k folder finds the 12
// clips, reports 1188 missing, and fails unless --allow-missing.
func TestVerifyKoNViDReal(t *testing.T) {
	root := testutil.RealData(t)
	args := []string{"data", "verify", "--dataset", "konvid1k", "--root", filepath.Join(root, "KoNViD-1k"),
		"--labels", filepath.Join(root, "labels/VIDEVAL/features/KONVID_1K_metadata.csv"), "--json"}
	out, err := run(t, args...)
	if err == nil || !strings.Contains(err.Error(), "1188 missing") {
		t.Fatalf("want a missing-files failure, got %v", err)
	}
	var rep struct {
		Rows, Present, Missing int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Rows != 1200 || rep.Present != 12 || rep.Missing != 1188 {
		t.Fatalf("report %+v", rep)
	}
	if _, err := run(t, append(args, "--allow-missing")...); err != nil {
		t.Fatalf("--allow-missing: %v", err)
	}
}

// Issue 3, acceptance 3: verify --decode through the manifest loader reports
// probe facts per clip and flags a corrupt file.
func TestVerifyDecodeManifest(t *testing.T) {
	root := testutil.RealData(t)
	dir := t.TempDir()
	var lines []string
	ents, _ := os.ReadDir(filepath.Join(root, "unlabeled"))
	for _, e := range ents {
		lines = append(lines, strings.TrimSuffix(e.Name(), ".mp4")+","+filepath.Join(root, "unlabeled", e.Name())+",")
	}
	good, _ := os.ReadFile(filepath.Join(root, "unlabeled", ents[0].Name()))
	os.WriteFile(filepath.Join(dir, "corrupt.mp4"), good[:len(good)/3], 0o644)
	lines = append(lines, "corrupt,corrupt.mp4,")
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos\n"+strings.Join(lines, "\n")+"\n"), 0o644)
	out, err := run(t, "data", "verify", "--dataset", "manifest", "--root", dir, "--decode", "--json")
	if err == nil || !strings.Contains(err.Error(), "1 undecodable") {
		t.Fatalf("want one undecodable file, got %v\n%s", err, out)
	}
	var rep struct {
		Probes []struct {
			ID   string
			Info struct{ Width, Height, Frames int } `json:"info"`
		} `json:"probes"`
		Undecodable []struct{ ID, Error string } `json:"undecodable"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Probes) != len(ents) || len(rep.Undecodable) != 1 || rep.Undecodable[0].ID != "corrupt" {
		t.Fatalf("report: %d probes, undecodable %+v\n%s", len(rep.Probes), rep.Undecodable, out)
	}
	for _, p := range rep.Probes {
		if p.Info.Width == 0 || p.Info.Frames == 0 {
			t.Errorf("%s: no probe facts: %+v", p.ID, p.Info)
		}
	}
}

// `data ladder --dataset` takes its sources from a loader.
func TestLadderFromDataset(t *testing.T) {
	dir := t.TempDir()
	testutil.Clip(t, dir, "a.mp4", "testsrc2=size=96x64:rate=10:duration=0.3")
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos,split\nclipA,a.mp4,3.5,train\nclipB,a.mp4,2,test\n"), 0o644)
	out := filepath.Join(dir, "out")
	if _, err := run(t, "data", "ladder", "--dataset", "manifest", "--root", dir, "--split", "train",
		"--out", out, "--crf", "30", "--preset", "ultrafast"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "clipA", "crf30.mp4")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "clipB")); !os.IsNotExist(err) {
		t.Fatal("--split train must not ladder the test item")
	}
	if _, err := run(t, "data", "ladder", "--in", dir, "--dataset", "manifest", "--out", out); err == nil {
		t.Fatal("--in with --dataset must be rejected")
	}
}

// Issue 4: synth -> shards -> verify through the CLI, on a tiny corpus.
func TestSynthShardsVerifyCLI(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	small := []string{"--set", "synth.max_height=360", "--set", "synth.max_fps=25", "--set", "synth.min_seconds=0.5",
		"--set", "synth.max_seconds=1", "--set", "synth.variants=1", "--set", "synth.ladder_crf=20,45", "--set", "synth.preset=ultrafast"}
	out, err := run(t, append([]string{"data", "synth", "--out", filepath.Join(dir, "synth"), "--videos", "4", "--seed", "3"}, small...)...)
	if err != nil || !strings.Contains(out, "16 clips") {
		t.Fatalf("synth: %v\n%s", err, out)
	}
	if _, err := run(t, "data", "ladder", "--in", filepath.Join(dir, "synth", "pristine.csv"), "--limit", "1",
		"--crf", "30", "--preset", "ultrafast", "--out", filepath.Join(dir, "ladder")); err != nil {
		t.Fatal(err)
	}
	sh := filepath.Join(dir, "shards")
	out, err = run(t, "data", "shards", "--dataset", "manifest", "--root", filepath.Join(dir, "synth"), "--ladder", filepath.Join(dir, "ladder"),
		"--out", sh, "--set", "shards.m=2", "--set", "shards.k=2", "--compression", "lz4")
	if err != nil || !strings.Contains(out, "17 rows") {
		t.Fatalf("shards: %v\n%s", err, out)
	}
	out, err = run(t, "data", "verify", "--shards", sh)
	if err != nil || !strings.Contains(out, "rows     17") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// A flipped byte in a shard is caught.
	shard := filepath.Join(sh, "shard-00000.arrow")
	b, _ := os.ReadFile(shard)
	b[len(b)/2] ^= 0xff
	os.WriteFile(shard, b, 0o644)
	if _, err := run(t, "data", "verify", "--shards", sh); err == nil || !strings.Contains(err.Error(), "shard-00000") {
		t.Fatalf("corrupt shard not reported: %v", err)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// Issue 3, acceptance 1: verify on the real KoNViD-1k folder finds the clips
// on disk, reports the other label rows missing, and fails unless
// --allow-missing. How many clips a copy of the real data holds varies: the
// expected counts come from the label file and the folder.
func TestVerifyKoNViDReal(t *testing.T) {
	root := testutil.RealData(t)
	labels := filepath.Join(root, "labels/VIDEVAL/features/KONVID_1K_metadata.csv")
	rows, onDisk := konvidRowsOnDisk(t, labels, filepath.Join(root, "KoNViD-1k", "KoNViD_1k_videos"))
	t.Logf("%d label rows, %d of their clips on disk", rows, onDisk)
	args := []string{"data", "verify", "--dataset", "konvid1k", "--root", filepath.Join(root, "KoNViD-1k"),
		"--labels", labels, "--json"}
	out, err := run(t, args...)
	if onDisk < rows && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d missing", rows-onDisk))) {
		t.Fatalf("want a failure for %d missing files, got %v", rows-onDisk, err)
	}
	var rep struct {
		Rows, Present, Missing int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Rows != rows || rep.Present != onDisk || rep.Missing != rows-onDisk {
		t.Fatalf("report %+v, want rows %d present %d missing %d", rep, rows, onDisk, rows-onDisk)
	}
	_, err = run(t, append(args, "--allow-missing")...)
	if onDisk > 0 && err != nil {
		t.Fatalf("--allow-missing: %v", err)
	}
	if onDisk == 0 && err == nil {
		t.Fatal("--allow-missing with no clip on disk: no error")
	}
}

// konvidRowsOnDisk reads the KoNViD metadata CSV (header, then flickr_id
// first) and counts its rows and those whose <flickr_id>.mp4 is in videos.
func konvidRowsOnDisk(t *testing.T, labels, videos string) (rows, onDisk int) {
	t.Helper()
	data, err := os.ReadFile(labels)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(data), "\r\n", "\n")), "\n")
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		rows++
		id, _, _ := strings.Cut(l, ",")
		if st, err := os.Stat(filepath.Join(videos, strings.TrimSpace(id)+".mp4")); err == nil && st.Mode().IsRegular() {
			onDisk++
		}
	}
	return rows, onDisk
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

// Issue: `data verify` on a manifest with an empty id printed a summary of
// zeros ("0 missing, 0 duplicate ids, 0 undecodable") while exiting 1. The
// error and the table name the bad row by file:line.
func TestVerifyEmptyIDCLI(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.mp4"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.mp4"), []byte("x"), 0o644)
	m := filepath.Join(dir, "manifest.csv")
	os.WriteFile(m, []byte("id,path,mos\n,a.mp4,3\nb,b.mp4,2\n"), 0o644)
	out, err := run(t, "data", "verify", "--dataset", "manifest", "--root", dir)
	if err == nil || !strings.Contains(err.Error(), m+":2") || !strings.Contains(err.Error(), "empty id") {
		t.Fatalf("error %v must name the row %s:2", err, m)
	}
	if strings.Contains(err.Error(), "0 missing") {
		t.Errorf("error %q reports zeros", err)
	}
	if !strings.Contains(out, "empty id: "+m+":2") {
		t.Errorf("table does not name the row:\n%s", out)
	}
}

// Issue: the labels-txt scale error named Go fields (MOSMin) instead of the
// flags.
func TestScaleErrorNamesFlags(t *testing.T) {
	lab := filepath.Join(t.TempDir(), "labels.txt")
	os.WriteFile(lab, []byte("a.mp4, 8, 30, 0.5\nb.mp4, 8, 30, 4\n"), 0o644)
	_, err := run(t, "data", "verify", "--dataset", "labels-txt", "--root", filepath.Dir(lab), "--labels", lab)
	if err == nil || !strings.Contains(err.Error(), "--mos-min") || !strings.Contains(err.Error(), "--mos-max") || strings.Contains(err.Error(), "MOSMin") {
		t.Fatalf("scale error %v: want the flags --mos-min/--mos-max, no Go field names", err)
	}
	_, err = run(t, "data", "verify", "--dataset", "labels-txt", "--labels", lab, "--mos-min", "5", "--mos-max", "1")
	if err == nil || !strings.Contains(err.Error(), "--mos-min") || strings.Contains(err.Error(), "MOSMin") {
		t.Fatalf("inverted override %v: want the flags, no Go field names", err)
	}
}

// Issue: `data shards` found duplicate or empty ids only after decoding
// everything, and left a 0-byte temp file; shards.max_rows took 0 and
// negatives.
func TestShardsInputChecks(t *testing.T) {
	dir := t.TempDir()
	testutil.Clip(t, dir, "a.mp4", "testsrc2=size=96x64:rate=10:duration=0.3")
	m := filepath.Join(dir, "manifest.csv")
	os.WriteFile(m, []byte("id,path,mos\na,a.mp4,3\nb,a.mp4,2\na,a.mp4,4\n"), 0o644)
	out := filepath.Join(dir, "shards")
	small := []string{"--set", "shards.size=32", "--set", "shards.min_side=32", "--set", "shards.m=2", "--set", "shards.k=2"}
	stdout, err := run(t, append([]string{"data", "shards", "--dataset", "manifest", "--root", dir, "--out", out}, small...)...)
	if err == nil || !strings.Contains(err.Error(), m+`:4: id "a" already used at `+m+":2") {
		t.Fatalf("duplicate id: %v\n%s", err, stdout)
	}
	if strings.Contains(stdout, "videos") {
		t.Errorf("videos were sampled before the id check:\n%s", stdout)
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		t.Errorf("%s left in the output dir", e.Name())
	}
	for _, v := range []string{"0", "-3"} {
		_, err := run(t, append([]string{"data", "shards", "--dataset", "manifest", "--root", dir, "--out", out, "--set", "shards.max_rows=" + v}, small...)...)
		if err == nil || !strings.Contains(err.Error(), "shards.max_rows") {
			t.Errorf("shards.max_rows=%s: %v", v, err)
		}
	}
}

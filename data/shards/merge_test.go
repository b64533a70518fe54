package shards

import (
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// writeParts writes genRecord(0..n-1) split over parts by i mod parts (so
// every part mixes splits and sources), with pairs.jsonl per part.
func writeParts(t *testing.T, root string, n, parts int, opts WriterOptions) []string {
	t.Helper()
	var dirs []string
	for p := range parts {
		dir := filepath.Join(root, "part", string(rune('a'+p)))
		w, err := NewWriter(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := p; i < n; i += parts {
			if err := w.Write(genRecord(i, opts.FrameSize)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// The merged dataset reads like a single build: every record once and
// byte-equal, verify passes, and pairs.jsonl equals pairs built over all
// records per split the way data/prep does (seed ^ FNV-1a(split)).
func TestMerge(t *testing.T) {
	root := t.TempDir()
	opts := WriterOptions{FrameSize: testS, MaxRows: 4, Compression: "zstd", Seed: 9, SamplerParams: []byte(`{"m": 2}`), SourceDataset: "konvid"}
	const n = 23
	parts := writeParts(t, root, n, 3, opts)
	dst := filepath.Join(root, "merged")
	mo := MergeOptions{PairMargin: 0.2, MaxCross: 15}
	man, npairs, err := Merge(dst, parts, mo)
	if err != nil {
		t.Fatal(err)
	}
	if man.TotalRows != n || npairs == 0 {
		t.Fatalf("rows %d pairs %d", man.TotalRows, npairs)
	}
	if rep, err := Verify(dst); err != nil || rep.Rows != n {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	ds, err := Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, ds)
	slices.SortFunc(got, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	for i := range n {
		if err := sameRecord(got[i], genRecord(i, testS)); err != nil {
			t.Fatal(err)
		}
	}
	bySplit := map[string][]PairCandidate{}
	for i := range n {
		r := genRecord(i, testS)
		bySplit[r.Split] = append(bySplit[r.Split], PairCandidate{ID: r.ID, SourceID: r.SourceID, CRF: r.CRF, MOSNorm: r.MOSNorm})
	}
	var splits []string
	for s := range bySplit {
		splits = append(splits, s)
	}
	sort.Strings(splits)
	var want []Pair
	for _, s := range splits {
		h := fnv.New64a()
		h.Write([]byte(s))
		want = append(want, BuildPairs(bySplit[s], mo.PairMargin, mo.MaxCross, opts.Seed^h.Sum64())...)
	}
	pairs, err := ReadPairs(filepath.Join(dst, PairsName))
	if err != nil || !slices.Equal(pairs, want) {
		t.Fatalf("pairs differ from a single build (%v): %d vs %d", err, len(pairs), len(want))
	}
	// merging again into a finished dataset is refused; a part listed twice
	// (overlapping ids) and mismatched settings are errors
	if _, _, err := Merge(dst, parts, mo); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("re-merge: %v", err)
	}
	if _, _, err := Merge(filepath.Join(root, "dup"), []string{parts[0], parts[0]}, mo); err == nil || !strings.Contains(err.Error(), "disjoint") {
		t.Fatalf("overlap: %v", err)
	}
	other := filepath.Join(root, "other")
	o2 := opts
	o2.Seed = 10
	writeN(t, other, 2, o2)
	if _, _, err := Merge(filepath.Join(root, "mixed"), []string{parts[0], other}, mo); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Fatalf("seed mismatch: %v", err)
	}
	// an empty part (a partition with no records) merges
	empty := filepath.Join(root, "empty")
	writeN(t, empty, 0, WriterOptions{FrameSize: testS, Seed: 9, SamplerParams: []byte(`{"m":2}`)})
	if m, _, err := Merge(filepath.Join(root, "withempty"), []string{empty, parts[1]}, mo); err != nil || m.TotalRows == 0 || m.SourceDataset != "konvid" {
		t.Fatalf("empty part: %v", err)
	}
	// an interrupted merge (temp and shard leftovers, no manifest) is redone
	redo := filepath.Join(root, "redo")
	os.MkdirAll(redo, 0o755)
	os.WriteFile(filepath.Join(redo, ".shard-00000.arrow.tmp"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(redo, "shard-00007.arrow"), []byte("x"), 0o644)
	if _, _, err := Merge(redo, parts, mo); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(redo); err != nil {
		t.Fatal(err)
	}
}

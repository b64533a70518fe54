package shards

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func intp(v int) *int { return &v }

func TestBuildPairsLadder(t *testing.T) {
	cands := []PairCandidate{
		{ID: "a-src", SourceID: "a", MOSNorm: 0.9},
		{ID: "a-23", SourceID: "a", CRF: intp(23), MOSNorm: math.NaN()},
		{ID: "a-40", SourceID: "a", CRF: intp(40), MOSNorm: math.NaN()},
		{ID: "b-30", SourceID: "b", CRF: intp(30), MOSNorm: math.NaN()},
	}
	pairs := BuildPairs(cands, 0.1, 0, 1)
	if len(pairs) != 3 {
		t.Fatalf("%d ladder pairs, want 3: %v", len(pairs), pairs)
	}
	better := map[string]int{"a-src": 0, "a-23": 1, "a-40": 2}
	for _, p := range pairs {
		win, lose := p.A, p.B
		if p.Label == 1 {
			win, lose = p.B, p.A
		}
		if p.Kind != KindLadder || better[win] >= better[lose] {
			t.Fatalf("wrong ladder pair %+v", p)
		}
	}
	slices.Reverse(cands)
	if !slices.Equal(pairs, BuildPairs(cands, 0.1, 0, 1)) {
		t.Fatal("pairs depend on input order")
	}
}

func TestBuildPairsCross(t *testing.T) {
	var cands []PairCandidate
	for i := range 300 {
		cands = append(cands, PairCandidate{ID: fmt.Sprintf("v%03d", i), SourceID: fmt.Sprintf("s%02d", i%40), MOSNorm: float64(i%97) / 96})
	}
	mos := map[string]PairCandidate{}
	for _, c := range cands {
		mos[c.ID] = c
	}
	check := func(pairs []Pair, margin float64) {
		seen := map[[2]string]bool{}
		for _, p := range pairs {
			if p.Kind != KindMOS {
				continue
			}
			a, b := mos[p.A], mos[p.B]
			if a.SourceID == b.SourceID || math.Abs(a.MOSNorm-b.MOSNorm) <= margin {
				t.Fatalf("bad cross pair %+v", p)
			}
			if (p.Label == 0) != (a.MOSNorm > b.MOSNorm) {
				t.Fatalf("wrong label %+v", p)
			}
			key := [2]string{min(p.A, p.B), max(p.A, p.B)}
			if seen[key] {
				t.Fatalf("duplicate pair %+v", p)
			}
			seen[key] = true
		}
	}
	// Sampled path (many more candidates than maxCross).
	p1 := BuildPairs(cands, 0.3, 500, 9)
	if len(p1) != 500 {
		t.Fatalf("%d pairs, want 500", len(p1))
	}
	check(p1, 0.3)
	if !slices.Equal(p1, BuildPairs(cands, 0.3, 500, 9)) || slices.Equal(p1, BuildPairs(cands, 0.3, 500, 10)) {
		t.Fatal("seeding")
	}
	// Enumerated path: all valid pairs.
	all := BuildPairs(cands, 0.95, -1, 9)
	want := 0
	for i := range cands {
		for j := range cands {
			if cands[i].SourceID != cands[j].SourceID && cands[j].MOSNorm-cands[i].MOSNorm > 0.95 {
				want++
			}
		}
	}
	if len(all) != want || want == 0 {
		t.Fatalf("%d pairs, want all %d", len(all), want)
	}
	check(all, 0.95)
	labels := 0
	for _, p := range p1 {
		labels += p.Label
	}
	if labels < 150 || labels > 350 {
		t.Fatalf("labels unbalanced: %d of 500 are 1", labels)
	}
}

func TestPairsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), PairsName)
	pairs := []Pair{{A: "x", B: "y", Label: 1, Kind: KindLadder}, {A: "y", B: "z", Kind: KindMOS}}
	if err := WritePairs(path, pairs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPairs(path)
	if err != nil || !slices.Equal(got, pairs) {
		t.Fatalf("%v %v", got, err)
	}
	os.WriteFile(path, []byte("{\"a\":\"x\",\"b\":\"y\",\"label\":0,\"kind\":\"mos\"}\n{\"a\":\"x\",\"b\":\"y\",\"label\":2,\"kind\":\"mos\"}\n"), 0o644)
	if _, err := ReadPairs(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Fatalf("bad label: %v", err)
	}
}

func TestPairsFromDataset(t *testing.T) {
	dir := t.TempDir()
	writeN(t, dir, 30, WriterOptions{FrameSize: testS, MaxRows: 7})
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cands, err := ds.PairCandidates()
	if err != nil || len(cands) != 30 {
		t.Fatalf("%d candidates: %v", len(cands), err)
	}
	pairs := BuildPairs(cands, 0.2, 20, 3)
	if err := WritePairs(filepath.Join(dir, PairsName), pairs); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir)
	if err != nil || rep.Pairs != len(pairs) || len(pairs) <= 20 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, p := range pairs[:3] {
		if ok, err := ds.Has(p.A); !ok || err != nil {
			t.Fatal(p.A, err)
		}
	}
}

// AdjacentLadder keeps exactly the ladder pairs of consecutive CRFs of one
// source (the source itself first), whatever side each pair's better item
// was drawn on, and drops cross-video pairs.
func TestAdjacentLadder(t *testing.T) {
	crfs := map[string][]int{"a": {15, 23, 31, 39, 47, 53}, "b": {40, 19, 28}}
	var recs []PairCandidate
	for src, cs := range crfs {
		recs = append(recs, PairCandidate{ID: src, SourceID: src, MOSNorm: map[string]float64{"a": 0.2, "b": 0.9}[src]})
		for _, c := range cs {
			recs = append(recs, PairCandidate{ID: fmt.Sprintf("%s/crf%d", src, c), SourceID: src, CRF: intp(c), MOSNorm: math.NaN()})
		}
	}
	recs = append(recs, PairCandidate{ID: "c", MOSNorm: 0.5})
	for seed := range uint64(4) {
		all := BuildPairs(recs, 0.1, -1, seed)
		want := map[[2]string]bool{}
		for src, cs := range crfs {
			sorted := slices.Sorted(slices.Values(cs))
			prev := src
			for _, c := range sorted {
				want[[2]string{prev, fmt.Sprintf("%s/crf%d", src, c)}] = true
				prev = fmt.Sprintf("%s/crf%d", src, c)
			}
		}
		got := AdjacentLadder(all)
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d adjacent pairs of %d, want %d", seed, len(got), len(all), len(want))
		}
		for _, p := range got {
			better, worse := p.A, p.B
			if p.Label == 1 {
				better, worse = worse, better
			}
			if !want[[2]string{better, worse}] || p.Kind != KindLadder {
				t.Fatalf("seed %d: pair %+v is not adjacent on its ladder", seed, p)
			}
		}
	}
}

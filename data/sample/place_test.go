package sample

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/data/video"
)

func TestContextIndices(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 8, 9, 25, 98, 240, 243} {
		ev := ContextIndices(n, 8, nil)
		if n >= 8 && !slices.Equal(ev, video.UniformIndices(n, 8)) {
			t.Errorf("n=%d: eval %v, UniformIndices %v", n, ev, video.UniformIndices(n, 8))
		}
		for s := range uint64(20) {
			tr := ContextIndices(n, 8, NewRand(s, "clip"))
			for _, idx := range [][]int{ev, tr} {
				if len(idx) != 8 || !slices.IsSorted(idx) || idx[0] < 0 || idx[7] >= n {
					t.Fatalf("n=%d: indices %v", n, idx)
				}
				// Every frame of a short clip is used; a long clip uses 8 distinct frames.
				if d := len(slices.Compact(slices.Clone(idx))); d != min(n, 8) {
					t.Fatalf("n=%d: %d distinct frames in %v", n, d, idx)
				}
			}
		}
	}
	if a, b := ContextIndices(240, 8, NewRand(1, "a")), ContextIndices(240, 8, NewRand(2, "a")); slices.Equal(a, b) {
		t.Errorf("different seeds gave the same training frames %v", a)
	}
	if a, b := ContextIndices(240, 8, NewRand(1, "a")), ContextIndices(240, 8, NewRand(1, "b")); slices.Equal(a, b) {
		t.Errorf("different ids gave the same training frames %v", a)
	}
}

// checkPatches asserts the layout invariants and returns the distinct frames used.
func checkPatches(t *testing.T, what string, ps []Patch, idx []int, w, h int, p Params) int {
	t.Helper()
	if len(ps) != p.K {
		t.Fatalf("%s: %d patches, want %d", what, len(ps), p.K)
	}
	distinct := map[int]bool{}
	for i, a := range ps {
		if a.X < 0 || a.Y < 0 || a.X+p.Size > w || a.Y+p.Size > h {
			t.Fatalf("%s: patch %v outside %dx%d", what, a, w, h)
		}
		if !slices.Contains(idx, a.Frame) {
			t.Fatalf("%s: patch %v on a frame not in %v", what, a, idx)
		}
		if i > 0 && ps[i-1].Frame > a.Frame {
			t.Fatalf("%s: patches not grouped by frame: %v", what, ps)
		}
		distinct[a.Frame] = true
	}
	// Patches overlap only when the frames cannot hold K apart; then they
	// are shared evenly over the frames, at distinct positions wherever the
	// frame leaves a corner K-1 pixels of room each way.
	d := len(slices.Compact(slices.Sorted(slices.Values(idx))))
	fits := d*Capacity(w, h, p.Size) >= p.K
	perFrame := map[int]int{}
	for i, a := range ps {
		perFrame[a.Frame]++
		for _, b := range ps[i+1:] {
			if a.Frame != b.Frame {
				continue
			}
			if fits && overlaps(a, b, p.Size) {
				t.Fatalf("%s: %v and %v overlap", what, a, b)
			}
			if !fits && a == b && w-p.Size >= p.K-1 && h-p.Size >= p.K-1 {
				t.Fatalf("%s: patch %v twice", what, a)
			}
		}
	}
	if !fits {
		lo, hi := p.K/d, (p.K+d-1)/d
		for f, n := range perFrame {
			if n < lo || n > hi || len(perFrame) != min(d, p.K) {
				t.Fatalf("%s: frame %d has %d patches (%d frames used), want %d..%d on each of %d frames", what, f, n, len(perFrame), lo, hi, d)
			}
		}
	}
	if d >= 2 && p.K >= 2 && len(distinct) < 2 {
		t.Fatalf("%s: all patches on one frame: %v", what, ps)
	}
	return len(distinct)
}

func TestPlacePatchesInvariants(t *testing.T) {
	sizes := [][2]int{{960, 540}, {540, 960}, {406, 720}, {299, 224}, {224, 299}, {224, 224}, {1080, 456}, {720, 540}, {448, 448}}
	for _, sz := range sizes {
		for _, n := range []int{1, 2, 3, 5, 8, 100} {
			for _, k := range []int{1, 2, 8, 13, 40} {
				p := DefaultParams()
				p.K = k
				w, h := sz[0], sz[1]
				idx := ContextIndices(n, p.M, nil)
				what := fmt.Sprintf("%dx%d n=%d k=%d eval", w, h, n, k)
				ev := PlacePatches(idx, w, h, p, nil)
				checkPatches(t, what, ev, idx, w, h, p)
				if !slices.Equal(ev, PlacePatches(idx, w, h, p, nil)) {
					t.Fatalf("%s: not deterministic", what)
				}
				for s := range uint64(10) {
					rng := NewRand(s, "v")
					tidx := ContextIndices(n, p.M, rng)
					checkPatches(t, fmt.Sprintf("%dx%d n=%d k=%d seed %d", w, h, n, k, s), PlacePatches(tidx, w, h, p, rng), tidx, w, h, p)
				}
			}
		}
	}
}

// The default eval layout: one patch per context frame, alternating the
// centre and the corners.
func TestPlacePatchesEvalLayout(t *testing.T) {
	p := DefaultParams()
	idx := ContextIndices(240, 8, nil)
	got := PlacePatches(idx, 960, 540, p, nil)
	cx, cy, r, b := 368, 158, 736, 316
	want := []Patch{
		{idx[0], cx, cy}, {idx[1], 0, 0}, {idx[2], cx, cy}, {idx[3], r, 0},
		{idx[4], cx, cy}, {idx[5], 0, b}, {idx[6], cx, cy}, {idx[7], r, b},
	}
	if !slices.Equal(got, want) {
		t.Errorf("eval layout\n got %v\nwant %v", got, want)
	}
	// A single-frame clip packs 8 patches into its one frame.
	one := PlacePatches([]int{0, 0, 0, 0, 0, 0, 0, 0}, 960, 540, p, nil)
	checkPatches(t, "one frame", one, []int{0}, 960, 540, p)
}

func TestPlacePatchesTrainSeeds(t *testing.T) {
	p := DefaultParams()
	place := func(seed uint64) []Patch {
		rng := NewRand(seed, "clip-1")
		return PlacePatches(ContextIndices(240, p.M, rng), 960, 540, p, rng)
	}
	a := place(7)
	if !slices.Equal(a, place(7)) {
		t.Fatal("same seed, different placement")
	}
	if slices.Equal(a, place(8)) {
		t.Fatal("different seeds, same placement")
	}
	// Positions cover the frame: over many seeds both halves and the centre are hit.
	var left, right, centre bool
	for s := range uint64(50) {
		for _, q := range place(s) {
			left = left || q.X < 100
			right = right || q.X > 636
			centre = centre || (q.X > 300 && q.X < 436 && q.Y > 100 && q.Y < 216)
		}
	}
	if !left || !right || !centre {
		t.Errorf("training positions do not cover the frame: left %v right %v centre %v", left, right, centre)
	}
}

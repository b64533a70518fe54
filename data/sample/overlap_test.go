package sample

import (
	"fmt"
	"slices"
	"testing"
)

func TestOverlapGrid(t *testing.T) {
	cases := []struct{ spanX, spanY, n, nx, ny int }{
		{276, 276, 8, 3, 3}, // a CLIVE image: 500x500, patches of 224
		{276, 276, 5, 2, 3}, // 2x3 and 3x2 tie (138 apart, 6 cells): the fewest columns
		{75, 0, 3, 3, 1},    // 299x224: one row
		{0, 75, 3, 1, 3},    // 224x299: one column
		{0, 0, 8, 1, 8},     // 224x224: one position, eight times
		{856, 316, 13, 5, 3},
	}
	for _, c := range cases {
		if nx, ny := overlapGrid(c.spanX, c.spanY, c.n); nx != c.nx || ny != c.ny {
			t.Errorf("overlapGrid(%d, %d, %d) = %dx%d, want %dx%d", c.spanX, c.spanY, c.n, nx, ny, c.nx, c.ny)
		}
	}
}

// A 500x500 still with K=8 patches of 224: 4 fit apart, so all 8 come from
// the 3x3 grid at 0, 138, 276. Eval drops the centre cell; train takes 8 of
// the 9 strata at random, every patch inside its stratum.
func TestOverlapStill500(t *testing.T) {
	p := DefaultParams()
	one := make([]int, p.M) // a still: every context index is frame 0
	if Capacity(500, 500, p.Size) != 4 {
		t.Fatalf("capacity %d", Capacity(500, 500, p.Size))
	}
	ev := PlacePatches(one, 500, 500, p, nil)
	var want []Patch
	for _, y := range []int{0, 138, 276} {
		for _, x := range []int{0, 138, 276} {
			if x != 138 || y != 138 {
				want = append(want, Patch{X: x, Y: y})
			}
		}
	}
	if !slices.Equal(ev, want) {
		t.Fatalf("eval layout\n got %v\nwant %v", ev, want)
	}
	checkPatches(t, "500x500 eval", ev, one, 500, 500, p)
	// Strata of the 3 positions along a 276 span: [0,69], [70,207], [208,276].
	stratum := func(v int) int {
		switch {
		case v <= 69:
			return 0
		case v <= 207:
			return 1
		}
		return 2
	}
	seen := map[string]bool{}
	for s := range uint64(30) {
		rng := NewRand(s, "1000")
		tr := PlacePatches(one, 500, 500, p, rng)
		what := fmt.Sprintf("500x500 train seed %d", s)
		checkPatches(t, what, tr, one, 500, 500, p)
		cells := map[int]bool{}
		for _, q := range tr {
			cells[stratum(q.X)+3*stratum(q.Y)] = true
		}
		if len(cells) != p.K {
			t.Fatalf("%s: %d distinct strata in %v", what, len(cells), tr)
		}
		again := PlacePatches(one, 500, 500, p, NewRand(s, "1000"))
		if !slices.Equal(tr, again) {
			t.Fatalf("%s: not reproducible", what)
		}
		seen[fmt.Sprint(tr)] = true
	}
	if len(seen) < 25 {
		t.Errorf("30 seeds gave only %d distinct layouts", len(seen))
	}
}

// A still large enough for K patches keeps them apart; one that is not
// shares them out evenly.
func TestStillPatchesApartWhenTheyFit(t *testing.T) {
	p := DefaultParams()
	one := make([]int, p.M)
	for _, sz := range [][2]int{{960, 540}, {540, 960}, {1080, 456}, {500, 500}, {448, 224}, {224, 224}} {
		for _, rng := range []bool{false, true} {
			var r = NewRand(3, "x")
			if !rng {
				r = nil
			}
			ps := PlacePatches(one, sz[0], sz[1], p, r)
			checkPatches(t, fmt.Sprintf("%dx%d train=%v", sz[0], sz[1], rng), ps, one, sz[0], sz[1], p)
			apart := true
			for i, a := range ps {
				for _, b := range ps[i+1:] {
					apart = apart && !overlaps(a, b, p.Size)
				}
			}
			if fit := Capacity(sz[0], sz[1], p.Size) >= p.K; apart != fit {
				t.Errorf("%dx%d train=%v: patches apart %v, capacity %d for K=%d", sz[0], sz[1], rng, apart, Capacity(sz[0], sz[1], p.Size), p.K)
			}
		}
	}
}

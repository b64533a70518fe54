package sample

import (
	"math"
	"math/rand/v2"
)

// overlapLayout places n size x size patches in a w x h frame that holds
// fewer than n without overlap. The positions lie on an nx x ny grid
// (overlapGrid) whose top-left corners are spaced evenly from one edge of the
// frame to the other (a single row or column is centred), so neighbouring
// patches share the overlap equally and together cover the frame.
//
// Eval (rng == nil) takes the n cells spread evenly over the grid in
// row-major order, cells[(2j+1)*N/(2n)]: for a 500x500 frame and 8 patches of
// 224 that is the 3x3 grid at 0, 138, 276 without its centre. Train takes n
// random cells and moves each uniformly within its stratum (up to half-way to
// the neighbouring cells, or to the frame edge; a single row or column
// anywhere along it), so positions vary with the seed while staying spread
// over the frame.
func overlapLayout(w, h, s, n int, rng *rand.Rand) []Patch {
	spanX, spanY := w-s, h-s
	nx, ny := overlapGrid(spanX, spanY, n)
	ps := make([]Patch, 0, n)
	if rng == nil {
		cells := nx * ny
		for j := range n {
			c := (2*j + 1) * cells / (2 * n)
			ps = append(ps, Patch{X: gridPos(c%nx, nx, spanX), Y: gridPos(c/nx, ny, spanY)})
		}
		return ps
	}
	for _, c := range rng.Perm(nx * ny)[:n] {
		ps = append(ps, Patch{X: jitter(c%nx, nx, spanX, rng), Y: jitter(c/nx, ny, spanY, rng)})
	}
	return ps
}

// overlapGrid chooses the grid for n positions over spans spanX x spanY (the
// room a patch's corner has): nx*ny >= n, the largest distance between
// neighbouring positions along either axis, and among equals the fewest
// cells, then the fewest columns.
func overlapGrid(spanX, spanY, n int) (nx, ny int) {
	best := -1.0
	for cx := 1; cx <= n; cx++ {
		cy := (n + cx - 1) / cx
		gap := math.Inf(1)
		if cx > 1 {
			gap = min(gap, float64(spanX)/float64(cx-1))
		}
		if cy > 1 {
			gap = min(gap, float64(spanY)/float64(cy-1))
		}
		if gap > best || (gap == best && cx*cy < nx*ny) {
			best, nx, ny = gap, cx, cy
		}
	}
	return nx, ny
}

// gridPos is the i-th of cells positions spread evenly over [0, span]
// (rounded half up); a single position is centred.
func gridPos(i, cells, span int) int {
	if cells == 1 {
		return span / 2
	}
	return roundDiv(i*span, cells-1)
}

// jitter draws a position uniformly in the stratum of grid position i: the
// integers nearer to it than to its neighbours (ties to the lower one), from
// 0 to span. The strata are disjoint, so distinct cells give distinct
// positions; an axis too short for that (span < cells-1) is not jittered.
func jitter(i, cells, span int, rng *rand.Rand) int {
	if cells == 1 {
		return rng.IntN(span + 1)
	}
	step := float64(span) / float64(cells-1)
	lo, hi := 0, span
	if i > 0 {
		lo = int(math.Floor((float64(i)-0.5)*step)) + 1
	}
	if i < cells-1 {
		hi = int(math.Floor((float64(i) + 0.5) * step))
	}
	if hi < lo {
		return gridPos(i, cells, span)
	}
	return lo + rng.IntN(hi-lo+1)
}

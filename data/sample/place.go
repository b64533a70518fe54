package sample

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// ContextIndices picks the m context frames of an n-frame clip, ascending.
// Eval (rng == nil): the centre of each of m equal segments, as
// video.UniformIndices; Train: one uniformly random frame in each segment, so
// the view still spans the whole clip. A clip shorter than m repeats frames
// (nearest segment) so there are always m.
func ContextIndices(n, m int, rng *rand.Rand) []int {
	if n <= 0 || m <= 0 {
		return nil
	}
	out := make([]int, m)
	for i := range out {
		if rng == nil {
			// floor((i+0.5)*n/m): video.UniformIndices' formula, also valid for n < m.
			out[i] = (2*i + 1) * n / (2 * m)
			continue
		}
		lo, hi := i*n/m, (i+1)*n/m
		if hi <= lo {
			hi = lo + 1
		}
		out[i] = lo + rng.IntN(hi-lo)
	}
	return out
}

// PlacePatches lays p.K patches of p.Size over the distinct frames of idx
// (the context indices), in a w x h pixel-view frame (w, h >= p.Size, else
// nil). Patches always lie inside the frame, and never overlap within a frame
// when the distinct frames can hold K non-overlapping patches (a frame holds
// Capacity).
//
// Frames: with K <= distinct frames, one patch per frame at the centre
// (eval) or a random frame (train) of each of K equal segments of the
// distinct frames; otherwise every frame gets K/D and the rest go to
// uniformly spaced (eval) or random (train) frames, moving any excess over a
// frame's Capacity to frames with room.
//
// Positions: eval alternates, across the patches in order, the frame centre
// with the periphery (corners, then edge midpoints), taking the next free
// anchor when one would overlap and falling back to a centred grid when the
// anchors run out; train draws uniform positions (rejection sampling, with a
// randomly offset grid as fallback).
//
// Overlap: when the frames cannot hold K non-overlapping patches (a still
// image, a 500x500 frame holding 4 of 224, or a short small clip), the K
// patches are shared evenly over the frames and each frame given more than
// its Capacity takes overlapLayout's evenly spread, overlapping positions.
// The result is grouped by ascending frame.
func PlacePatches(idx []int, w, h int, p Params, rng *rand.Rand) []Patch {
	frames := slices.Compact(slices.Sorted(slices.Values(idx)))
	capPer := Capacity(w, h, p.Size)
	if len(frames) == 0 || capPer == 0 || p.K <= 0 {
		return nil
	}
	counts := assign(len(frames), p.K, capPer, rng)
	out := make([]Patch, 0, p.K)
	g := 0 // patch number across frames: drives the eval centre/periphery alternation
	for fi, n := range counts {
		if n == 0 {
			continue
		}
		var ps []Patch
		switch {
		case n > capPer:
			ps = overlapLayout(w, h, p.Size, n, rng)
		case rng == nil:
			ps = evalLayout(w, h, p.Size, n, g)
		default:
			ps = trainLayout(w, h, p.Size, n, rng)
		}
		for _, q := range ps {
			q.Frame = frames[fi]
			out = append(out, q)
		}
		g += n
	}
	slices.SortStableFunc(out, func(a, b Patch) int { return cmp.Compare(a.Frame, b.Frame) })
	return out
}

// assign returns how many of k patches each of d frames gets: at most capPer
// each when the frames hold k (d*capPer >= k), else k/d or k/d+1 each.
func assign(d, k, capPer int, rng *rand.Rand) []int {
	counts := make([]int, d)
	if k <= d {
		for j := range k {
			lo, hi := j*d/k, (j+1)*d/k
			if rng == nil {
				counts[(2*j+1)*d/(2*k)]++
			} else {
				counts[lo+rng.IntN(hi-lo)]++
			}
		}
		return counts
	}
	for i := range counts {
		counts[i] = k / d
	}
	if extra := k % d; extra > 0 {
		if rng == nil {
			for j := range extra {
				counts[(2*j+1)*d/(2*extra)]++
			}
		} else {
			for _, i := range rng.Perm(d)[:extra] {
				counts[i]++
			}
		}
	}
	if d*capPer < k {
		return counts
	}
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	if rng != nil {
		rng.Shuffle(d, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	over := 0
	for i := range counts {
		if counts[i] > capPer {
			over += counts[i] - capPer
			counts[i] = capPer
		}
	}
	for _, i := range order {
		if over == 0 {
			break
		}
		add := min(over, capPer-counts[i])
		counts[i] += add
		over -= add
	}
	return counts
}

func fits(c Patch, placed []Patch, size int) bool {
	for _, q := range placed {
		if overlaps(c, q, size) {
			return false
		}
	}
	return true
}

// evalLayout places n patches in one frame; g is the number of the first.
// Even-numbered patches prefer the centre, odd ones cycle through the periphery.
func evalLayout(w, h, s, n, g int) []Patch {
	an := anchors(w, h, s)
	ps := make([]Patch, 0, n)
	for i := range n {
		start := 0
		if (g+i)%2 == 1 {
			start = 1 + ((g+i)/2)%(len(an)-1)
		}
		placed := false
		for t := range an {
			if c := an[(start+t)%len(an)]; fits(c, ps, s) {
				ps = append(ps, c)
				placed = true
				break
			}
		}
		if !placed {
			cells := grid(w, h, s, (w%s)/2, (h%s)/2)
			ps = ps[:0]
			for j := range n {
				ps = append(ps, cells[(2*j+1)*len(cells)/(2*n)])
			}
			return ps
		}
	}
	return ps
}

// trainLayout draws n non-overlapping uniform positions in one frame.
func trainLayout(w, h, s, n int, rng *rand.Rand) []Patch {
	ps := make([]Patch, 0, n)
	for range n {
		placed := false
		for range 64 {
			c := Patch{X: rng.IntN(w - s + 1), Y: rng.IntN(h - s + 1)}
			if fits(c, ps, s) {
				ps = append(ps, c)
				placed = true
				break
			}
		}
		if !placed {
			// Crowded frame: a grid with a random offset always has room for n <= Capacity.
			cells := grid(w, h, s, rng.IntN(w%s+1), rng.IntN(h%s+1))
			ps = ps[:0]
			for _, j := range rng.Perm(len(cells))[:n] {
				ps = append(ps, cells[j])
			}
			return ps
		}
	}
	return ps
}

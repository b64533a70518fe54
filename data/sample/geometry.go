package sample

// PixelSize returns the pixel-view frame size for a w x h source. The aspect
// is kept; the frame is shrunk to fit MaxLong x MaxShort (oriented like the
// source, so 1080x540 landscape and 540x1080 portrait) and never enlarged,
// except that a short side below MinSide is scaled up to MinSide so a patch
// fits (MinSide wins over MaxLong for extreme aspect ratios).
//
// Rounding: the side that limits the scale gets its limit exactly and the
// other side is its exact scaled length rounded half up, e.g. 192x144 ->
// 299x224 (298.67), 1280x720 -> 960x540, 1080x1920 -> 540x960.
func PixelSize(w, h int, p Params) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	long, short := max(w, h), min(w, h)
	nl, ns := long, short
	if long > p.MaxLong || short > p.MaxShort {
		// Compare MaxLong/long with MaxShort/short in integers.
		if p.MaxLong*short <= p.MaxShort*long {
			nl, ns = p.MaxLong, roundDiv(short*p.MaxLong, long)
		} else {
			nl, ns = roundDiv(long*p.MaxShort, short), p.MaxShort
		}
	}
	if ns < p.MinSide {
		nl, ns = roundDiv(long*p.MinSide, short), p.MinSide
	}
	if w >= h {
		return nl, ns
	}
	return ns, nl
}

// roundDiv is a/b rounded half up, for a >= 0 and b > 0.
func roundDiv(a, b int) int { return (2*a + b) / (2 * b) }

// Capacity is how many non-overlapping size x size patches a w x h frame
// holds on a grid: the most PlacePatches puts in one frame.
func Capacity(w, h, size int) int {
	if size <= 0 || w < size || h < size {
		return 0
	}
	return (w / size) * (h / size)
}

// overlaps reports whether two size x size squares at a and b intersect.
func overlaps(a, b Patch, size int) bool {
	return abs(a.X-b.X) < size && abs(a.Y-b.Y) < size
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// anchors are the evaluation positions in preference order: the centre first,
// then the periphery (corners, then edge midpoints).
func anchors(w, h, s int) []Patch {
	cx, cy, r, b := (w-s)/2, (h-s)/2, w-s, h-s
	return []Patch{
		{X: cx, Y: cy},
		{X: 0, Y: 0}, {X: r, Y: 0}, {X: 0, Y: b}, {X: r, Y: b},
		{X: cx, Y: 0}, {X: cx, Y: b}, {X: 0, Y: cy}, {X: r, Y: cy},
	}
}

// grid returns the cells of the (w/s) x (h/s) tiling offset by (ox, oy),
// row-major.
func grid(w, h, s, ox, oy int) []Patch {
	nx, ny := w/s, h/s
	cells := make([]Patch, 0, nx*ny)
	for j := range ny {
		for i := range nx {
			cells = append(cells, Patch{X: ox + i*s, Y: oy + j*s})
		}
	}
	return cells
}

package feed

import "math"

// tap is one source pixel's weight in an output pixel.
type tap struct {
	src int
	w   float64
}

// resizer is a separable area filter from src x src to dst x dst RGB bytes.
// The weights of each output pixel are the overlaps of its footprint
// [o*r, (o+1)*r) (r = src/dst) with the source pixels, divided by r, so they
// sum to 1; upscaling degenerates to nearest-neighbour-like box sampling.
type resizer struct {
	src, dst int
	taps     [][]tap
	tmp      []float64
}

func newResizer(src, dst int) *resizer {
	r := &resizer{src: src, dst: dst, taps: make([][]tap, dst)}
	scale := float64(src) / float64(dst)
	for o := range dst {
		lo, hi := float64(o)*scale, float64(o+1)*scale
		for s := int(math.Floor(lo)); s < src && float64(s) < hi; s++ {
			w := math.Min(hi, float64(s+1)) - math.Max(lo, float64(s))
			if w > 1e-12 {
				r.taps[o] = append(r.taps[o], tap{s, w / scale})
			}
		}
	}
	r.tmp = make([]float64, src*dst*3)
	return r
}

// resize writes the dst x dst x 3 image of the src x src x 3 image in.
// Not safe for concurrent use (shares a scratch buffer).
func (r *resizer) resize(out, in []byte) {
	if r.src == r.dst {
		copy(out, in)
		return
	}
	// horizontal pass: src rows x dst columns
	for y := range r.src {
		row := in[y*r.src*3:]
		for x, ts := range r.taps {
			var c0, c1, c2 float64
			for _, t := range ts {
				p := row[t.src*3:]
				c0 += t.w * float64(p[0])
				c1 += t.w * float64(p[1])
				c2 += t.w * float64(p[2])
			}
			o := (y*r.dst + x) * 3
			r.tmp[o], r.tmp[o+1], r.tmp[o+2] = c0, c1, c2
		}
	}
	// vertical pass
	for y, ts := range r.taps {
		for x := range r.dst {
			for c := range 3 {
				var v float64
				for _, t := range ts {
					v += t.w * r.tmp[(t.src*r.dst+x)*3+c]
				}
				out[(y*r.dst+x)*3+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
			}
		}
	}
}

package video

import (
	"math"

	"github.com/asticode/go-astiav"
)

// cfrSync places timestamped frames on an encoder's constant-rate grid as the
// ffmpeg 5.1 CLI does for an MP4 output without -vf (fftools/ffmpeg.c,
// do_video_out, vsync "cfr", or "vscfr" when the input has a single stream):
// a frame that lasts several output frames (variable frame rate) is repeated,
// a gap before a frame repeats the previous one, and a frame more than 1.1
// output frames early is dropped. Matching the CLI keeps every ladder level
// equal to `ffmpeg -i src -c:v libx264 -crf C out.mp4`, frame count and
// duration included; a constant-rate source passes through one to one.
type cfrSync struct {
	inTB, encTB astiav.Rational
	vscfr       bool     // single-stream input: a late first frame starts the output late
	next        int64    // pts of the next output frame (the CLI's sync_opts)
	frames      int64    // output frames so far
	lastNb0     [3]int64 // repeats of the previous frame for the last three inputs
}

// maxRepeat is the CLI's limit (dts_error_threshold * 30): a frame needing
// more repeats has a broken timestamp and is skipped.
const maxRepeat = 3600 * 30 * 30

// place decides the output frames for an input frame at pts lasting dur
// (both in inTB; dur 0 if unknown). It returns how many to write (nb), how
// many of those repeat the previous input frame (the first nb0), and the pts
// of the first; the others follow at pts+1, pts+2, ... keep is false for a
// frame skipped outright, which must not become the previous frame.
func (s *cfrSync) place(pts, dur int64) (nb0, nb, first int64, keep bool) {
	duration := 1.0 // one output frame: the encoder's time base is 1/fps
	if dur > 0 {
		if d := lrintf(float64(dur) * s.inTB.Float64() / s.encTB.Float64()); d > 0 {
			duration = float64(d)
		}
	}
	sync := s.exactPts(pts)
	delta0 := sync - float64(s.next) // drift of this frame from its slot
	delta := delta0 + duration
	nb0, nb = 0, 1
	if delta0 < 0 && delta > 0 { // slightly early: clip it into its slot
		sync = float64(s.next)
		duration += delta0
		delta0 = 0
	}
	if s.vscfr && s.frames == 0 && delta0 >= 0.5 {
		delta, delta0 = duration, 0
		s.next = int64(math.RoundToEven(sync))
	}
	switch {
	case delta < -1.1:
		nb = 0
	case delta > 1.1:
		nb = lrintf(delta)
		if delta0 > 1.1 {
			nb0 = lrintf(delta0 - 0.6)
		}
	}
	nb0 = min(nb0, nb)
	s.lastNb0 = [3]int64{nb0, s.lastNb0[0], s.lastNb0[1]}
	if nb > maxRepeat {
		return 0, 0, s.next, false
	}
	first = s.next
	s.next += nb
	s.frames += nb
	return nb0, nb, first, true
}

// flush returns how often the last frame is repeated at the end of the
// stream, and the pts of the first repeat.
func (s *cfrSync) flush() (nb, first int64) {
	a, b, c := s.lastNb0[0], s.lastNb0[1], s.lastNb0[2]
	nb = max(min(a, b), min(max(a, b), c)) // median, the CLI's mid_pred
	first = s.next
	s.next += nb
	s.frames += nb
	return nb, first
}

// exactPts is pts in encoder frames, with extra precision and nudged off
// exact midpoints, as the CLI computes it (adjust_frame_pts_to_encoder_tb).
func (s *cfrSync) exactPts(pts int64) float64 {
	if pts == astiav.NoPtsValue {
		return float64(astiav.NoPtsValue) // the CLI drops such frames
	}
	extra := min(max(29-log2(s.encTB.Den()), 0), 16)
	tb := astiav.NewRational(s.encTB.Num(), s.encTB.Den()<<extra)
	f := float64(astiav.RescaleQ(pts, s.inTB, tb)) / float64(int64(1)<<extra)
	if f > 0 {
		return f + 1.0/(1<<17)
	}
	return f - 1.0/(1<<17)
}

// lrintf rounds as C's lrintf: through float32, halves to even.
func lrintf(x float64) int64 { return int64(math.RoundToEven(float64(float32(x)))) }

func log2(v int) int {
	n := 0
	for v > 1 {
		v >>= 1
		n++
	}
	return n
}

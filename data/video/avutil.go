package video

/*
#cgo pkg-config: libavutil
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>

static int64_t frame_best_effort(const AVFrame *f) { return f->best_effort_timestamp; }
static int64_t frame_pkt_duration(const AVFrame *f) { return f->pkt_duration; }
static int chroma_shifts(int fmt, int *w, int *h) {
	return av_pix_fmt_get_chroma_sub_sample((enum AVPixelFormat)fmt, w, h);
}
*/
import "C"

import "github.com/asticode/go-astiav"

// Fields go-astiav v0.16 does not expose.

// bestEffortPts is the decoder's timestamp estimate, the pts the ffmpeg CLI uses.
func bestEffortPts(f *astiav.Frame) int64 {
	return int64(C.frame_best_effort((*C.AVFrame)(f.UnsafePointer())))
}

// pktDuration is the duration of the packet a decoded frame came from, in
// the stream's time base (0 if unknown).
func pktDuration(f *astiav.Frame) int64 {
	return int64(C.frame_pkt_duration((*C.AVFrame)(f.UnsafePointer())))
}

// chromaShifts returns log2 of the horizontal and vertical chroma subsampling.
func chromaShifts(pf astiav.PixelFormat) (w, h int, ok bool) {
	var cw, ch C.int
	if C.chroma_shifts(C.int(pf), &cw, &ch) < 0 {
		return 0, 0, false
	}
	return int(cw), int(ch), true
}

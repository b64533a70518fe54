package video

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/asticode/go-astiav"
)

// RGBFrame is one decoded frame as tightly packed RGB24 (Width*Height*3 bytes).
type RGBFrame struct {
	Index  int // position of the frame in decode order, from 0
	Width  int
	Height int
	Pix    []byte
}

// RGBOptions select and size the frames DecodeRGB returns.
type RGBOptions struct {
	Width, Height int   // output size; 0,0 keeps the native size
	Indices       []int // frames to return (any order, deduplicated); nil returns all
}

// Scaler converts native frames to RGB24 with bilinear swscale, the same
// filter as `ffmpeg -vf scale=W:H:flags=bilinear`.
type Scaler struct {
	ssc  *astiav.SoftwareScaleContext
	dst  *astiav.Frame
	w, h int
}

// NewScaler makes a converter from the stream's size and format to w x h RGB24.
func NewScaler(p Params, w, h int) (*Scaler, error) {
	if w <= 0 || h <= 0 {
		w, h = p.Width, p.Height
	}
	ssc, err := astiav.CreateSoftwareScaleContext(p.Width, p.Height, p.PixFmt, w, h,
		astiav.PixelFormatRgb24, astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBilinear))
	if err != nil {
		return nil, fmt.Errorf("create scaler %dx%d %s -> %dx%d rgb24: %w", p.Width, p.Height, p.PixFmt.Name(), w, h, err)
	}
	return &Scaler{ssc: ssc, dst: astiav.AllocFrame(), w: w, h: h}, nil
}

// Convert scales src into a new packed RGB24 buffer.
func (s *Scaler) Convert(src *astiav.Frame) ([]byte, error) {
	s.dst.Unref()
	if err := s.ssc.ScaleFrame(src, s.dst); err != nil {
		return nil, err
	}
	return s.dst.Data().Bytes(1)
}

// Close releases the scaler.
func (s *Scaler) Close() {
	s.dst.Free()
	s.ssc.Free()
}

// DecodeRGB decodes path once and calls fn for each selected frame, holding
// only the current frame in memory. Frames are returned in decode order.
func DecodeRGB(path string, opts RGBOptions, fn func(RGBFrame) error) error {
	d, err := OpenDecoder(path)
	if err != nil {
		return err
	}
	defer d.Close()
	want, last := indexSet(opts.Indices)
	var sc *Scaler
	defer func() {
		if sc != nil {
			sc.Close()
		}
	}()
	for i := 0; ; i++ {
		if want != nil && i > last {
			return nil
		}
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			if want != nil {
				return fail(path, "decode", fmt.Errorf("frame %d requested but the video has only %d frames", last, i))
			}
			return nil
		}
		if err != nil {
			return err
		}
		if want != nil && !want[i] {
			continue
		}
		if sc == nil || f.Width() != sc.srcW() || f.Height() != sc.srcH() {
			// Create on the first frame (or a mid-stream size change) from the frame itself.
			if sc != nil {
				sc.Close()
			}
			p := d.Params()
			p.Width, p.Height, p.PixFmt = f.Width(), f.Height(), f.PixelFormat()
			if sc, err = NewScaler(p, opts.Width, opts.Height); err != nil {
				return &Error{Path: path, Step: "scale", Frame: i, Err: err}
			}
		}
		pix, err := sc.Convert(f)
		if err != nil {
			return &Error{Path: path, Step: "scale", Frame: i, Err: err}
		}
		if err := fn(RGBFrame{Index: i, Width: sc.w, Height: sc.h, Pix: pix}); err != nil {
			return err
		}
	}
}

func (s *Scaler) srcW() int { return s.ssc.SourceWidth() }
func (s *Scaler) srcH() int { return s.ssc.SourceHeight() }

func indexSet(idx []int) (map[int]bool, int) {
	if idx == nil {
		return nil, -1
	}
	set := make(map[int]bool, len(idx))
	last := -1
	for _, i := range idx {
		set[i] = true
		if i > last {
			last = i
		}
	}
	return set, last
}

// UniformIndices picks m frame indices spread uniformly over n frames (the
// centre of each of m equal segments). With m >= n every frame is returned.
func UniformIndices(n, m int) []int {
	if n <= 0 || m <= 0 {
		return nil
	}
	if m >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, m)
	for i := range out {
		out[i] = int((float64(i) + 0.5) * float64(n) / float64(m))
	}
	sort.Ints(out)
	return out
}

package video

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/asticode/go-astiav"
)

// ErrAgain means a filter graph needs more input before it can output a frame.
var ErrAgain = errors.New("filter graph needs more input")

// Graph runs an FFmpeg filter graph ending in a buffersink: either a source
// graph (lavfi generators such as testsrc2 or mandelbrot, no input) or a
// filter chain fed frame by frame through a buffersrc.
type Graph struct {
	desc string
	g    *astiav.FilterGraph
	src  *astiav.FilterContext // nil for source graphs
	sink *astiav.FilterContext
	out  *astiav.Frame
}

// NewSourceGraph builds a graph with no input, e.g.
// "testsrc2=size=640x360:rate=25:duration=3,format=yuv420p".
func NewSourceGraph(desc string) (*Graph, error) {
	return newGraph(desc, nil)
}

// NewFilterGraph builds "in -> desc -> out" for frames described by p, with
// timestamps in p.TimeBase, or in 1/fps units when that is unset.
func NewFilterGraph(desc string, p Params) (*Graph, error) {
	return newGraph(desc, &p)
}

func newGraph(desc string, p *Params) (g *Graph, err error) {
	gerr := func(err error) error { return fmt.Errorf("filter graph %q: %w", desc, err) }
	g = &Graph{desc: desc, g: astiav.AllocFilterGraph()}
	if g.g == nil {
		return nil, gerr(errors.New("cannot allocate"))
	}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	g.g.SetThreadCount(1) // deterministic and cheap; parallelism comes from running many graphs
	if g.sink, err = g.g.NewFilterContext(astiav.FindFilterByName("buffersink"), "out", nil); err != nil {
		return nil, gerr(err)
	}
	inputs := astiav.AllocFilterInOut()
	defer inputs.Free()
	inputs.SetName("out")
	inputs.SetFilterContext(g.sink)
	inputs.SetPadIdx(0)
	inputs.SetNext(nil)
	var outputs *astiav.FilterInOut
	if p != nil {
		args := astiav.FilterArgs{
			"pix_fmt":      strconv.Itoa(int(p.PixFmt)),
			"video_size":   fmt.Sprintf("%dx%d", p.Width, p.Height),
			"time_base":    fmt.Sprintf("%d/%d", p.FrameRate.Den(), p.FrameRate.Num()),
			"pixel_aspect": "1/1",
		}
		if p.SAR.Num() > 0 {
			args["pixel_aspect"] = p.SAR.String()
		}
		if p.TimeBase.Num() > 0 && p.TimeBase.Den() > 0 {
			args["time_base"] = fmt.Sprintf("%d/%d", p.TimeBase.Num(), p.TimeBase.Den())
		}
		if g.src, err = g.g.NewFilterContext(astiav.FindFilterByName("buffer"), "in", args); err != nil {
			return nil, gerr(err)
		}
		outputs = astiav.AllocFilterInOut()
		defer outputs.Free()
		outputs.SetName("in")
		outputs.SetFilterContext(g.src)
		outputs.SetPadIdx(0)
		outputs.SetNext(nil)
	}
	if err = g.g.Parse(desc, inputs, outputs); err != nil {
		return nil, gerr(err)
	}
	if err = g.g.Configure(); err != nil {
		return nil, gerr(err)
	}
	g.out = astiav.AllocFrame()
	return g, nil
}

// Push feeds one frame (nil signals the end of input). The frame is not taken.
func (g *Graph) Push(f *astiav.Frame) error {
	if g.src == nil {
		return fmt.Errorf("filter graph %q: source graphs take no input", g.desc)
	}
	if err := g.src.BuffersrcAddFrame(f, astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)); err != nil {
		return fmt.Errorf("filter graph %q: push: %w", g.desc, err)
	}
	return nil
}

// Pull returns the next output frame, ErrAgain when more input is needed, or
// io.EOF at the end. The frame is valid until the next Pull.
func (g *Graph) Pull() (*astiav.Frame, error) {
	g.out.Unref()
	err := g.sink.BuffersinkGetFrame(g.out, astiav.NewBuffersinkFlags())
	switch {
	case err == nil:
		return g.out, nil
	case errors.Is(err, astiav.ErrEagain):
		return nil, ErrAgain
	case errors.Is(err, astiav.ErrEof):
		return nil, io.EOF
	}
	return nil, fmt.Errorf("filter graph %q: pull: %w", g.desc, err)
}

// Close frees the graph.
func (g *Graph) Close() {
	if g.out != nil {
		g.out.Free()
		g.out = nil
	}
	if g.g != nil {
		g.g.Free() // frees its filter contexts too
		g.g = nil
	}
}

// Plane is one 8-bit image plane, tightly packed (stride == W).
type Plane struct {
	W, H int
	Pix  []byte
}

// Planes copies an 8-bit planar YUV (or gray) frame into packed planes.
func Planes(f *astiav.Frame) ([]Plane, error) {
	w, h := f.Width(), f.Height()
	cw, ch := (w+1)/2, (h+1)/2
	var dims [][2]int
	switch f.PixelFormat() {
	case astiav.PixelFormatYuv420P, astiav.PixelFormatYuvj420P:
		dims = [][2]int{{w, h}, {cw, ch}, {cw, ch}}
	case astiav.PixelFormatYuv422P, astiav.PixelFormatYuvj422P:
		dims = [][2]int{{w, h}, {cw, h}, {cw, h}}
	case astiav.PixelFormatYuv444P, astiav.PixelFormatYuvj444P:
		dims = [][2]int{{w, h}, {w, h}, {w, h}}
	case astiav.PixelFormatGray8:
		dims = [][2]int{{w, h}}
	default:
		return nil, fmt.Errorf("planes: pixel format %s is not 8-bit planar YUV", f.PixelFormat().Name())
	}
	buf, err := f.Data().Bytes(1)
	if err != nil {
		return nil, err
	}
	out := make([]Plane, len(dims))
	off := 0
	for i, d := range dims {
		n := d[0] * d[1]
		if off+n > len(buf) {
			return nil, fmt.Errorf("planes: frame buffer too short for %s %dx%d", f.PixelFormat().Name(), w, h)
		}
		out[i] = Plane{W: d[0], H: d[1], Pix: buf[off : off+n]}
		off += n
	}
	return out, nil
}

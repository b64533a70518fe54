package video

import (
	"errors"
	"fmt"
	"math"

	"github.com/asticode/go-astiav"
)

// display is how a stream's display matrix turns coded frames upright: the
// filters the ffmpeg 5.1 CLI inserts by default (-autorotate, in
// fftools/ffmpeg_filter.c), so decoded frames look as the CLI outputs them.
type display struct {
	filter     string // "" when frames are shown as coded
	transposed bool   // width and height swap
}

// displayOf reads s's display matrix (stream side data, e.g. an MP4 track
// matrix; a per-frame H.264 orientation SEI is not consulted).
func displayOf(s *astiav.Stream) display {
	b := s.SideData(astiav.PacketSideDataTypeDisplaymatrix)
	if len(b) < 36 {
		return display{}
	}
	m, err := astiav.NewDisplayMatrixFromBytes(b)
	if err != nil {
		return display{}
	}
	return displayFor(m)
}

// displayFor mirrors the CLI's choice. theta is the clockwise rotation
// (the CLI's get_rotation: -round(av_display_rotation_get), into [0, 360));
// m[0], m[3], m[4] tell flips apart from rotations.
func displayFor(dm *astiav.DisplayMatrix) display {
	m := func(i int) int32 { return int32(dm[i]) }
	theta := math.Round(dm.Rotation()) // astiav's Rotation is -av_display_rotation_get
	theta -= 360 * math.Floor(theta/360+0.9/360)
	switch {
	case math.Abs(theta-90) < 1:
		if m(3) > 0 {
			return display{"transpose=cclock_flip", true}
		}
		return display{"transpose=clock", true}
	case math.Abs(theta-180) < 1:
		var f string
		if m(0) < 0 {
			f = "hflip"
		}
		if m(4) < 0 {
			if f != "" {
				f += ","
			}
			f += "vflip"
		}
		return display{f, false}
	case math.Abs(theta-270) < 1:
		if m(3) < 0 {
			return display{"transpose=clock_flip", true}
		}
		return display{"transpose=cclock", true}
	case math.Abs(theta) > 1:
		return display{fmt.Sprintf("rotate=%f*PI/180", theta), false}
	case math.Abs(theta) < 1 && m(4) < 0:
		return display{"vflip", false}
	}
	return display{}
}

// apply sizes p as the display filter outputs it.
func (d display) apply(p Params) Params {
	if d.transposed {
		p.Width, p.Height = p.Height, p.Width
		if p.SAR.Num() > 0 {
			p.SAR = astiav.NewRational(p.SAR.Den(), p.SAR.Num())
		}
	}
	return p
}

// rotator runs the display filter over decoded frames, rebuilt if the
// frames change size or format mid-stream (as the CLI reconfigures).
type rotator struct {
	filter string
	tb     astiav.Rational
	g      *Graph
	w, h   int
	pf     astiav.PixelFormat
}

// rotate returns f shown upright; the result is valid until the next call.
func (r *rotator) rotate(f *astiav.Frame) (*astiav.Frame, error) {
	if r.g == nil || f.Width() != r.w || f.Height() != r.h || f.PixelFormat() != r.pf {
		r.close()
		p := Params{Width: f.Width(), Height: f.Height(), PixFmt: f.PixelFormat(), SAR: f.SampleAspectRatio(), TimeBase: r.tb}
		g, err := NewFilterGraph(r.filter, p)
		if err != nil {
			return nil, fmt.Errorf("display rotation: %w", err)
		}
		r.g, r.w, r.h, r.pf = g, f.Width(), f.Height(), f.PixelFormat()
	}
	if err := r.g.Push(f); err != nil {
		return nil, fmt.Errorf("display rotation: %w", err)
	}
	out, err := r.g.Pull()
	if errors.Is(err, ErrAgain) {
		return nil, fmt.Errorf("display rotation: filter %q held a frame back", r.filter)
	}
	if err != nil {
		return nil, fmt.Errorf("display rotation: %w", err)
	}
	return out, nil
}

func (r *rotator) close() {
	if r.g != nil {
		r.g.Close()
		r.g = nil
	}
}

package sample

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/asticode/go-astiav"

	"github.com/cpllm/cpllm/data/video"
)

// Sample decodes path once and returns its context and pixel views. Eval
// ignores seed and id; Train draws frames and patch positions from
// NewRand(seed, id) (context frames first, then patches), so the same
// (clip, seed, id) always gives byte-identical views. Pixels come from
// bilinear swscale, equal to `ffmpeg -vf scale=W:H:flags=bilinear`, from
// frames turned upright by the display matrix as the CLI shows them (so a
// phone clip recorded sideways is sampled as portrait). A still image
// (video.IsImage: JPEG, PNG, BMP) is a one-frame clip: the context view is
// that frame M times and the K patches all come from it, overlapping when it
// cannot hold K apart (PlacePatches). Errors name the file.
func Sample(path string, p Params, mode Mode, seed uint64, id string) (Views, error) {
	return SampleNative(path, p, mode, seed, id, 0)
}

// SampleNative is Sample that also keeps up to native context frames at the
// source resolution in Views.Native (packed RGB24, SrcW x SrcH), from the
// same decode pass: quality measurements (blockiness on the codec's 8x8
// grid, noise, sharpness) need unresampled pixels.
func SampleNative(path string, p Params, mode Mode, seed uint64, id string, native int) (Views, error) {
	return SampleWith(path, p, mode, seed, id, Options{Native: native})
}

// Options ask Sample for more than the views, from the same decode pass.
type Options struct {
	// Native keeps up to Native context frames at the source resolution
	// (Views.Native).
	Native int
	// PixelFrames keeps the whole pixel-view frames the patches are cut from
	// (Views.PixelFrames): statistics of whole frames at the resolution the
	// patches see, not only of the patches.
	PixelFrames bool
}

// SampleWith is Sample with Options.
func SampleWith(path string, p Params, mode Mode, seed uint64, id string, o Options) (Views, error) {
	if err := p.Validate(); err != nil {
		return Views{}, fmt.Errorf("%s: %w", path, err)
	}
	if mode != Eval && mode != Train {
		return Views{}, fmt.Errorf("%s: sample: unknown mode %v", path, mode)
	}
	info, err := video.Probe(path)
	if err != nil {
		return Views{}, err
	}
	if info.Frames <= 0 {
		return Views{}, fmt.Errorf("%s: sample: no video frames", path)
	}
	v, decoded, err := sampleFrames(path, info.Frames, p, mode, seed, id, o)
	if errors.Is(err, errShort) && decoded > 0 {
		// The container over-counted its frames: plan again on the frames that
		// really decode (a second pass, only for such files).
		v, _, err = sampleFrames(path, decoded, p, mode, seed, id, o)
	}
	if errors.Is(err, errShort) {
		return Views{}, fmt.Errorf("%s: sample: %w", path, err)
	}
	if !info.Still {
		v.FPS = info.FPS
	}
	return v, err
}

var errShort = errors.New("fewer frames decode than the container reports")

// sampleFrames plans the views for an n-frame clip and fills them in one
// decode pass. On a clip that ends early it returns errShort and the count
// of frames that decoded.
func sampleFrames(path string, n int, p Params, mode Mode, seed uint64, id string, o Options) (Views, int, error) {
	d, err := video.OpenDecoder(path)
	if err != nil {
		return Views{}, 0, err
	}
	defer d.Close()
	par := d.Params()
	var rng *rand.Rand
	if mode == Train {
		rng = NewRand(seed, id)
	}
	pw, ph := PixelSize(par.Width, par.Height, p)
	v := Views{
		Size:       p.Size,
		ContextIdx: ContextIndices(n, p.M, rng),
		PixelW:     pw,
		PixelH:     ph,
		SrcW:       par.Width,
		SrcH:       par.Height,
		Frames:     n,
	}
	v.Patches = PlacePatches(v.ContextIdx, pw, ph, p, rng)
	if len(v.Patches) != p.K {
		return Views{}, 0, fmt.Errorf("%s: sample: cannot place %d patches in %dx%d", path, p.K, pw, ph)
	}
	fs := p.Size * p.Size * 3
	v.Context = make([]byte, p.M*fs)
	v.PatchPix = make([]byte, p.K*fs)

	keep := nativePicks(v.ContextIdx, o.Native)
	var sc scalers
	defer sc.close()
	ci, pi := 0, 0 // next context slot and next patch to fill; both ascend by frame
	last := v.ContextIdx[p.M-1]
	for i := 0; i <= last; i++ {
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			return Views{}, i, errShort
		}
		if err != nil {
			return Views{}, 0, err
		}
		if v.ContextIdx[ci] != i {
			continue
		}
		if err := sc.ensure(par, f, p.Size, pw, ph); err != nil {
			return Views{}, 0, &video.Error{Path: path, Step: "scale", Frame: i, Err: err}
		}
		pix, err := sc.ctx.Convert(f)
		if err != nil {
			return Views{}, 0, &video.Error{Path: path, Step: "scale", Frame: i, Err: err}
		}
		for ; ci < p.M && v.ContextIdx[ci] == i; ci++ {
			copy(v.Context[ci*fs:], pix)
		}
		if keep[i] {
			rgb, err := sc.native(par, f)
			if err != nil {
				return Views{}, 0, &video.Error{Path: path, Step: "scale", Frame: i, Err: err}
			}
			v.Native = append(v.Native, rgb)
		}
		if pi == p.K || v.Patches[pi].Frame != i {
			continue
		}
		full, err := sc.pix.Convert(f)
		if err != nil {
			return Views{}, 0, &video.Error{Path: path, Step: "scale", Frame: i, Err: err}
		}
		if o.PixelFrames {
			v.PixelFrames = append(v.PixelFrames, full)
		}
		for ; pi < p.K && v.Patches[pi].Frame == i; pi++ {
			crop(v.PatchPix[pi*fs:(pi+1)*fs], full, pw, v.Patches[pi], p.Size)
		}
	}
	return v, last + 1, nil
}

// crop copies the size x size square at q out of a packed RGB24 frame w wide.
func crop(dst, src []byte, w int, q Patch, size int) {
	row := size * 3
	for r := range size {
		o := ((q.Y+r)*w + q.X) * 3
		copy(dst[r*row:(r+1)*row], src[o:o+row])
	}
}

// scalers hold the two converters, made from the first frame actually
// decoded (its size and format) and remade if the stream changes size.
type scalers struct {
	ctx, pix *video.Scaler
	nat      *video.Scaler // to native-size RGB24, made on first use
	w, h     int
	fmt      astiav.PixelFormat
}

func (s *scalers) ensure(par video.Params, f *astiav.Frame, size, pw, ph int) error {
	if s.ctx != nil && f.Width() == s.w && f.Height() == s.h && f.PixelFormat() == s.fmt {
		return nil
	}
	s.close()
	par.Width, par.Height, par.PixFmt = f.Width(), f.Height(), f.PixelFormat()
	s.w, s.h, s.fmt = par.Width, par.Height, par.PixFmt
	var err error
	if s.ctx, err = video.NewScaler(par, size, size); err != nil {
		return err
	}
	s.pix, err = video.NewScaler(par, pw, ph)
	return err
}

func (s *scalers) native(par video.Params, f *astiav.Frame) ([]byte, error) {
	if s.nat == nil {
		par.Width, par.Height, par.PixFmt = f.Width(), f.Height(), f.PixelFormat()
		var err error
		if s.nat, err = video.NewScaler(par, 0, 0); err != nil {
			return nil, err
		}
	}
	return s.nat.Convert(f)
}

// nativePicks spreads n picks over the distinct context frames.
func nativePicks(idx []int, n int) map[int]bool {
	keep := map[int]bool{}
	if n <= 0 {
		return keep
	}
	var distinct []int
	for i, x := range idx {
		if i == 0 || x != idx[i-1] {
			distinct = append(distinct, x)
		}
	}
	n = min(n, len(distinct))
	for j := range n {
		keep[distinct[(2*j+1)*len(distinct)/(2*n)]] = true
	}
	return keep
}

func (s *scalers) close() {
	if s.ctx != nil {
		s.ctx.Close()
		s.ctx = nil
	}
	if s.pix != nil {
		s.pix.Close()
		s.pix = nil
	}
	if s.nat != nil {
		s.nat.Close()
		s.nat = nil
	}
}

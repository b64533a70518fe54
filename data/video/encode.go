package video

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/asticode/go-astiav"

	"github.com/cpllm/cpllm/internal/x264"
)

// Presets are libx264's speed presets, fastest first.
var Presets = x264.Presets

// EncodeOptions configure an H.264 (libx264) encode.
type EncodeOptions struct {
	CRF    int    // 0..51 for 8-bit input (libx264 accepts up to 51 + QP offset; 53 is valid for 10-bit)
	Preset string // one of Presets
}

// Validate checks the options before any work starts.
func (o EncodeOptions) Validate() error {
	if o.CRF < 0 || o.CRF > 63 {
		return fmt.Errorf("crf %d out of range 0..63", o.CRF)
	}
	if !slices.Contains(Presets, o.Preset) {
		return fmt.Errorf("preset %q is not one of %v", o.Preset, Presets)
	}
	return nil
}

// Encoder writes frames to an MP4 (or any container named by the path) as
// H.264, with the settings the ffmpeg CLI uses for `-c:v libx264 -crf C -preset P`,
// so both give the same bitstream.
type Encoder struct {
	path   string
	fc     *astiav.FormatContext
	cc     *astiav.CodecContext
	st     *astiav.Stream
	pb     *astiav.IOContext
	pkt    *astiav.Packet
	conv   *astiav.SoftwareScaleContext // only when the source format is not x264's
	cframe *astiav.Frame
	sync   *cfrSync        // nil: frames carry no timestamps, each is encoded once
	last   *astiav.Frame   // the previous input frame, repeated when sync says so
	n      int64           // frames sent to x264
	end    int64           // pts after the last frame sent, in tb
	tb     astiav.Rational // the encoder's time base, 1/fps
	opened bool
	closed bool
}

// NewEncoder creates path and an encoder for frames described by p. When
// p.TimeBase is set, frames are placed by their pts as the ffmpeg CLI does
// (see cfrSync); otherwise each frame is encoded once, in order.
func NewEncoder(path, format string, p Params, o EncodeOptions) (_ *Encoder, err error) {
	if err := o.Validate(); err != nil {
		return nil, fail(path, "encode setup", err)
	}
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		return nil, fail(path, "encode setup", errors.New("libx264 encoder not available in this FFmpeg build"))
	}
	pixFmt := p.PixFmt
	if !slices.Contains(codec.PixelFormats(), pixFmt) {
		pixFmt = astiav.PixelFormatYuv420P
	}
	if err := checkX264Size(p.Width, p.Height, pixFmt); err != nil {
		return nil, fail(path, "encode setup", err)
	}
	zeroMallocs() // before the first encoder allocates: see malloc.go
	// Not the named result: `return nil, err` must not hide e from this cleanup.
	e := &Encoder{path: path}
	defer func() {
		if err != nil {
			e.free()
		}
	}()
	if e.fc, err = astiav.AllocOutputFormatContext(nil, format, path); err != nil || e.fc == nil {
		if err == nil {
			err = errors.New("unknown output format")
		}
		return nil, fail(path, "encode setup", fmt.Errorf("no muxer for %q (format %q): %w", path, format, err))
	}
	e.cc = astiav.AllocCodecContext(codec)
	if pixFmt != p.PixFmt {
		e.conv, err = astiav.CreateSoftwareScaleContext(p.Width, p.Height, p.PixFmt, p.Width, p.Height, pixFmt,
			astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBicubic))
		if err != nil {
			return nil, fail(path, "encode setup", err)
		}
		e.cframe = astiav.AllocFrame()
	}
	e.cc.SetWidth(p.Width)
	e.cc.SetHeight(p.Height)
	e.cc.SetPixelFormat(pixFmt)
	e.cc.SetSampleAspectRatio(p.SAR)
	e.cc.SetFramerate(p.FrameRate)
	e.tb = astiav.NewRational(p.FrameRate.Den(), p.FrameRate.Num())
	e.cc.SetTimeBase(e.tb)
	e.cc.SetThreadCount(0) // auto, as the CLI: x264's output depends on its thread count
	if e.fc.OutputFormat().Flags().Has(astiav.IOFormatFlagGlobalheader) {
		e.cc.SetFlags(e.cc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	}
	opts := astiav.NewDictionary()
	defer opts.Free()
	_ = opts.Set("crf", strconv.Itoa(o.CRF), 0)
	_ = opts.Set("preset", o.Preset, 0)
	if err = e.cc.Open(codec, opts); err != nil {
		return nil, fail(path, "encode setup (open libx264)", err)
	}
	e.opened = true
	if e.st = e.fc.NewStream(nil); e.st == nil {
		return nil, fail(path, "encode setup", errors.New("cannot add stream"))
	}
	if err = e.st.CodecParameters().FromCodecContext(e.cc); err != nil {
		return nil, fail(path, "encode setup", err)
	}
	e.st.SetTimeBase(e.cc.TimeBase())
	e.st.SetAvgFrameRate(p.FrameRate)
	if !e.fc.OutputFormat().Flags().Has(astiav.IOFormatFlagNofile) {
		if e.pb, err = astiav.OpenIOContext(path, astiav.NewIOContextFlags(astiav.IOContextFlagWrite)); err != nil {
			return nil, fail(path, "encode (create file)", err)
		}
		e.fc.SetPb(e.pb)
	}
	if err = e.fc.WriteHeader(nil); err != nil {
		return nil, fail(path, "encode (write header)", err)
	}
	e.pkt = astiav.AllocPacket()
	if p.TimeBase.Num() > 0 && p.TimeBase.Den() > 0 {
		e.sync = &cfrSync{inTB: p.TimeBase, encTB: e.tb, vscfr: p.OnlyStream}
		e.last = astiav.AllocFrame()
	}
	return e, nil
}

// checkX264Size refuses frame sizes libx264 cannot encode in pf (it needs
// whole chroma samples: even width and height for 4:2:0, even width for
// 4:2:2), before any file is created.
func checkX264Size(w, h int, pf astiav.PixelFormat) error {
	cw, ch, ok := chromaShifts(pf)
	if !ok || (w%(1<<cw) == 0 && h%(1<<ch) == 0) {
		return nil
	}
	need := "an even width"
	if ch > 0 {
		need = "an even width and height"
	}
	side, n := "width", 1<<cw // x264 checks the width first
	if w%n == 0 {
		side, n = "height", 1<<ch
	}
	return fmt.Errorf("frame size %dx%d cannot be encoded as H.264 in %s: libx264 needs %s "+
		"(the ffmpeg CLI refuses it too: \"%s not divisible by %d\"); crop or scale the source "+
		"to even dimensions first, e.g. ffmpeg -vf crop=trunc(iw/2)*2:trunc(ih/2)*2", w, h, pf.Name(), need, side, n)
}

// WriteFrame encodes f: once, or as often as its timestamp asks (see
// cfrSync). The caller keeps ownership of f, but its pts and picture type
// are overwritten (stale I/P/B hints would steer x264).
func (e *Encoder) WriteFrame(f *astiav.Frame) error {
	var nb0, nb, pts int64 = 0, 1, e.n
	keep := false
	if e.sync != nil {
		nb0, nb, pts, keep = e.sync.place(f.Pts(), pktDuration(f))
	}
	if e.conv != nil {
		e.cframe.Unref() // e.last may still hold the previous buffers
		if err := e.conv.ScaleFrame(f, e.cframe); err != nil {
			return &Error{Path: e.path, Step: "encode (convert)", Frame: int(e.n), Err: err}
		}
		f = e.cframe
	}
	for i := range nb {
		src := f
		if i < nb0 && e.last.Width() > 0 {
			src = e.last
		}
		if err := e.send(src, pts+i); err != nil {
			return err
		}
	}
	if keep {
		e.last.Unref()
		if err := e.last.Ref(f); err != nil {
			return &Error{Path: e.path, Step: "encode", Frame: int(e.n), Err: err}
		}
	}
	return nil
}

func (e *Encoder) send(f *astiav.Frame, pts int64) error {
	f.SetPts(pts)
	f.SetPictureType(astiav.PictureTypeNone)
	if err := e.cc.SendFrame(f); err != nil {
		return &Error{Path: e.path, Step: "encode", Frame: int(e.n), Err: err}
	}
	e.n++
	e.end = pts + 1
	return e.drain()
}

func (e *Encoder) drain() error {
	for {
		e.pkt.Unref()
		err := e.cc.ReceivePacket(e.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return &Error{Path: e.path, Step: "encode", Frame: int(e.n), Err: err}
		}
		if e.pkt.Duration() <= 0 {
			e.pkt.SetDuration(1) // one frame in 1/fps units; without it MP4 drops the last frame
		}
		e.pkt.SetStreamIndex(e.st.Index())
		e.pkt.RescaleTs(e.cc.TimeBase(), e.st.TimeBase())
		if err := e.fc.WriteInterleavedFrame(e.pkt); err != nil {
			return &Error{Path: e.path, Step: "encode (mux)", Frame: int(e.n), Err: err}
		}
	}
}

// Frames is how many frames were sent to the encoder.
func (e *Encoder) Frames() int { return int(e.n) }

// Duration is the time the encoded frames span, in seconds: up to the end of
// the last frame (once closed, including the CLI's final repeats).
func (e *Encoder) Duration() float64 {
	return float64(e.end) * e.tb.Float64()
}

// Close flushes the encoder, writes the trailer, fsyncs and closes the file.
func (e *Encoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	defer e.free()
	if e.sync != nil && e.last.Width() > 0 {
		nb, pts := e.sync.flush()
		for i := range nb {
			if err := e.send(e.last, pts+i); err != nil {
				return err
			}
		}
	}
	if err := e.cc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		return &Error{Path: e.path, Step: "encode (flush)", Frame: int(e.n), Err: err}
	}
	if err := e.drain(); err != nil {
		return err
	}
	if err := e.fc.WriteTrailer(); err != nil {
		return fail(e.path, "encode (write trailer)", err)
	}
	if e.pb != nil {
		err := e.pb.Close()
		e.pb = nil
		if err != nil {
			return fail(e.path, "encode (close file)", err)
		}
	}
	return syncFile(e.path)
}

// Abort releases everything without finishing the file.
func (e *Encoder) Abort() {
	if !e.closed {
		e.closed = true
		e.free()
	}
}

func (e *Encoder) free() {
	if e.last != nil {
		e.last.Free()
		e.last = nil
	}
	if e.pkt != nil {
		e.pkt.Free()
		e.pkt = nil
	}
	if e.cframe != nil {
		e.cframe.Free()
		e.cframe = nil
	}
	if e.conv != nil {
		e.conv.Free()
		e.conv = nil
	}
	if e.cc != nil {
		e.cc.Free()
		e.cc = nil
	}
	if e.fc != nil {
		if e.pb != nil {
			_ = e.pb.Close()
			e.pb = nil
		}
		e.fc.Free()
		e.fc = nil
	}
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fail(path, "encode (fsync)", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fail(path, "encode (fsync)", err)
	}
	return nil
}

// X264Settings returns the encoder settings string libx264 writes into its
// SEI ("cabac=1 ref=3 ... crf=23.0 ..."), read from the file's first 8 MiB.
func X264Settings(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fail(path, "read x264 settings", err)
	}
	defer f.Close()
	buf := make([]byte, 8<<20)
	n, _ := io.ReadFull(f, buf)
	buf = buf[:n]
	i := bytes.Index(buf, []byte("x264 - core"))
	if i < 0 {
		return "", fail(path, "read x264 settings", errors.New("no x264 SEI found"))
	}
	s := buf[i:]
	if end := bytes.IndexByte(s, 0); end >= 0 {
		s = s[:end]
	}
	if j := bytes.Index(s, []byte(" - options: ")); j >= 0 {
		s = s[j+len(" - options: "):]
	}
	return string(s), nil
}

// EffectiveCRF parses the CRF x264 actually used from its settings string.
// 8-bit x264 clamps requested CRFs above 51 to 51.
func EffectiveCRF(settings string) (float64, error) {
	for _, f := range strings.Fields(settings) {
		if v, ok := strings.CutPrefix(f, "crf="); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, errors.New("no crf= in x264 settings")
}

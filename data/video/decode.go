package video

import (
	"errors"
	"fmt"
	"io"

	"github.com/asticode/go-astiav"
)

// Params describe a decoded stream, enough to set up an encoder that matches it.
type Params struct {
	Width, Height  int // as displayed: after the display rotation
	PixFmt         astiav.PixelFormat
	FrameRate      astiav.Rational
	SAR            astiav.Rational
	ColorRange     astiav.ColorRange
	ColorSpace     astiav.ColorSpace
	ColorPrimaries astiav.ColorPrimaries
	ColorTrc       astiav.ColorTransferCharacteristic
	// TimeBase is the unit of the frames' pts (the stream's time base). An
	// encoder given it places frames by their timestamps as the ffmpeg CLI
	// does; zero (generated frames) means each frame is encoded once, in order.
	TimeBase astiav.Rational
	// OnlyStream: the video is its file's only stream, for which the CLI
	// starts the output at the first frame instead of repeating it back to 0.
	OnlyStream bool
}

// Decoder yields the frames of a file's best video stream in presentation
// order, one at a time, turned upright by the stream's display matrix and
// timed from 0 as the ffmpeg CLI outputs them: pts in Params().TimeBase,
// the decoder's best-effort timestamps less the file's start time.
type Decoder struct {
	in       *input
	cc       *astiav.CodecContext
	pkt      *astiav.Packet
	frame    *astiav.Frame
	disp     display
	rot      rotator
	tsOffset int64 // added to every pts: minus the file's start time
	next     int   // index of the next frame to return
	flushed  bool  // the decoder has been sent the end-of-stream packet
	done     bool
}

// OpenDecoder opens path and prepares its video decoder.
func OpenDecoder(path string) (*Decoder, error) {
	in, err := openInput(path)
	if err != nil {
		return nil, err
	}
	cp := in.stream.CodecParameters()
	codec := astiav.FindDecoder(cp.CodecID())
	if codec == nil {
		in.close()
		return nil, fail(path, "open decoder", fmt.Errorf("no decoder for codec %q", cp.CodecID().Name()))
	}
	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		in.close()
		return nil, fail(path, "open decoder", errors.New("cannot allocate codec context"))
	}
	d := &Decoder{in: in, cc: cc}
	if err := cp.ToCodecContext(cc); err != nil {
		d.Close()
		return nil, fail(path, "open decoder", err)
	}
	cc.SetFramerate(in.frameRate())
	cc.SetTimeBase(in.stream.TimeBase())
	cc.SetThreadCount(0) // auto, as the ffmpeg CLI does; H.264 decoding is bit-exact at any thread count
	cc.SetThreadType(astiav.ThreadTypeFrame | astiav.ThreadTypeSlice)
	if err := cc.Open(codec, nil); err != nil {
		d.Close()
		return nil, fail(path, "open decoder", err)
	}
	d.pkt = astiav.AllocPacket()
	d.frame = astiav.AllocFrame()
	d.disp = displayOf(in.stream)
	d.rot = rotator{filter: d.disp.filter, tb: in.stream.TimeBase()}
	if st := in.fc.StartTime(); st != astiav.NoPtsValue {
		d.tsOffset = astiav.RescaleQ(-st, astiav.NewRational(1, 1000000), in.stream.TimeBase())
	}
	return d, nil
}

// Params returns the stream's decoding parameters (valid before the first frame).
func (d *Decoder) Params() Params {
	cp := d.in.stream.CodecParameters()
	sar := cp.SampleAspectRatio()
	if sar.Num() <= 0 || sar.Den() <= 0 {
		sar = astiav.NewRational(0, 1)
	}
	return d.disp.apply(Params{
		Width:          cp.Width(),
		Height:         cp.Height(),
		PixFmt:         cp.PixelFormat(),
		FrameRate:      d.in.frameRate(),
		SAR:            sar,
		ColorRange:     cp.ColorRange(),
		ColorSpace:     cp.ColorSpace(),
		ColorPrimaries: cp.ColorPrimaries(),
		ColorTrc:       cp.ColorTransferCharacteristic(),
		TimeBase:       d.in.stream.TimeBase(),
		OnlyStream:     d.in.fc.NbStreams() == 1,
	})
}

// Next returns the next decoded frame, or io.EOF after the last one. The frame
// belongs to the decoder and is valid until the next call; Clone it to keep it.
func (d *Decoder) Next() (*astiav.Frame, error) {
	f, err := d.decode()
	if err != nil {
		return nil, err
	}
	// The CLI's frame pts: the best-effort timestamp, on a timeline where
	// the file starts at 0 (its default -copyts off).
	pts := bestEffortPts(f)
	if pts == astiav.NoPtsValue {
		pts = f.Pts()
	}
	if pts != astiav.NoPtsValue {
		pts += d.tsOffset
	}
	f.SetPts(pts)
	if d.disp.filter == "" {
		return f, nil
	}
	out, err := d.rot.rotate(f)
	if err != nil {
		return nil, &Error{Path: d.in.path, Step: "decode", Frame: d.next - 1, Err: err}
	}
	return out, nil
}

func (d *Decoder) decode() (*astiav.Frame, error) {
	if d.done {
		return nil, io.EOF
	}
	d.frame.Unref()
	for {
		err := d.cc.ReceiveFrame(d.frame)
		if err == nil {
			d.next++
			return d.frame, nil
		}
		if errors.Is(err, astiav.ErrEof) {
			d.done = true
			return nil, io.EOF
		}
		if !errors.Is(err, astiav.ErrEagain) {
			return nil, d.frameErr(err)
		}
		if err := d.feed(); err != nil {
			return nil, err
		}
	}
}

// feed sends the next packet of the video stream, or the flush packet at the end.
func (d *Decoder) feed() error {
	if d.flushed {
		// The decoder asked for more input after the flush: treat as the end.
		d.done = true
		return io.EOF
	}
	for {
		d.pkt.Unref()
		err := d.in.fc.ReadFrame(d.pkt)
		if errors.Is(err, astiav.ErrEof) {
			d.flushed = true
			if err := d.cc.SendPacket(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
				return d.frameErr(err)
			}
			return nil
		}
		if err != nil {
			return &Error{Path: d.in.path, Step: "demux", Frame: d.next, Err: err}
		}
		if d.pkt.StreamIndex() != d.in.stream.Index() {
			continue
		}
		if err := d.cc.SendPacket(d.pkt); err != nil && !errors.Is(err, astiav.ErrEagain) {
			return d.frameErr(err)
		}
		return nil
	}
}

func (d *Decoder) frameErr(err error) error {
	return &Error{Path: d.in.path, Step: "decode", Frame: d.next, Err: err}
}

// Close releases the decoder. Safe to call twice.
func (d *Decoder) Close() {
	d.rot.close()
	if d.frame != nil {
		d.frame.Free()
		d.frame = nil
	}
	if d.pkt != nil {
		d.pkt.Free()
		d.pkt = nil
	}
	if d.cc != nil {
		d.cc.Free()
		d.cc = nil
	}
	if d.in != nil {
		d.in.close()
		d.in = nil
	}
}

// Verify probes path and decodes every frame, so a clip that opens but cannot
// be decoded (truncated, corrupt) is caught. Info.Frames is the decoded count.
func Verify(path string) (Info, error) {
	info, err := Probe(path)
	if err != nil {
		return info, err
	}
	d, err := OpenDecoder(path)
	if err != nil {
		return info, err
	}
	defer d.Close()
	n := 0
	for {
		if _, err := d.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return info, err
		}
		n++
	}
	if n == 0 {
		return info, fail(path, "decode", errors.New("no frame could be decoded"))
	}
	info.Frames = n
	return info, nil
}

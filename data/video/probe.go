// Package video opens, probes, decodes and encodes videos through FFmpeg's
// libraries (go-astiav). Still images (ImageExts) open as one-frame videos
// (Info.Still). Every error names the file and the failing step.
package video

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/asticode/go-astiav"
)

func init() {
	// FFmpeg prints to stderr by default; our errors carry the context instead.
	astiav.SetLogLevel(astiav.LogLevelQuiet)
}

// SetFFmpegLogLevel lets the CLI turn FFmpeg's own logging back on (debug).
func SetFFmpegLogLevel(verbose bool) {
	if verbose {
		astiav.SetLogLevel(astiav.LogLevelWarning)
	} else {
		astiav.SetLogLevel(astiav.LogLevelQuiet)
	}
}

// Info holds the probe facts of a video's best video stream.
type Info struct {
	Path      string  `json:"path"`
	Format    string  `json:"format"`
	Codec     string  `json:"codec"`
	PixFmt    string  `json:"pix_fmt"`
	Width     int     `json:"width"` // coded size, before the display rotation
	Height    int     `json:"height"`
	FPS       float64 `json:"fps"`
	FPSNum    int     `json:"fps_num"`
	FPSDen    int     `json:"fps_den"`
	Frames    int     `json:"frames"`            // container count, else counted packets
	Duration  float64 `json:"duration_s"`        // container duration, as ffprobe's format section
	StreamDur float64 `json:"stream_duration_s"` // video stream duration
	BitRate   int64   `json:"bit_rate"`          // container bit rate, b/s
	Rotation  float64 `json:"rotation"`          // display-matrix rotation, degrees
	SizeBytes int64   `json:"size_bytes"`
	// Still: a single image read by one of FFmpeg's image demuxers (image2,
	// png_pipe, bmp_pipe, ...). FFmpeg gives it one frame at 25 fps lasting
	// 0.04 s, as ffprobe prints; that rate is no property of the image.
	Still bool `json:"still,omitempty"`
}

// ImageExts are the still-image extensions read as one-frame videos
// (compared ignoring case).
var ImageExts = []string{".jpg", ".jpeg", ".png", ".bmp"}

// IsImage reports whether path has one of ImageExts.
func IsImage(path string) bool {
	return slices.Contains(ImageExts, strings.ToLower(filepath.Ext(path)))
}

// Error is a failure tied to a file and a step (open, probe, decode, encode, ...).
type Error struct {
	Path  string
	Step  string
	Frame int // -1 when not frame specific
	Err   error
}

func (e *Error) Error() string {
	if e.Frame >= 0 {
		return fmt.Sprintf("%s: %s at frame %d: %v", e.Path, e.Step, e.Frame, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Path, e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func fail(path, step string, err error) error {
	return &Error{Path: path, Step: step, Frame: -1, Err: err}
}

// input is an opened demuxer positioned on its best video stream.
type input struct {
	path   string
	fc     *astiav.FormatContext
	stream *astiav.Stream
}

func openInput(path string) (*input, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fail(path, "open", err)
	}
	if st.IsDir() {
		return nil, fail(path, "open", errors.New("is a directory"))
	}
	if st.Size() == 0 {
		return nil, fail(path, "open", errors.New("file is empty (0 bytes)"))
	}
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return nil, fail(path, "open", errors.New("cannot allocate format context"))
	}
	var opts *astiav.Dictionary
	if IsImage(path) {
		// The image2 demuxer reads "%d" in a name as a sequence pattern; an
		// image file is always the one file named.
		opts = astiav.NewDictionary()
		defer opts.Free()
		if err := opts.Set("pattern_type", "none", 0); err != nil {
			fc.Free()
			return nil, fail(path, "open", err)
		}
	}
	if err := fc.OpenInput(path, nil, opts); err != nil {
		fc.Free()
		return nil, fail(path, "open", fmt.Errorf("not a readable media file: %w", err))
	}
	in := &input{path: path, fc: fc}
	if err := fc.FindStreamInfo(nil); err != nil {
		in.close()
		return nil, fail(path, "probe", err)
	}
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			in.stream = s
			break
		}
	}
	if in.stream == nil {
		in.close()
		return nil, fail(path, "probe", errors.New("no video stream"))
	}
	cp := in.stream.CodecParameters()
	if cp.Width() <= 0 || cp.Height() <= 0 {
		in.close()
		return nil, fail(path, "probe", errors.New("video stream has no frame size (truncated or corrupt?)"))
	}
	return in, nil
}

func (in *input) close() {
	in.fc.CloseInput()
	in.fc.Free()
}

// frameRate is the stream's rate as the ffmpeg CLI guesses it.
func (in *input) frameRate() astiav.Rational {
	r := in.fc.GuessFrameRate(in.stream, nil)
	if r.Num() <= 0 || r.Den() <= 0 {
		r = in.stream.AvgFrameRate()
	}
	if r.Num() <= 0 || r.Den() <= 0 {
		r = astiav.NewRational(25, 1)
	}
	return r
}

// Probe reads a video's facts. The frame count comes from the container when
// it records one, else from counting the stream's packets (no decoding).
func Probe(path string) (Info, error) {
	in, err := openInput(path)
	if err != nil {
		return Info{}, err
	}
	defer in.close()
	cp := in.stream.CodecParameters()
	fr := in.frameRate()
	info := Info{
		Path:     path,
		Format:   in.fc.InputFormat().Name(),
		PixFmt:   cp.PixelFormat().Name(),
		Width:    cp.Width(),
		Height:   cp.Height(),
		FPS:      fr.Float64(),
		FPSNum:   fr.Num(),
		FPSDen:   fr.Den(),
		Frames:   int(in.stream.NbFrames()),
		BitRate:  in.fc.BitRate(),
		Rotation: rotation(in.stream),
	}
	if c := astiav.FindDecoder(cp.CodecID()); c != nil {
		info.Codec = c.Name()
	} else {
		info.Codec = cp.CodecID().Name()
	}
	if st, err := os.Stat(path); err == nil {
		info.SizeBytes = st.Size()
	}
	if d := in.stream.Duration(); d > 0 {
		info.StreamDur = float64(d) * in.stream.TimeBase().Float64()
	}
	if d := in.fc.Duration(); d > 0 {
		info.Duration = float64(d) / 1e6
	} else {
		info.Duration = info.StreamDur
	}
	if info.Frames <= 0 {
		n, err := in.countPackets()
		if err != nil {
			return info, err
		}
		info.Frames = n
	}
	if info.Duration == 0 && info.FPS > 0 {
		info.Duration = float64(info.Frames) / info.FPS
	}
	info.Still = info.Frames == 1 && imageDemuxer(info.Format)
	return info, nil
}

// imageDemuxer reports whether FFmpeg's demuxer of that name reads images:
// image2 (found by extension) or one of the <codec>_pipe demuxers (found by
// content: png_pipe, bmp_pipe, jpeg_pipe, ...).
func imageDemuxer(name string) bool {
	return name == "image2" || strings.HasSuffix(name, "_pipe")
}

func (in *input) countPackets() (int, error) {
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	n := 0
	for {
		if err := in.fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return n, nil
			}
			return n, fail(in.path, "probe (counting packets)", err)
		}
		if pkt.StreamIndex() == in.stream.Index() {
			n++
		}
		pkt.Unref()
	}
}

// rotation returns the angle the display matrix turns frames by for display,
// counter-clockwise in degrees as ffprobe prints it, normalised to [0, 360).
// Info keeps the coded size; Decoder outputs the turned frames.
func rotation(s *astiav.Stream) float64 {
	b := s.SideData(astiav.PacketSideDataTypeDisplaymatrix)
	if len(b) == 0 {
		return 0
	}
	m, err := astiav.NewDisplayMatrixFromBytes(b)
	if err != nil {
		return 0
	}
	r := -m.Rotation() // astiav's Rotation is clockwise: -av_display_rotation_get
	r = math.Mod(math.Round(r), 360)
	if r < 0 {
		r += 360
	}
	return r
}

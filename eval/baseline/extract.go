package baseline

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/asticode/go-astiav"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/video"
)

// BitrateNames are the container/stream features: video-stream bits per
// second per pixel, and plain kilobits per second. Stills (no duration)
// have neither.
var BitrateNames = []string{"bitrate_bpps", "bitrate_kbps"}

// FeatureVersion changes whenever a feature's definition does, so cached
// features from an older definition are recomputed instead of mixed in.
const FeatureVersion = 2

// DefaultFrames is how many uniformly spaced frames a clip's NSS averages.
const DefaultFrames = 8

// ClipFeatures are one clip's features and the facts they came from.
type ClipFeatures struct {
	Version    int                `json:"version"`
	ID         string             `json:"id"`
	Path       string             `json:"path"`
	SizeBytes  int64              `json:"size_bytes"`
	ModTimeNS  int64              `json:"mtime_ns"`
	Frames     int                `json:"frames"`        // frames requested (--frames)
	Indices    []int              `json:"frame_indices"` // frames decoded for NSS (degenerate ones dropped)
	Width      int                `json:"width"`
	Height     int                `json:"height"`
	StreamBits int64              `json:"stream_bits"`
	DurationS  float64            `json:"duration_s"`
	Features   map[string]float64 `json:"features"`
	Deep       string             `json:"deep,omitempty"` // the pretrained extractor whose features are in Features ("": none)
}

// Deep is a pretrained feature extractor: its name, its feature names, and
// a function from RGB frames (h x w, HWC bytes) to their features averaged
// over the frames.
type Deep struct {
	Name  string
	Names []string
	Fn    func(frames [][]byte, w, h int) ([]float64, error)
}

// Extract computes a clip's features: bit rate from its video stream's
// packets, NSS averaged over `frames` uniformly spaced frames decoded at
// native size (video.DecodeRGB, the project's decoder) and turned to luma.
// An image is a one-frame clip without bit-rate features.
func Extract(id, path string, frames int) (ClipFeatures, error) {
	return ExtractDeep(id, path, frames, nil)
}

// ExtractDeep is Extract that, given deep, adds deep's features of the same
// decoded frames.
func ExtractDeep(id, path string, frames int, deep *Deep) (ClipFeatures, error) {
	if frames <= 0 {
		return ClipFeatures{}, fmt.Errorf("%s: frames must be positive, got %d", path, frames)
	}
	st, err := os.Stat(path)
	if err != nil {
		return ClipFeatures{}, err
	}
	info, err := video.Probe(path)
	if err != nil {
		return ClipFeatures{}, err
	}
	cf := ClipFeatures{Version: FeatureVersion, ID: id, Path: path, SizeBytes: st.Size(),
		ModTimeNS: st.ModTime().UnixNano(), Frames: frames, Features: map[string]float64{}}
	bits, err := streamBits(path)
	if err != nil {
		return cf, err
	}
	cf.StreamBits = bits
	cf.DurationS = info.StreamDur
	if cf.DurationS <= 0 {
		cf.DurationS = info.Duration
	}
	still := info.Frames <= 1 || strings.HasSuffix(info.Format, "_pipe") || info.Format == "image2"
	if !still && cf.DurationS > 0 {
		cf.Features["bitrate_kbps"] = float64(bits) / cf.DurationS / 1000
		cf.Features["bitrate_bpps"] = float64(bits) / (cf.DurationS * float64(info.Width) * float64(info.Height))
	}

	sum := make([]float64, len(nss.NSSNames)+len(describe.SignalNames))
	idx := video.UniformIndices(info.Frames, frames)
	var rgb [][]byte
	keep := func(pix []byte) {
		if deep != nil {
			rgb = append(rgb, slices.Clone(pix))
		}
	}
	err = decodeGrey(path, idx, &cf, sum, keep)
	var verr *video.Error
	if errors.As(err, &verr) && strings.Contains(err.Error(), "requested but the video has only") {
		// The container over-counts its frames: count what decodes, replan.
		vi, verr := video.Verify(path)
		if verr != nil {
			return cf, verr
		}
		clear(sum)
		cf.Indices, rgb = nil, nil
		err = decodeGrey(path, video.UniformIndices(vi.Frames, frames), &cf, sum, keep)
	}
	if err != nil {
		return cf, err
	}
	if len(cf.Indices) == 0 {
		return cf, fmt.Errorf("%s: nss: every sampled frame is flat or degenerate (frames %v)", path, idx)
	}
	for i, name := range slices.Concat(nss.NSSNames, describe.SignalNames) {
		cf.Features[name] = sum[i] / float64(len(cf.Indices))
	}
	if deep != nil {
		v, err := deep.Fn(rgb, cf.Width, cf.Height)
		if err != nil {
			return cf, fmt.Errorf("%s: %s features: %w", path, deep.Name, err)
		}
		if len(v) != len(deep.Names) {
			return cf, fmt.Errorf("%s: %s gave %d features, want %d", path, deep.Name, len(v), len(deep.Names))
		}
		for i, n := range deep.Names {
			cf.Features[n] = v[i]
		}
		cf.Deep = deep.Name
	}
	return cf, nil
}

// decodeGrey adds each decodable frame's NSS features, then its
// describe.Measure signals (exposure, contrast, colour, noise, blocking),
// into sum and records its index; degenerate frames (a black fade) are
// skipped, not averaged in.
func decodeGrey(path string, idx []int, cf *ClipFeatures, sum []float64, keep func(pix []byte)) error {
	return video.DecodeRGB(path, video.RGBOptions{Indices: idx}, func(f video.RGBFrame) error {
		cf.Width, cf.Height = f.Width, f.Height
		v, err := nss.FrameNSS(nss.Grey(f.Pix, f.Width, f.Height), f.Width, f.Height)
		if err != nil {
			return nil
		}
		v = append(v, describe.Measure([][]byte{f.Pix}, f.Width, f.Height).Values()...)
		for i, x := range v {
			sum[i] += x
		}
		cf.Indices = append(cf.Indices, f.Index)
		keep(f.Pix)
		return nil
	})
}

// streamBits sums the packet sizes of the file's first video stream. The
// data/video probe reports the container's bit rate (audio and muxing
// included); the baseline wants the video stream's, as ffprobe's stream
// bit_rate and the datasets' metadata tables give it. Demuxing only.
func streamBits(path string) (int64, error) {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return 0, fmt.Errorf("%s: bitrate: cannot allocate format context", path)
	}
	defer fc.Free()
	if err := fc.OpenInput(path, nil, nil); err != nil {
		return 0, fmt.Errorf("%s: bitrate: open: %w", path, err)
	}
	defer fc.CloseInput()
	if err := fc.FindStreamInfo(nil); err != nil {
		return 0, fmt.Errorf("%s: bitrate: probe: %w", path, err)
	}
	vs := -1
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			vs = s.Index()
			break
		}
	}
	if vs < 0 {
		return 0, fmt.Errorf("%s: bitrate: no video stream", path)
	}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	var bits int64
	for {
		err := fc.ReadFrame(pkt)
		if errors.Is(err, astiav.ErrEof) {
			return bits, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: bitrate: demux: %w", path, err)
		}
		if pkt.StreamIndex() == vs {
			bits += 8 * int64(pkt.Size())
		}
		pkt.Unref()
	}
}

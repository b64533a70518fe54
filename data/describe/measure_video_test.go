package describe

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// MeasureVideo equals Measure on the same native frames decoded by the ffmpeg CLI.
func TestMeasureVideoMatchesFFmpegFrames(t *testing.T) {
	path := testutil.Clip(t, t.TempDir(), "a.mp4", "testsrc2=size=176x144:rate=25:duration=1")
	got, err := MeasureVideo(path, 4)
	if err != nil {
		t.Fatal(err)
	}
	idx := video.UniformIndices(25, 4)
	terms := make([]string, len(idx))
	for i, f := range idx {
		terms[i] = fmt.Sprintf(`eq(n\,%d)`, f)
	}
	raw := testutil.FFmpeg(t, "-i", path, "-vf", "select="+strings.Join(terms, "+"), "-fps_mode", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-")
	n := 176 * 144 * 3
	if len(raw) != 4*n {
		t.Fatalf("ffmpeg gave %d bytes", len(raw))
	}
	frames := [][]byte{raw[:n], raw[n : 2*n], raw[2*n : 3*n], raw[3*n:]}
	want := Measure(frames, 176, 144)
	if got.Frames != 4 || math.Abs(got.Sharpness-want.Sharpness) > 1e-9*want.Sharpness ||
		math.Abs(got.Colorfulness-want.Colorfulness) > 1e-9*want.Colorfulness || math.Abs(got.Blockiness-want.Blockiness) > 1e-9 {
		t.Errorf("MeasureVideo %+v\nMeasure on ffmpeg frames %+v", got, want)
	}
	if _, err := MeasureVideo(path+".missing", 4); err == nil || !strings.Contains(err.Error(), path+".missing") {
		t.Errorf("missing file: %v", err)
	}
}

// A starved encode measures blockier and softer than a high-quality one.
func TestMeasureVideoCRF(t *testing.T) {
	dir := t.TempDir()
	src := "mandelbrot=size=320x240:rate=25"
	enc := func(crf int) Signals {
		p := testutil.Clip(t, dir, fmt.Sprintf("crf%d.mp4", crf), src, "-frames:v", "5",
			"-c:v", "libx264", "-preset", "ultrafast", "-crf", fmt.Sprint(crf), "-pix_fmt", "yuv420p")
		s, err := MeasureVideo(p, 3)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hq, lq := enc(10), enc(51)
	t.Logf("CRF 10 %+v\nCRF 51 %+v", hq, lq)
	if lq.Blockiness <= hq.Blockiness || lq.Sharpness >= hq.Sharpness {
		t.Errorf("CRF 51 blockiness %.3f sharpness %.1f; CRF 10 %.3f %.1f", lq.Blockiness, lq.Sharpness, hq.Blockiness, hq.Sharpness)
	}
}

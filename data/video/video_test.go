package video

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

func ourMD5s(t *testing.T, path string, w, h int) []string {
	t.Helper()
	var sums []string
	err := DecodeRGB(path, RGBOptions{Width: w, Height: h}, func(f RGBFrame) error {
		if len(f.Pix) != f.Width*f.Height*3 {
			t.Fatalf("frame %d: %d bytes for %dx%d", f.Index, len(f.Pix), f.Width, f.Height)
		}
		s := md5.Sum(f.Pix)
		sums = append(sums, hex.EncodeToString(s[:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func equalSums(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, ffmpeg gives %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: frame %d md5 %s, ffmpeg %s", what, i, got[i], want[i])
		}
	}
}

// Acceptance 2a: RGB24 decode equals the ffmpeg CLI, native and bilinear-resized.
func TestDecodeRGBMatchesFFmpeg(t *testing.T) {
	dir := t.TempDir()
	clips := []string{
		testutil.Clip(t, dir, "testsrc2.mp4", "testsrc2=size=320x240:rate=25:duration=1"),
		testutil.Clip(t, dir, "mandel.mp4", "mandelbrot=size=256x144:rate=30", "-t", "0.5",
			"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"),
	}
	for _, c := range clips {
		equalSums(t, filepath.Base(c)+" native", ourMD5s(t, c, 0, 0),
			testutil.FrameMD5s(t, c, "-pix_fmt", "rgb24"))
		equalSums(t, filepath.Base(c)+" 224x224", ourMD5s(t, c, 224, 224),
			testutil.FrameMD5s(t, c, "-vf", "scale=224:224:flags=bilinear", "-pix_fmt", "rgb24"))
		equalSums(t, filepath.Base(c)+" 500x302", ourMD5s(t, c, 500, 302),
			testutil.FrameMD5s(t, c, "-vf", "scale=500:302:flags=bilinear", "-pix_fmt", "rgb24"))
	}
}

func TestDecodeSelectedIndices(t *testing.T) {
	dir := t.TempDir()
	c := testutil.Clip(t, dir, "a.mp4", "testsrc2=size=160x120:rate=25:duration=2")
	all := ourMD5s(t, c, 64, 48)
	idx := UniformIndices(len(all), 8)
	var got []int
	err := DecodeRGB(c, RGBOptions{Width: 64, Height: 48, Indices: idx}, func(f RGBFrame) error {
		s := md5.Sum(f.Pix)
		if hex.EncodeToString(s[:]) != all[f.Index] {
			t.Errorf("frame %d differs from full decode", f.Index)
		}
		got = append(got, f.Index)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 || got[0] != idx[0] || got[7] != idx[7] {
		t.Fatalf("got indices %v, want %v", got, idx)
	}
	if err := DecodeRGB(c, RGBOptions{Indices: []int{1000}}, func(RGBFrame) error { return nil }); err == nil {
		t.Fatal("index past the end must fail")
	}
}

func TestUniformIndices(t *testing.T) {
	cases := []struct {
		n, m int
		want []int
	}{{10, 5, []int{1, 3, 5, 7, 9}}, {240, 8, []int{15, 45, 75, 105, 135, 165, 195, 225}}, {3, 8, []int{0, 1, 2}}, {0, 8, nil}}
	for _, c := range cases {
		if got := UniformIndices(c.n, c.m); !slices.Equal(got, c.want) {
			t.Errorf("UniformIndices(%d,%d)=%v want %v", c.n, c.m, got, c.want)
		}
	}
}

func itoa(x int) string { return strconv.Itoa(x) }

// transcode re-encodes src at crf through Decoder -> Encoder.
func transcode(t *testing.T, src, dst string, crf int, preset string) {
	t.Helper()
	d, err := OpenDecoder(src)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	e, err := NewEncoder(dst, "", d.Params(), EncodeOptions{CRF: crf, Preset: preset})
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := e.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// Acceptance 2b/2c: our H.264 encode decodes to the frames of the CLI's encode, and its SEI says crf=c.
func TestEncodeMatchesFFmpegCLI(t *testing.T) {
	dir := t.TempDir()
	src := testutil.Clip(t, dir, "src.mp4", "testsrc2=size=320x240:rate=25:duration=1.2")
	for _, crf := range []int{15, 35, 53} {
		ours := filepath.Join(dir, "ours"+itoa(crf)+".mp4")
		cli := filepath.Join(dir, "cli"+itoa(crf)+".mp4")
		transcode(t, src, ours, crf, "fast")
		testutil.FFmpeg(t, "-i", src, "-c:v", "libx264", "-crf", itoa(crf), "-preset", "fast", cli)
		want := testutil.FrameMD5s(t, cli)
		equalSums(t, "crf "+itoa(crf), testutil.FrameMD5s(t, ours), want)
		if len(want) != 30 {
			t.Fatalf("CLI encode has %d frames, want 30", len(want))
		}
		s, err := X264Settings(ours)
		if err != nil {
			t.Fatal(err)
		}
		// 8-bit x264 clamps CRF to 51, exactly as the CLI does (same frames above).
		eff := min(crf, 51)
		if !strings.Contains(s, " crf="+itoa(eff)+".0 ") || !strings.Contains(s, "rc=crf") {
			t.Fatalf("x264 settings lack crf=%d: %s", eff, s)
		}
		if got, err := EffectiveCRF(s); err != nil || got != float64(eff) {
			t.Fatalf("EffectiveCRF = %v, %v; want %d", got, err, eff)
		}
		info, err := Probe(ours)
		if err != nil {
			t.Fatal(err)
		}
		if info.Frames != 30 || info.Width != 320 || info.Height != 240 || info.FPS != 25 || info.Codec != "h264" {
			t.Fatalf("probe of encode: %+v", info)
		}
	}
}

// Acceptance 4 (video layer): bad inputs give clear errors naming the file, never panic.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := testutil.Clip(t, dir, "good.mp4", "testsrc2=size=160x120:rate=25:duration=1")
	data, _ := os.ReadFile(good)
	bad := map[string][]byte{
		"empty.mp4":     {},
		"truncated.mp4": data[:len(data)/2],
		"text.mp4":      []byte("this is not a video, just text\n"),
	}
	for name, b := range bad {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(p)
		if err == nil {
			t.Errorf("%s: Verify succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
		var ve *Error
		if !errors.As(err, &ve) || ve.Step == "" {
			t.Errorf("%s: error has no step: %v", name, err)
		}
	}
	if _, err := Probe(filepath.Join(dir, "missing.mp4")); err == nil || !strings.Contains(err.Error(), "missing.mp4") {
		t.Errorf("missing file: %v", err)
	}
}

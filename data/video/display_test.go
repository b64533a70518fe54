package video

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/asticode/go-astiav"

	"github.com/cpllm/cpllm/internal/testutil"
)

// rotatedClip makes a 320x180 clip whose MP4 track says "rotate by deg"
// (ffmpeg 5.1: -metadata:s:v rotate=deg on a stream copy).
func rotatedClip(t *testing.T, dir string, deg int) string {
	t.Helper()
	base := filepath.Join(dir, "upright.mp4")
	if _, err := os.Stat(base); err != nil {
		testutil.Clip(t, dir, "upright.mp4", "testsrc2=size=320x180:rate=25:duration=0.4")
	}
	out := filepath.Join(dir, "rot"+strconv.Itoa(deg)+".mp4")
	testutil.FFmpeg(t, "-i", base, "-c", "copy", "-metadata:s:v:0", "rotate="+strconv.Itoa(deg), out)
	return out
}

// Decoded frames are turned as the ffmpeg CLI shows them (its -autorotate
// default), and Params report the displayed size.
func TestDecodeAppliesDisplayRotation(t *testing.T) {
	dir := t.TempDir()
	for _, deg := range []int{90, 180, 270} {
		c := rotatedClip(t, dir, deg)
		what := "rotate=" + strconv.Itoa(deg)
		equalSums(t, what, ourMD5s(t, c, 0, 0), testutil.FrameMD5s(t, c, "-pix_fmt", "rgb24"))
		equalSums(t, what+" 224x224", ourMD5s(t, c, 224, 224),
			testutil.FrameMD5s(t, c, "-vf", "scale=224:224:flags=bilinear", "-pix_fmt", "rgb24"))
		d, err := OpenDecoder(c)
		if err != nil {
			t.Fatal(err)
		}
		p := d.Params()
		f, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		want := [2]int{320, 180}
		if deg != 180 {
			want = [2]int{180, 320}
		}
		if [2]int{p.Width, p.Height} != want || [2]int{f.Width(), f.Height()} != want {
			t.Errorf("%s: params %dx%d, frame %dx%d; want %dx%d", what, p.Width, p.Height, f.Width(), f.Height(), want[0], want[1])
		}
		d.Close()
	}
}

// withMatrix copies an MP4 with one track, setting its tkhd display matrix
// (row-major, 16.16 and 2.30 fixed point as stored): the flipped matrices
// the ffmpeg 5.1 CLI cannot write but phones and editors do.
func withMatrix(t *testing.T, src, dst string, m [9]int32) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("tkhd"))
	if i < 0 || bytes.Count(b, []byte("tkhd")) != 1 {
		t.Fatalf("%s: want exactly one tkhd box", src)
	}
	off := i + 44 // type, version+flags, 5 32-bit fields, 8 reserved, layer, group, volume, 2 reserved
	if b[i+4] == 1 {
		off += 12 // 64-bit times and duration
	}
	for k, v := range m {
		binary.BigEndian.PutUint32(b[off+4*k:], uint32(v))
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Mirrored display matrices (flips, and rotations with a flip) are applied as
// the CLI applies them: hflip, vflip, transpose=cclock_flip / clock_flip.
func TestDecodeAppliesFlippedMatrices(t *testing.T) {
	dir := t.TempDir()
	base := testutil.Clip(t, dir, "base.mp4", "testsrc2=size=160x96:rate=25:duration=0.2")
	const one, w = 1 << 16, 1 << 30
	for name, c := range map[string]struct {
		m          [9]int32
		transposed bool
	}{
		"hflip":                   {[9]int32{-one, 0, 0, 0, one, 0, 0, 0, w}, false},
		"vflip":                   {[9]int32{one, 0, 0, 0, -one, 0, 0, 0, w}, false},
		"transpose=cclock_flip":   {[9]int32{0, one, 0, one, 0, 0, 0, 0, w}, true},
		"transpose=clock_flip":    {[9]int32{0, -one, 0, -one, 0, 0, 0, 0, w}, true},
		"rotate=45.000000*PI/180": {[9]int32{46341, 46341, 0, -46341, 46341, 0, 0, 0, w}, false},
	} {
		file := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r
			}
			return '_'
		}, name)
		c2 := withMatrix(t, base, filepath.Join(dir, file+".mp4"), c.m)
		equalSums(t, name, ourMD5s(t, c2, 0, 0), testutil.FrameMD5s(t, c2, "-pix_fmt", "rgb24"))
		d, err := OpenDecoder(c2)
		if err != nil {
			t.Fatal(err)
		}
		if p := d.Params(); (p.Width == 96) != c.transposed || d.disp.filter != name {
			t.Errorf("%s: filter %q, params %dx%d", name, d.disp.filter, p.Width, p.Height)
		}
		d.Close()
	}
}

// A rotated source re-encodes to the CLI's upright (portrait) output.
func TestEncodeRotatedMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	src := rotatedClip(t, dir, 90)
	ours, cli := filepath.Join(dir, "ours.mp4"), filepath.Join(dir, "cli.mp4")
	transcode(t, src, ours, 30, "veryfast")
	testutil.FFmpeg(t, "-i", src, "-c:v", "libx264", "-crf", "30", "-preset", "veryfast", cli)
	equalSums(t, "rotate=90 encode", testutil.FrameMD5s(t, ours), testutil.FrameMD5s(t, cli))
	a, err := Probe(ours)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Probe(cli)
	if err != nil {
		t.Fatal(err)
	}
	if a.Width != b.Width || a.Height != b.Height || a.Width != 180 || a.Rotation != b.Rotation {
		t.Fatalf("ours %dx%d rotation %v, CLI %dx%d rotation %v", a.Width, a.Height, a.Rotation, b.Width, b.Height, b.Rotation)
	}
}

// libx264 cannot encode 4:2:0 with an odd side: the encoder refuses up front
// with the reason and the remedy, and its setup errors never panic.
func TestEncoderRefusesOddSize(t *testing.T) {
	dir := t.TempDir()
	src := testutil.Clip(t, dir, "odd.mkv", "testsrc2=size=320x240:rate=25:duration=0.2",
		"-vf", "scale=321:239", "-c:v", "ffv1", "-pix_fmt", "yuv420p")
	d, err := OpenDecoder(src)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := filepath.Join(dir, "out.mp4")
	_, err = NewEncoder(out, "mp4", d.Params(), EncodeOptions{CRF: 30, Preset: "veryfast"})
	if err == nil {
		t.Fatal("NewEncoder accepted a 321x239 yuv420p stream")
	}
	t.Log(err)
	for _, want := range []string{out, "321x239", "yuv420p", "divisible by 2", "ffmpeg CLI refuses", "crop"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, serr := os.Stat(out); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("refused encode left %s behind", out)
	}
	// 4:4:4 has no such limit, in the CLI as here.
	p444 := d.Params()
	p444.PixFmt = astiav.PixelFormatYuv444P
	e, err := NewEncoder(filepath.Join(dir, "odd444.mp4"), "mp4", p444, EncodeOptions{CRF: 30, Preset: "veryfast"})
	if err != nil {
		t.Fatalf("4:4:4 at 321x239: %v", err)
	}
	e.Abort()
	// Any failure after allocation (here: no such muxer) returns an error.
	good := d.Params()
	good.Width, good.Height = 320, 240
	if _, err := NewEncoder(filepath.Join(dir, "x.mp4"), "no-such-muxer", good, EncodeOptions{CRF: 30, Preset: "veryfast"}); err == nil ||
		!strings.Contains(err.Error(), "no-such-muxer") {
		t.Fatalf("unknown muxer: %v", err)
	}
}

// The size rule agrees with the CLI's libx264 on every layout it names.
func TestX264SizeRuleMatchesCLI(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		pf   astiav.PixelFormat
		w, h int
	}{
		{astiav.PixelFormatYuv420P, 320, 240}, {astiav.PixelFormatYuv420P, 321, 240},
		{astiav.PixelFormatYuv420P, 320, 239}, {astiav.PixelFormatYuv420P, 321, 239},
		{astiav.PixelFormatYuv422P, 321, 240}, {astiav.PixelFormatYuv422P, 320, 239},
		{astiav.PixelFormatYuv444P, 321, 239},
	} {
		// An FFV1 source of exactly that size and layout (lavfi's own output
		// is rounded to even sizes, so it cannot serve directly).
		src := testutil.Clip(t, dir, fmt.Sprintf("%s-%dx%d.mkv", c.pf.Name(), c.w, c.h), "testsrc2=size=320x240:duration=0.04",
			"-vf", fmt.Sprintf("scale=%d:%d", c.w, c.h), "-c:v", "ffv1", "-pix_fmt", c.pf.Name())
		if info, err := Probe(src); err != nil || info.Width != c.w || info.Height != c.h || info.PixFmt != c.pf.Name() {
			t.Fatalf("source %s: %+v %v", src, info, err)
		}
		cliOK := exec.Command("ffmpeg", "-nostdin", "-i", src, "-c:v", "libx264", "-f", "null", "-").Run() == nil
		err := checkX264Size(c.w, c.h, c.pf)
		if (err == nil) != cliOK {
			t.Errorf("%s %dx%d: CLI encodes: %v; ours: %v", c.pf.Name(), c.w, c.h, cliOK, err)
		}
	}
}

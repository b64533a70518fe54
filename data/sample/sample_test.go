package sample

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// oracle scales the given frames of path with the ffmpeg CLI, in one run,
// to size x size and to w x h: `select=eq(n\,F)+...,scale=W:H:flags=bilinear`
// as rgb24. It returns both sets keyed by frame index.
func oracle(t *testing.T, path string, frames []int, size, w, h int) (ctx, full map[int][]byte) {
	t.Helper()
	frames = slices.Compact(slices.Sorted(slices.Values(frames)))
	terms := make([]string, len(frames))
	for i, f := range frames {
		terms[i] = fmt.Sprintf(`eq(n\,%d)`, f)
	}
	dir := t.TempDir()
	cOut, pOut := filepath.Join(dir, "ctx.rgb"), filepath.Join(dir, "pix.rgb")
	graph := fmt.Sprintf("[0:v]select=%s,split=2[a][b];[a]scale=%d:%d:flags=bilinear[c];[b]scale=%d:%d:flags=bilinear[p]",
		strings.Join(terms, "+"), size, size, w, h)
	raw := []string{"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24"}
	args := append([]string{"-i", path, "-filter_complex", graph, "-map", "[c]"}, raw...)
	args = append(append(append(args, cOut, "-map", "[p]"), raw...), pOut)
	testutil.FFmpeg(t, args...)
	split := func(file string, w, h int) map[int][]byte {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := w * h * 3
		if len(b) != len(frames)*n {
			t.Fatalf("oracle: %d bytes for %d frames of %dx%d", len(b), len(frames), w, h)
		}
		m := make(map[int][]byte, len(frames))
		for i, f := range frames {
			m[f] = b[i*n : (i+1)*n]
		}
		return m
	}
	return split(cOut, size, size), split(pOut, w, h)
}

// checkOracle compares every context frame and patch of the views (all of
// one clip) with the ffmpeg CLI.
func checkOracle(t *testing.T, path string, views ...Views) {
	t.Helper()
	var frames []int
	for _, v := range views {
		frames = append(frames, v.ContextIdx...)
	}
	v0 := views[0]
	ctx, full := oracle(t, path, frames, v0.Size, v0.PixelW, v0.PixelH)
	want := make([]byte, v0.Size*v0.Size*3)
	for k, v := range views {
		for i, f := range v.ContextIdx {
			if !bytes.Equal(v.ContextFrame(i), ctx[f]) {
				t.Fatalf("views %d: context %d (frame %d) differs from ffmpeg scale=%d:%d", k, i, f, v.Size, v.Size)
			}
		}
		for i, q := range v.Patches {
			// The reference crop, pixel by pixel.
			src := full[q.Frame]
			for y := range v.Size {
				for x := range v.Size {
					for c := range 3 {
						want[(y*v.Size+x)*3+c] = src[((q.Y+y)*v.PixelW+q.X+x)*3+c]
					}
				}
			}
			if !bytes.Equal(v.PatchFrame(i), want) {
				t.Fatalf("views %d: patch %d %+v differs from the crop of ffmpeg scale=%d:%d", k, i, q, v.PixelW, v.PixelH)
			}
		}
	}
}

func checkViews(t *testing.T, v Views, p Params, srcW, srcH, frames int) {
	t.Helper()
	pw, ph := PixelSize(srcW, srcH, p)
	if v.SrcW != srcW || v.SrcH != srcH || v.PixelW != pw || v.PixelH != ph || v.Frames != frames {
		t.Fatalf("views src %dx%d pixel %dx%d frames %d; want %dx%d, %dx%d, %d",
			v.SrcW, v.SrcH, v.PixelW, v.PixelH, v.Frames, srcW, srcH, pw, ph, frames)
	}
	fs := p.Size * p.Size * 3
	if len(v.ContextIdx) != p.M || len(v.Context) != p.M*fs || len(v.PatchPix) != p.K*fs {
		t.Fatalf("views hold %d context indices, %d context bytes, %d patch bytes", len(v.ContextIdx), len(v.Context), len(v.PatchPix))
	}
	checkPatches(t, "views", v.Patches, v.ContextIdx, v.PixelW, v.PixelH, p)
}

// Acceptance: landscape, portrait, tiny and 4K clips give views whose bytes
// equal the ffmpeg CLI's, eval is deterministic and training reproducible.
func TestSampleMatchesFFmpeg(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	cases := []struct {
		name         string
		w, h, frames int
		rate         int
		trainOracle  bool // also check the training views' bytes (skipped where slow)
	}{
		{"landscape", 1280, 720, 17, 25, true},
		{"fits", 960, 540, 9, 25, false},
		{"portrait", 406, 720, 12, 25, true},
		{"portrait-hd", 1080, 1920, 6, 30, false},
		{"tiny", 192, 144, 12, 10, true},
		{"4k", 3840, 2160, 3, 25, false},
		{"short", 320, 240, 3, 25, true}, // fewer frames than M: repeated context frames
	}
	p := DefaultParams()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", c.w, c.h, c.rate)
			path := testutil.Clip(t, dir, c.name+".mp4", src, "-frames:v", fmt.Sprint(c.frames),
				"-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p")
			ev, err := Sample(path, p, Eval, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, ev, p, c.w, c.h, c.frames)
			again, err := Sample(path, p, Eval, 99, "other")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ev.Context, again.Context) || !bytes.Equal(ev.PatchPix, again.PatchPix) || !slices.Equal(ev.Patches, again.Patches) {
				t.Fatal("eval sampling is not deterministic")
			}

			tr, err := Sample(path, p, Train, 5, c.name)
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, tr, p, c.w, c.h, c.frames)
			if c.trainOracle {
				checkOracle(t, path, ev, tr)
			} else {
				checkOracle(t, path, ev)
			}
			same, err := Sample(path, p, Train, 5, c.name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tr.Context, same.Context) || !bytes.Equal(tr.PatchPix, same.PatchPix) || !slices.Equal(tr.Patches, same.Patches) {
				t.Fatal("training sampling is not reproducible for a seed")
			}
			other, err := Sample(path, p, Train, 6, c.name)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(tr.Patches, other.Patches) {
				t.Fatalf("seeds 5 and 6 placed the same patches %v", tr.Patches)
			}
		})
	}
}

func TestSampleErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.mp4")
	notVideo := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(notVideo, []byte("not a video at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{missing, notVideo} {
		_, err := Sample(path, DefaultParams(), Eval, 0, "")
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Sample(%s) error %v does not name the file", path, err)
		}
	}
	bad := DefaultParams()
	bad.MinSide = 100
	if _, err := Sample(missing, bad, Eval, 0, ""); err == nil || !strings.Contains(err.Error(), "MinSide") {
		t.Errorf("invalid params: %v", err)
	}
}

func TestSampleNativeFrames(t *testing.T) {
	dir := t.TempDir()
	c := testutil.Clip(t, dir, "n.mp4", "testsrc2=size=320x240:rate=25:duration=1")
	v, err := SampleNative(c, DefaultParams(), Eval, 0, "n", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Native) != 3 || len(v.Native[0]) != 320*240*3 {
		t.Fatalf("%d native frames", len(v.Native))
	}
	plain, err := Sample(c, DefaultParams(), Eval, 0, "n")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain.Context, v.Context) || !bytes.Equal(plain.PatchPix, v.PatchPix) || plain.Native != nil {
		t.Fatal("native capture changed the views")
	}
	// The kept frames are exactly the decoded native frames.
	want := map[int][]byte{}
	video.DecodeRGB(c, video.RGBOptions{}, func(f video.RGBFrame) error { want[f.Index] = f.Pix; return nil })
	picks := nativePicks(v.ContextIdx, 3)
	n := 0
	for _, i := range v.ContextIdx {
		if picks[i] {
			if !bytes.Equal(v.Native[n], want[i]) {
				t.Fatalf("native frame %d differs", i)
			}
			delete(picks, i)
			n++
		}
	}
}

// Options.PixelFrames keeps each distinct frame the patches are cut from,
// whole, in frame order: equal to the ffmpeg CLI's bilinear scale of that
// frame to the pixel-view size. Without it none are kept.
func TestPixelFrames(t *testing.T) {
	testutil.RequireFFmpeg(t)
	path := testutil.Clip(t, t.TempDir(), "a.mp4", "testsrc2=size=640x360:rate=25", "-frames:v", "20",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p")
	p := DefaultParams()
	for _, mode := range []Mode{Eval, Train} {
		v, err := SampleWith(path, p, mode, 3, "a", Options{PixelFrames: true})
		if err != nil {
			t.Fatal(err)
		}
		var frames []int
		for _, q := range v.Patches {
			frames = append(frames, q.Frame)
		}
		frames = slices.Compact(frames) // Patches are grouped by ascending frame
		if len(v.PixelFrames) != len(frames) {
			t.Fatalf("%v: %d pixel frames for patch frames %v", mode, len(v.PixelFrames), frames)
		}
		_, full := oracle(t, path, frames, p.Size, v.PixelW, v.PixelH)
		for i, f := range frames {
			if !bytes.Equal(v.PixelFrames[i], full[f]) {
				t.Fatalf("%v: pixel frame %d (frame %d) differs from ffmpeg scale=%d:%d", mode, i, f, v.PixelW, v.PixelH)
			}
		}
		plain, err := Sample(path, p, mode, 3, "a")
		if err != nil {
			t.Fatal(err)
		}
		if plain.PixelFrames != nil || !bytes.Equal(plain.PatchPix, v.PatchPix) {
			t.Fatalf("%v: without PixelFrames: %d frames kept, patches equal %v", mode, len(plain.PixelFrames), bytes.Equal(plain.PatchPix, v.PatchPix))
		}
	}
}

package sample

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// Stills and a one-frame video sample as one-frame clips: the context view
// is the frame M times, the K patches come from it (overlapping where it
// holds fewer than K apart), and every byte equals the ffmpeg CLI's scale.
func TestSampleOneFrame(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	cases := []struct {
		name   string
		w, h   int
		args   []string
		still  bool
		useFPS float64
	}{
		{"clive-like.jpg", 500, 500, nil, true, 0},
		{"odd.JPEG", 333, 251, []string{"-vf", "scale=333:251"}, true, 0},
		{"wide.png", 1280, 720, []string{"-vf", "scale=1280:720"}, true, 0}, // holds 8 apart after the fit to 960x540
		{"tiny.bmp", 160, 120, []string{"-vf", "scale=160:120"}, true, 0},   // enlarged to 299x224
		{"one.mp4", 320, 240, []string{"-vf", "scale=320:240", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", "25"}, false, 25},
	}
	p := DefaultParams()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-frames:v", "1"}, c.args...)
			if c.still {
				args = append(args, "-update", "1")
			}
			path := testutil.Clip(t, dir, c.name, "testsrc2=size=500x500:rate=25", args...)
			ev, err := Sample(path, p, Eval, 0, c.name)
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, ev, p, c.w, c.h, 1)
			if ev.FPS != c.useFPS {
				t.Errorf("FPS %v, want %v", ev.FPS, c.useFPS)
			}
			if !slices.Equal(ev.ContextIdx, make([]int, p.M)) {
				t.Fatalf("context indices %v", ev.ContextIdx)
			}
			for i := 1; i < p.M; i++ {
				if !bytes.Equal(ev.ContextFrame(i), ev.ContextFrame(0)) {
					t.Fatalf("context frame %d differs from frame 0", i)
				}
			}
			tr, err := Sample(path, p, Train, 5, c.name)
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, tr, p, c.w, c.h, 1)
			checkOracle(t, path, ev, tr)
			same, err := Sample(path, p, Train, 5, c.name)
			if err != nil || !bytes.Equal(same.PatchPix, tr.PatchPix) || !slices.Equal(same.Patches, tr.Patches) {
				t.Fatalf("training sampling not reproducible (%v)", err)
			}
			if ev.PixelW > p.Size || ev.PixelH > p.Size { // room to move: seeds differ
				other, err := Sample(path, p, Train, 6, c.name)
				if err != nil || slices.Equal(other.Patches, tr.Patches) {
					t.Fatalf("seeds 5 and 6 placed the same patches %v (%v)", tr.Patches, err)
				}
			}
			nat, err := SampleNative(path, p, Eval, 0, c.name, 3)
			if err != nil || len(nat.Native) != 1 || len(nat.Native[0]) != c.w*c.h*3 {
				t.Fatalf("native frames of a one-frame clip: %d (%v)", len(nat.Native), err)
			}
		})
	}
}

// The eval patches of a 500x500 still are the 3x3 grid without its centre,
// cut from the native-size frame.
func TestSampleStill500Layout(t *testing.T) {
	path := testutil.Clip(t, t.TempDir(), "s.png", "testsrc2=size=500x500", "-frames:v", "1", "-update", "1")
	v, err := Sample(path, DefaultParams(), Eval, 0, "s")
	if err != nil {
		t.Fatal(err)
	}
	if v.PixelW != 500 || v.PixelH != 500 {
		t.Fatalf("pixel view %dx%d, want the native 500x500", v.PixelW, v.PixelH)
	}
	got := fmt.Sprint(v.Patches)
	if want := "[{0 0 0} {0 138 0} {0 276 0} {0 0 138} {0 276 138} {0 0 276} {0 138 276} {0 276 276}]"; got != want {
		t.Errorf("patches %s, want %s", got, want)
	}
}

package sample

import (
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// A clip recorded sideways with a rotate-90 display matrix is sampled as it
// is shown: portrait geometry, pixels equal to the CLI's (autorotated) frames.
func TestSampleRotatedClipIsPortrait(t *testing.T) {
	dir := t.TempDir()
	base := testutil.Clip(t, dir, "base.mp4", "testsrc2=size=640x360:rate=25", "-frames:v", "9",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p")
	path := filepath.Join(dir, "rot90.mp4")
	testutil.FFmpeg(t, "-i", base, "-c", "copy", "-metadata:s:v:0", "rotate=90", path)
	p := DefaultParams()
	ev, err := Sample(path, p, Eval, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	checkViews(t, ev, p, 360, 640, 9)
	if ev.PixelW >= ev.PixelH {
		t.Fatalf("pixel view %dx%d is not portrait", ev.PixelW, ev.PixelH)
	}
	tr, err := Sample(path, p, Train, 3, "rot")
	if err != nil {
		t.Fatal(err)
	}
	checkViews(t, tr, p, 360, 640, 9)
	checkOracle(t, path, ev, tr)
}

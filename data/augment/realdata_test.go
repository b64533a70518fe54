package augment

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// Acceptance 3: the real clips (KoNViD-1k 960x540, LSVQ portrait 406x720 and
// 1280x720, unlabeled incl. 192x144 at 10 fps) ladder without error. The
// default run uses two levels at ultrafast; -long runs the paper's 20 at medium.
func TestRealClipsLadder(t *testing.T) {
	root := testutil.RealData(t)
	var srcs []Source
	for _, sub := range []string{"KoNViD-1k", "LSVQ", "unlabeled"} {
		s, err := SourcesFromPath(filepath.Join(root, sub))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s...)
	}
	if len(srcs) < 19 {
		t.Fatalf("found %d real clips, want 19", len(srcs))
	}
	o := Options{OutDir: t.TempDir(), CRFs: []int{15, 53}, Preset: "ultrafast", Jobs: 2}
	if testutil.Long() {
		o.CRFs, _ = ParseCRFs("15:53:2")
		o.Preset = "medium"
	} else if testing.Short() {
		srcs = srcs[:3]
	}
	sum, err := Run(context.Background(), srcs, o)
	if err != nil || sum.Failed != 0 || sum.Written != len(srcs)*len(o.CRFs) {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, s := range srcs {
		want, err := video.Probe(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := video.Verify(filepath.Join(o.OutDir, s.ID, OutputName(o.CRFs[0])))
		if err != nil {
			t.Fatal(err)
		}
		if got.Width != want.Width || got.Height != want.Height || got.Frames != want.Frames {
			t.Errorf("%s: ladder output %dx%d %d frames, source %dx%d %d", s.ID, got.Width, got.Height, got.Frames, want.Width, want.Height, want.Frames)
		}
	}
}

package augment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// Acceptance 3: the real clips (KoNViD-1k 960x540, one of them with a
// rotate-90 display matrix, LSVQ portrait 406x720 and 1280x720, unlabeled
// incl. 192x144 at 10 fps) ladder without error, each output with the size,
// frame count and duration of the ffmpeg CLI's own encode (upright, on its
// constant-rate grid). The default run uses two levels at ultrafast and a
// sample of the KoNViD-1k clips; -long runs every clip at the paper's 20
// levels at medium.
func TestRealClipsLadder(t *testing.T) {
	root := testutil.RealData(t)
	var srcs []Source
	for _, sub := range []string{"KoNViD-1k", "LSVQ", "unlabeled"} {
		dir := filepath.Join(root, sub)
		if _, err := os.Stat(dir); err != nil {
			t.Logf("%s: absent", dir)
			continue
		}
		s, err := SourcesFromPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		if sub == "KoNViD-1k" && !testutil.Long() {
			s = konvidSample(t, s)
		}
		srcs = append(srcs, s...)
	}
	if len(srcs) == 0 {
		t.Skip("no real clips under " + root)
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
	cli := filepath.Join(t.TempDir(), "cli.mp4")
	for _, s := range srcs {
		crf := o.CRFs[len(o.CRFs)-1] // the fastest level to repeat with the CLI
		cliEncode(t, s.Path, cli, crf, o.Preset)
		want, err := video.Probe(cli)
		if err != nil {
			t.Fatal(err)
		}
		got, err := video.Verify(filepath.Join(o.OutDir, s.ID, OutputName(crf)))
		if err != nil {
			t.Fatal(err)
		}
		if got.Width != want.Width || got.Height != want.Height || got.Frames != want.Frames || math.Abs(got.Duration-want.Duration) > 1e-3 {
			t.Errorf("%s: ladder output %dx%d %d frames %.3f s, CLI %dx%d %d frames %.3f s", s.ID,
				got.Width, got.Height, got.Frames, got.Duration, want.Width, want.Height, want.Frames, want.Duration)
		}
	}
}

// konvidSample keeps the KoNViD-1k clips the default run needs: the first
// three (all 960x540 landscape) and every clip with a display rotation; the
// -long run ladders them all.
func konvidSample(t *testing.T, srcs []Source) []Source {
	var out []Source
	for i, s := range srcs {
		info, err := video.Probe(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 || info.Rotation != 0 {
			out = append(out, s)
		}
	}
	return out
}

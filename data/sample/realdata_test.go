package sample

import (
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// Real encodes (portrait LSVQ, a 192x144 10 fps UGC clip, 720p, a KoNViD
// 960x540 and a CLIVE 500x500 camera JPEG) sample without error; the LSVQ,
// UGC and CLIVE ones are checked byte for byte against the ffmpeg CLI.
func TestSampleRealClips(t *testing.T) {
	root := testutil.RealData(t)
	clips := []struct {
		rel    string
		oracle bool
	}{
		{"LSVQ/yfcc-batch3/1724.mp4", true},
		{"unlabeled/FEQ-gdkTN4Q_000008_000018.mp4", true},
		{"LSVQ/yfcc-batch22/17734.mp4", false},
		{"KoNViD-1k/KoNViD_1k_videos/3339962845.mp4", false},
		{"CLIVE/Images/1000.JPG", true},
	}
	p := DefaultParams()
	for _, c := range clips {
		t.Run(filepath.Base(c.rel), func(t *testing.T) {
			path := filepath.Join(root, c.rel)
			info, err := video.Probe(path)
			if err != nil {
				t.Skipf("clip unavailable: %v", err)
			}
			v, err := Sample(path, p, Eval, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, v, p, info.Width, info.Height, info.Frames)
			if c.oracle {
				checkOracle(t, path, v)
			}
			tr, err := Sample(path, p, Train, 1, c.rel)
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, tr, p, info.Width, info.Height, info.Frames)
			if c.oracle && info.Still {
				checkOracle(t, path, tr)
			}
		})
	}
}

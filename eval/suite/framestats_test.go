package suite

import (
	"testing"

	"github.com/cpllm/cpllm/data/stats"
	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
)

// The scorer measures a video's whole-frame statistics exactly when its
// model reads them (score, eval and eval ladder sample through it).
func TestSampleVideoFrameStats(t *testing.T) {
	testutil.RequireFFmpeg(t)
	path := testutil.Clip(t, t.TempDir(), "a.mp4", "testsrc2=size=320x180:rate=10:duration=1")
	for kind, want := range map[string]int{"frame-nss-logsignals": len(stats.Names), "nss-logsignals+frame": len(stats.Names), "nss-logsignals": 0, "": 0} {
		s := &Scorer{Model: &model.Model{Cfg: model.Config{Stats: kind}}, Params: evaltest.Params()}
		c, err := s.sampleVideo(path, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.FrameStats) != want {
			t.Fatalf("stats %q: %d frame statistics, want %d", kind, len(c.FrameStats), want)
		}
	}
}

package suite

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/stats"
	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/mobilenet"
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

// With stats frame-nss-logsignals+mnv2mid the scorer appends the pretrained
// MobileNetV2's features of the same whole frames (as data prep does with
// shards.frame_deep): the statistics part equals the plain kind's, the
// features equal the network's on the sampler's frames.
func TestSampleVideoFrameDeep(t *testing.T) {
	testutil.RequireFFmpeg(t)
	if _, err := os.Stat(filepath.Join(mobilenet.PretrainedDir(), "model.json")); err != nil {
		if os.Getenv("CPLLM_REQUIRE_ORACLES") != "" {
			t.Fatalf("pretrained MobileNetV2 required (CPLLM_REQUIRE_ORACLES) but absent: %v (make pretrained-deps)", err)
		}
		t.Skipf("no pretrained MobileNetV2 (make pretrained-deps): %v", err)
	}
	path := testutil.Clip(t, t.TempDir(), "a.mp4", "testsrc2=size=320x180:rate=10:duration=1")
	be, err := gobackend.New("parallelism=-1")
	if err != nil {
		t.Fatal(err)
	}
	p := evaltest.Params()
	plain, err := (&Scorer{Model: &model.Model{Cfg: model.Config{Stats: "frame-nss-logsignals"}}, Params: p}).sampleVideo(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	s := &Scorer{Model: &model.Model{Cfg: model.Config{Stats: "frame-nss-logsignals+mnv2mid"}}, Params: p, Backend: be}
	c, err := s.sampleVideo(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	n := len(stats.Names)
	if len(c.FrameStats) != n+mobilenet.FeatureDim() || !slices.Equal(c.FrameStats[:n], plain.FrameStats) {
		t.Fatalf("%d frame values (want %d), statistics equal the plain kind's: %v", len(c.FrameStats), n+mobilenet.FeatureDim(), slices.Equal(c.FrameStats[:n], plain.FrameStats))
	}
	v, err := sample.SampleWith(path, p, sample.Eval, 0, "a", sample.Options{PixelFrames: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.deepNet.MeanFeatures(v.PixelFrames, v.PixelH, v.PixelW)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.FrameStats[n:], want) {
		t.Fatal("the scorer's pretrained features differ from the network's on the sampler's frames")
	}
}

// One decode serves every checkpoint of an eval run, so it must carry what
// any of them reads: with the whole-frame model second, sampling for the
// first (patch statistics only) gave it no frame statistics, and the bridge
// filled the mean token in for every clip.
func TestPrefetchSamplesForEveryScorer(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	recs := []datasets.Record{
		{ID: "a", Path: testutil.Clip(t, dir, "a.mp4", "testsrc2=size=320x180:rate=10:duration=1")},
		{ID: "b", Path: testutil.Clip(t, dir, "b.mp4", "mandelbrot=size=320x180:rate=10,trim=duration=1")},
	}
	p := evaltest.Params()
	sc := func(kind string) *Scorer {
		return &Scorer{Name: kind, Model: &model.Model{Cfg: model.Config{Stats: kind}}, Params: p}
	}
	for _, order := range [][]string{{"nss-logsignals", "frame-nss-logsignals"}, {"frame-nss-logsignals", "nss-logsignals"}, {"", "nss-logsignals+frame"}} {
		n := 0
		for s := range prefetch(context.Background(), recs, []*Scorer{sc(order[0]), sc(order[1])}, 2) {
			if s.err != nil {
				t.Fatal(s.err)
			}
			if len(s.clip.FrameStats) != len(stats.Names) {
				t.Errorf("scorers %q: clip %s has %d frame statistics, want %d", order, s.r.ID, len(s.clip.FrameStats), len(stats.Names))
			}
			n++
		}
		if n != len(recs) {
			t.Fatalf("scorers %q: %d clips sampled, want %d", order, n, len(recs))
		}
	}
	for s := range prefetch(context.Background(), recs[:1], []*Scorer{sc("nss-logsignals")}, 1) {
		if s.err != nil || len(s.clip.FrameStats) != 0 {
			t.Fatalf("a patch-statistics model alone: %d frame statistics (err %v), want none (the frames are not measured)", len(s.clip.FrameStats), s.err)
		}
	}
}

// Checkpoints that would sample a video differently cannot share a decode:
// the run is refused, naming both.
func TestEvalRefusesMixedSamplers(t *testing.T) {
	p := evaltest.Params()
	q := p
	q.K++
	a := &Scorer{Name: "a", Model: &model.Model{}, Params: p}
	b := &Scorer{Name: "b", Model: &model.Model{}, Params: q}
	if err := checkSameSampler([]*Scorer{a, a}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Scorers: []*Scorer{a, b}, OutDir: t.TempDir(), Datasets: []Dataset{{Name: "x", Shards: t.TempDir()}}})
	if err == nil || !strings.Contains(err.Error(), "checkpoints a and b use different sampler settings") {
		t.Fatalf("got %v", err)
	}
	if _, err := RunLadder(context.Background(), LadderOptions{Scorers: []*Scorer{a, b}, Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "different sampler settings") {
		t.Fatalf("ladder: got %v", err)
	}
}

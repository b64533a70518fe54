package suite

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
)

var (
	benchClipOnce sync.Once
	benchClip     string
)

// BenchmarkScoreVideo is `cpllm score` on an 8 s 960x540 30 fps clip with
// the tiny model (configs/model/tiny.yaml) and the shipped model's
// architecture (models/real/model.yaml: its eval_views forward passes per
// clip), fresh weights (the cost does not depend on their values), and the
// default sampler (8 context frames, 8 patches of 224 px): seconds per
// video, split into decode+sample, encode (bridge + model score) and the
// greedy description (48 tokens max), on every backend available here
// (model.AvailableBackends). The shipped model's statistics token (its
// stats kind: for whole-frame statistics, measured while sampling) is
// computed for every run, as for a new clip.
func BenchmarkScoreVideo(b *testing.B) {
	testutil.RequireFFmpeg(b)
	benchClipOnce.Do(func() {
		benchClip = testutil.Clip(b, fixtureDir, "bench-960x540-8s.mp4", "testsrc2=size=960x540:rate=30:duration=8")
	})
	for _, name := range []string{"tiny", "real"} {
		for _, spec := range model.AvailableBackends() {
			backendName, _, _ := strings.Cut(spec, ":")
			b.Run(name+"/"+backendName, func(b *testing.B) { benchScore(b, name, spec) })
		}
	}
}

func benchScore(b *testing.B, name, spec string) {
	path := evaltest.RepoFile("configs", "model", name+".yaml")
	if name == "real" {
		path = evaltest.RepoFile("models", "real", "model.yaml")
	}
	mc, err := model.LoadConfig(path)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.Build(mc)
	if err != nil {
		b.Fatal(err)
	}
	backend, err := model.NewBackend(spec)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Init(backend); err != nil {
		b.Fatal(err)
	}
	sc, err := New(name, m, backend, sample.DefaultParams())
	if err != nil {
		b.Fatal(err)
	}
	// described as cpllm score describes (the level lead)
	o := ScoreOptions{Describe: true, MaxTokens: 48, LevelLead: true}
	if _, err := sc.Score(benchClip, o); err != nil { // compiles the graphs outside the timing
		b.Fatal(err)
	}
	var sum Timing
	var res Result
	b.ResetTimer()
	for range b.N {
		sc.bridge = sc.bridge.WithFreshStats() // a new clip's statistics are computed, not cached
		res, err = sc.Score(benchClip, o)
		if err != nil {
			b.Fatal(err)
		}
		sum.Add(res.Timing)
	}
	n := float64(b.N)
	b.ReportMetric(sum.Sample/n, "decode_s/video")
	b.ReportMetric((sum.Bridge+sum.Score)/n, "encode_s/video")
	b.ReportMetric(sum.Describe/n, "describe_s/video")
	b.ReportMetric((sum.Sample+sum.Bridge+sum.Score+sum.Describe)/n, "s/video")
	// An untrained model may stop early at EOS: the description's length
	// says how many tokens the describe time covers.
	b.Logf("%s: %d runs; description of %d tokens", filepath.Base(benchClip), b.N, res.Tokens)
}

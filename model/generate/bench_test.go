package generate

import (
	"testing"

	"github.com/cpllm/cpllm/model"
)

// Generation speed of the tiny model, batch 2, 32 new tokens per row, greedy,
// graphs compiled before timing. Run:
//
//	go test ./model/generate -run '^$' -bench Generate -benchtime 5x
func BenchmarkGenerate(b *testing.B) {
	for _, c := range []struct {
		name  string
		cache bool
	}{{"cache", true}, {"recompute", false}} {
		b.Run(c.name, func(b *testing.B) {
			m := tinyModel(b, model.FusionConcat)
			g := NewGenerator(m, testBackend(b))
			videos := randomVideos(m, 1, 2, 1)
			ps := prompts(m)
			o := Options{MaxNew: 32, UseCache: c.cache}
			if _, err := g.Generate(videos, ps, o); err != nil { // compile
				b.Fatal(err)
			}
			tokens := 0
			b.ResetTimer()
			for b.Loop() {
				out, err := g.Generate(videos, ps, o)
				if err != nil {
					b.Fatal(err)
				}
				for _, row := range out {
					tokens += len(row)
				}
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

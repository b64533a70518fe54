package sample

import (
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// BenchmarkSample samples an 8 s 960x540 25 fps clip (the KoNViD shape);
// the clips/s metric is what the data loader can sustain per core set.
func BenchmarkSample(b *testing.B) {
	path := testutil.Clip(b, b.TempDir(), "bench.mp4", "testsrc2=size=960x540:rate=25:duration=8",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
	p := DefaultParams()
	for _, mode := range []Mode{Eval, Train} {
		b.Run(mode.String(), func(b *testing.B) {
			var seed uint64
			for b.Loop() {
				if _, err := Sample(path, p, mode, seed, "bench"); err != nil {
					b.Fatal(err)
				}
				seed++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "clips/s")
		})
	}
}

package augment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cpllm/cpllm/internal/testutil"
)

// BenchmarkLadderVsCLI times the one-decode ladder against the same 20
// encodes done by 20 separate `ffmpeg` CLI runs, on a 10 s 960x540 clip
// generated at bench time, and reports the ratio measured in the same run.
func BenchmarkLadderVsCLI(b *testing.B) {
	testutil.RequireFFmpeg(b)
	dir := b.TempDir()
	src := testutil.Clip(b, dir, "src.mp4", "testsrc2=size=960x540:rate=30:duration=10",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p")
	crfs, _ := ParseCRFs("15:53:2")
	preset := "medium"
	for i := 0; i < b.N; i++ {
		out := filepath.Join(dir, "ladder"+strconv.Itoa(i))
		t0 := time.Now()
		sum, err := Run(context.Background(), []Source{{ID: "src", Path: src}}, Options{OutDir: out, CRFs: crfs, Preset: preset, Jobs: 1})
		if err != nil || sum.Written != len(crfs) {
			b.Fatalf("ladder: %+v %v", sum, err)
		}
		ladder := time.Since(t0)
		t0 = time.Now()
		for _, crf := range crfs {
			testutil.FFmpeg(b, "-i", src, "-c:v", "libx264", "-crf", strconv.Itoa(crf), "-preset", preset, filepath.Join(dir, "cli.mp4"))
		}
		cli := time.Since(t0)
		ratio := cli.Seconds() / ladder.Seconds()
		b.ReportMetric(ladder.Seconds(), "ladder-s")
		b.ReportMetric(cli.Seconds(), "cli-s")
		b.ReportMetric(ratio, "speedup")
		fmt.Fprintf(os.Stderr, "ladder (1 decode, 20 encoders): %.1f s; 20 ffmpeg CLI runs: %.1f s; speedup %.2fx (target >= 1.15x)\n",
			ladder.Seconds(), cli.Seconds(), ratio)
	}
}

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
	ladder := func(name string, o Options) time.Duration {
		o.OutDir, o.CRFs, o.Preset, o.Jobs = filepath.Join(dir, name), crfs, preset, 1
		t0 := time.Now()
		sum, err := Run(context.Background(), []Source{{ID: "src", Path: src}}, o)
		if err != nil || sum.Written != len(crfs) {
			b.Fatalf("ladder %s: %+v %v", name, sum, err)
		}
		return time.Since(t0)
	}
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for _, crf := range crfs {
			testutil.FFmpeg(b, "-i", src, "-c:v", "libx264", "-crf", strconv.Itoa(crf), "-preset", preset, filepath.Join(dir, "cli.mp4"))
		}
		cli := time.Since(t0)
		grouped := ladder("grouped"+strconv.Itoa(i), Options{Fanout: 4, BufferBytes: 1 << 30})
		all := ladder("all"+strconv.Itoa(i), Options{Fanout: 0})
		b.ReportMetric(cli.Seconds(), "cli-s")
		b.ReportMetric(grouped.Seconds(), "ladder-s")
		b.ReportMetric(all.Seconds(), "ladder-all-s")
		b.ReportMetric(cli.Seconds()/grouped.Seconds(), "speedup")
		fmt.Fprintf(os.Stderr, "20 ffmpeg CLI runs: %.1f s\n"+
			"ladder, one decode, 4 encoders at a time (default): %.1f s, speedup %.2fx (target >= 1.15x)\n"+
			"ladder, one decode, all 20 encoders at once: %.1f s, speedup %.2fx\n",
			cli.Seconds(), grouped.Seconds(), cli.Seconds()/grouped.Seconds(), all.Seconds(), cli.Seconds()/all.Seconds())
	}
}

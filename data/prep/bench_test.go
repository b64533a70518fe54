package prep

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/internal/testutil"
)

// benchClips makes n distinct 8 s 960x540 clips (KoNViD-like) and a manifest
// listing them `rows` times over (distinct ids, shared files).
func benchClips(b *testing.B, dir string, n, rows int) []datasets.Record {
	var lines []string
	gens := []string{"testsrc2", "mandelbrot=maxiter=128", "life=ratio=0.2:mold=20", "cellauto=random_fill_ratio=0.4"}
	for i := range n {
		g := gens[i%len(gens)]
		name, opts, _ := strings.Cut(g, "=")
		if opts != "" {
			opts = ":" + opts
		}
		testutil.Clip(b, dir, fmt.Sprintf("c%d.mp4", i), fmt.Sprintf("%s=size=960x540:rate=30%s", name, opts), "-t", "8",
			"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
	}
	for r := range rows {
		lines = append(lines, fmt.Sprintf("v%04d,c%d.mp4,%.2f,train", r, r%n, 1+4*float64(r%17)/16))
	}
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos,split\n"+strings.Join(lines, "\n")+"\n"), 0o644)
	recs, err := datasets.Load("manifest", datasets.Options{Root: dir})
	if err != nil {
		b.Fatal(err)
	}
	return recs
}

// cliSample runs the ffmpeg CLI to decode a clip and output the same frames
// scaled as the sampler does (context 224x224 and the pixel-view size) as
// rawvideo; it is the reference pipeline without sampling logic or storage.
func cliSample(b *testing.B, path string, v sample.Views) {
	var sel []string
	for _, i := range v.ContextIdx {
		sel = append(sel, fmt.Sprintf("eq(n\\,%d)", i))
	}
	graph := fmt.Sprintf("[0:v]select='%s',split[a][b];[a]scale=224:224:flags=bilinear[c];[b]scale=%d:%d:flags=bilinear[p]",
		strings.Join(sel, "+"), v.PixelW, v.PixelH)
	testutil.FFmpeg(b, "-i", path, "-filter_complex", graph, "-map", "[c]", "-f", "rawvideo", "-pix_fmt", "rgb24", "/dev/null",
		"-map", "[p]", "-f", "rawvideo", "-pix_fmt", "rgb24", "/dev/null")
}

// BenchmarkShardsVsCLI: sampling + description + shard writing throughput
// against ffmpeg CLI decode + scale of the same frames, 2 at a time each.
func BenchmarkShardsVsCLI(b *testing.B) {
	testutil.RequireFFmpeg(b)
	dir := b.TempDir()
	recs := benchClips(b, dir, 8, 8)
	o := small(filepath.Join(dir, "out"))
	o.Params = sample.DefaultParams()
	o.Compression, o.MaxRows = "none", 256
	for i := 0; i < b.N; i++ {
		o.OutDir = filepath.Join(dir, "out"+strconv.Itoa(i))
		t0 := time.Now()
		man, _, err := Build(context.Background(), recs, o)
		if err != nil {
			b.Fatal(err)
		}
		ours := time.Since(t0)
		var bytes int64
		for _, s := range man.Shards {
			bytes += s.Bytes
		}
		views := make([]sample.Views, len(recs))
		for j, r := range recs {
			views[j], _ = sample.Sample(r.Path, o.Params, sample.Eval, 0, r.ID)
		}
		t0 = time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for j, r := range recs {
			wg.Add(1)
			sem <- struct{}{}
			go func() { defer wg.Done(); cliSample(b, r.Path, views[j]); <-sem }()
		}
		wg.Wait()
		cli := time.Since(t0)
		ratio := cli.Seconds() / ours.Seconds()
		b.ReportMetric(float64(len(recs))/ours.Seconds(), "clips/s")
		b.ReportMetric(float64(bytes)/1e6/ours.Seconds(), "MB/s")
		b.ReportMetric(ratio, "x-cli")
		fmt.Fprintf(os.Stderr, "data shards: %d clips (8 s 960x540) in %.1f s = %.2f clips/s, %.0f MB/s of shards; ffmpeg CLI decode+scale of the same frames: %.1f s; throughput ratio %.2fx (target >= 0.9x)\n",
			len(recs), ours.Seconds(), float64(len(recs))/ours.Seconds(), float64(bytes)/1e6/ours.Seconds(), cli.Seconds(), ratio)
	}
}

// BenchmarkShardsRSS runs `data shards` in a child process on 50 and on 200
// clips and compares peak RSS (streaming: it must stay flat).
func BenchmarkShardsRSS(b *testing.B) {
	testutil.RequireFFmpeg(b)
	dir := b.TempDir()
	benchClips(b, dir, 4, 200)
	var rss [2]int64
	for i, n := range []int{50, 200} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestRSSChild$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("CPLLM_RSS_CHILD=%s|%d|%s", dir, n, filepath.Join(dir, "rss"+strconv.Itoa(n))))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		rss[i] = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	}
	ratio := float64(rss[1]) / float64(rss[0])
	b.ReportMetric(float64(rss[0])/1024, "MiB-50")
	b.ReportMetric(float64(rss[1])/1024, "MiB-200")
	fmt.Fprintf(os.Stderr, "data shards peak RSS: %.0f MiB on 50 clips, %.0f MiB on 200 clips (ratio %.2f, target within 1.2)\n",
		float64(rss[0])/1024, float64(rss[1])/1024, ratio)
}

// TestRSSChild is the child of BenchmarkShardsRSS (a no-op otherwise).
func TestRSSChild(t *testing.T) {
	spec := os.Getenv("CPLLM_RSS_CHILD")
	if spec == "" {
		return
	}
	parts := strings.Split(spec, "|")
	n, _ := strconv.Atoi(parts[1])
	recs, err := datasets.Load("manifest", datasets.Options{Root: parts[0]})
	if err != nil {
		t.Fatal(err)
	}
	o := small(parts[2])
	o.Params = sample.DefaultParams()
	o.MaxRows = 64
	if _, _, err := Build(context.Background(), recs[:n], o); err != nil {
		t.Fatal(err)
	}
}

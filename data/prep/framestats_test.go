package prep

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/data/stats"
	"github.com/cpllm/cpllm/internal/testutil"
)

// cliFrames decodes the given frames of path with the ffmpeg CLI, scaled
// bilinearly to w x h as rgb24, in ascending frame order.
func cliFrames(t *testing.T, path string, frames []int, w, h int) [][]byte {
	t.Helper()
	terms := make([]string, len(frames))
	for i, f := range frames {
		terms[i] = fmt.Sprintf(`eq(n\,%d)`, f)
	}
	out := filepath.Join(t.TempDir(), "frames.rgb")
	testutil.FFmpeg(t, "-i", path, "-vf", fmt.Sprintf("select=%s,scale=%d:%d:flags=bilinear", strings.Join(terms, "+"), w, h),
		"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := w * h * 3
	if len(b) != len(frames)*n {
		t.Fatalf("ffmpeg gave %d bytes for %d frames of %dx%d", len(b), len(frames), w, h)
	}
	res := make([][]byte, len(frames))
	for i := range res {
		res[i] = b[i*n : (i+1)*n]
	}
	return res
}

// With shards.frame_stats each record carries data/stats of the whole
// frames its patches were cut from: equal to the statistics of those frames
// as the ffmpeg CLI decodes and scales them, and not those of the patches
// alone. Without it records carry none and the sampler parameters do not
// mention it (earlier directories still resume).
func TestFrameStats(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir, recs := fixture(t)
	o := small(filepath.Join(t.TempDir(), "shards"))
	o.FrameStats = true
	if _, _, err := Build(context.Background(), recs, o); err != nil {
		t.Fatal(err)
	}
	ds, err := shards.Open(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		r, err := ds.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.SamplerParams, `"frame_stats":true`) {
			t.Fatalf("%s: sampler params %s do not record frame_stats", id, r.SamplerParams)
		}
		var frames []int
		for _, p := range r.PatchPos {
			frames = append(frames, p.Frame)
		}
		frames = slices.Compact(slices.Sorted(slices.Values(frames)))
		path := filepath.Join(dir, map[string]string{"a": "a.mp4", "b": "b.mp4", "c": "a.mp4"}[id])
		want, ok := stats.Of(cliFrames(t, path, frames, r.PixelW, r.PixelH), r.PixelW, r.PixelH)
		if !ok || len(r.FrameStats) != len(stats.Names) {
			t.Fatalf("%s: %d frame statistics (oracle ok %v), want %d", id, len(r.FrameStats), ok, len(stats.Names))
		}
		for j, x := range want {
			if math.Abs(r.FrameStats[j]-x) > 1e-9*math.Max(1, math.Abs(x)) {
				t.Fatalf("%s: %s = %g, the CLI's frames give %g", id, stats.Names[j], r.FrameStats[j], x)
			}
		}
		s := o.Params.Size
		patches := make([][]byte, r.K)
		for i := range patches {
			patches[i] = r.Patches[i*s*s*3 : (i+1)*s*s*3]
		}
		if p, _ := stats.Of(patches, s, s); slices.Equal(p, r.FrameStats) {
			t.Fatalf("%s: frame statistics equal the patches' (%dx%d frames, %d patches of %d)", id, r.PixelW, r.PixelH, r.K, s)
		}
	}

	o = small(filepath.Join(t.TempDir(), "plain"))
	if _, _, err := Build(context.Background(), recs, o); err != nil {
		t.Fatal(err)
	}
	plain, err := shards.Open(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := plain.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	if r.FrameStats != nil || strings.Contains(r.SamplerParams, "frame_stats") {
		t.Fatalf("without frame_stats: %d statistics, sampler params %s", len(r.FrameStats), r.SamplerParams)
	}
}

// With FrameDeep each record's FrameStats are the whole-frame statistics
// followed by what FrameDeep returns for the very frames they were measured
// on (here a stand-in extractor: each frame's mean byte, averaged, and the
// frame count and size it saw); the manifest names the extractor, and an
// extractor's error fails that video alone.
func TestFrameDeep(t *testing.T) {
	testutil.RequireFFmpeg(t)
	_, recs := fixture(t)
	o := small(filepath.Join(t.TempDir(), "shards"))
	o.FrameStats = true
	o.FrameDeepName = "standin"
	o.FrameDeep = func(frames [][]byte, w, h int) ([]float64, error) {
		m := 0.0
		for _, f := range frames {
			if len(f) != w*h*3 {
				return nil, fmt.Errorf("frame of %d bytes, want %dx%dx3", len(f), w, h)
			}
			for _, b := range f {
				m += float64(b) / float64(len(f)*len(frames))
			}
		}
		return []float64{m, float64(len(frames)), float64(w), float64(h)}, nil
	}
	if _, _, err := Build(context.Background(), recs, o); err != nil {
		t.Fatal(err)
	}
	ds, err := shards.Open(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Manifest().FrameDeep(); got != "standin" {
		t.Fatalf("manifest frame_deep %q, want standin", got)
	}
	r, err := ds.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	n := len(stats.Names)
	if len(r.FrameStats) != n+4 {
		t.Fatalf("%d frame values, want %d statistics + 4 extractor values", len(r.FrameStats), n)
	}
	var frames []int
	for _, p := range r.PatchPos {
		frames = append(frames, p.Frame)
	}
	frames = slices.Compact(slices.Sorted(slices.Values(frames)))
	deep := r.FrameStats[n:]
	if int(deep[1]) != len(frames) || int(deep[2]) != r.PixelW || int(deep[3]) != r.PixelH {
		t.Fatalf("extractor saw %v frames of %vx%v, the patches come from %d frames of %dx%d", deep[1], deep[2], deep[3], len(frames), r.PixelW, r.PixelH)
	}
	if !(deep[0] > 1 && deep[0] < 254) {
		t.Fatalf("mean byte %g of a test pattern", deep[0])
	}

	o = small(filepath.Join(t.TempDir(), "failing"))
	o.FrameStats, o.FrameDeepName = true, "broken"
	o.FrameDeep = func(frames [][]byte, w, h int) ([]float64, error) { return nil, fmt.Errorf("stand-in failure") }
	_, sum, _ := Build(context.Background(), recs, o)
	if sum.Failed != len(recs) || sum.Written != 0 {
		t.Fatalf("an extractor that always fails: summary %+v, want all %d videos failed", sum, len(recs))
	}
	fs, err := shards.Open(o.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Manifest().Failures) != len(recs) || !strings.Contains(fmt.Sprint(fs.Manifest().Failures), "broken features: stand-in failure") {
		t.Fatalf("failures %v, want %d naming the extractor and its error", fs.Manifest().Failures, len(recs))
	}
}

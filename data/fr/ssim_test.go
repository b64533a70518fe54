package fr

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/testutil"
)

// ffmpegSSIM is the "All" figure of FFmpeg's ssim filter.
func ffmpegSSIM(t *testing.T, dist, ref string) float64 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-i", dist, "-i", ref, "-lavfi", "ssim", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg ssim: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`All:([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no SSIM in ffmpeg output:\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// Acceptance 4.1: the project's SSIM is within 1e-3 of ffmpeg's ssim filter on 3 fixtures.
func TestSSIMMatchesFFmpeg(t *testing.T) {
	dir := t.TempDir()
	ref := testutil.Clip(t, dir, "ref.mp4", "testsrc2=size=320x240:rate=25:duration=1", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p")
	mandel := testutil.Clip(t, dir, "mref.mp4", "mandelbrot=size=256x192:rate=25", "-t", "1", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p")
	cases := map[string][2]string{}
	d1 := dir + "/crf40.mp4"
	testutil.FFmpeg(t, "-i", ref, "-c:v", "libx264", "-crf", "40", "-preset", "veryfast", d1)
	cases["crf40"] = [2]string{d1, ref}
	d2 := dir + "/blur.mp4"
	testutil.FFmpeg(t, "-i", ref, "-vf", "gblur=sigma=2", "-c:v", "libx264", "-qp", "0", d2)
	cases["blur"] = [2]string{d2, ref}
	d3 := dir + "/noise.mp4"
	testutil.FFmpeg(t, "-i", mandel, "-vf", "noise=alls=30:allf=t:all_seed=5", "-c:v", "libx264", "-crf", "20", "-preset", "veryfast", d3)
	cases["noise"] = [2]string{d3, mandel}
	for name, c := range cases {
		ours, err := SSIMFiles(c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		want := ffmpegSSIM(t, c[0], c[1])
		if math.Abs(ours-want) > 1e-3 {
			t.Errorf("%s: ssim %.6f, ffmpeg %.6f", name, ours, want)
		}
		t.Logf("%s: ssim %.6f, ffmpeg %.6f", name, ours, want)
	}
}

// The window formula against a from-scratch float64 SSIM of one 8x8 window.
func TestWindowMatchesDirectFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b := make([]byte, 64), make([]byte, 64)
	for i := range a {
		a[i] = byte(r.IntN(256))
		b[i] = byte(min(255, max(0, int(a[i])+r.IntN(41)-20)))
	}
	got, err := SSIMPlane(video.Plane{W: 8, H: 8, Pix: a}, video.Plane{W: 8, H: 8, Pix: b})
	if err != nil {
		t.Fatal(err)
	}
	var ma, mb float64
	for i := range a {
		ma += float64(a[i]) / 64
		mb += float64(b[i]) / 64
	}
	var va, vb, cov float64
	for i := range a {
		da, db := float64(a[i])-ma, float64(b[i])-mb
		va += da * da / 64
		vb += db * db / 64
		cov += da * db / 64
	}
	// The integer form uses population moments scaled by 64²; C2 carries the 64/63 factor.
	c1, c2 := ssimC1/4096, ssimC2/4096
	want := (2*ma*mb + c1) * (2*cov + c2) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
	if math.Abs(got-want) > 1e-12 {
		t.Fatalf("window ssim %.15f, direct %.15f", got, want)
	}
	if s, _ := SSIMPlane(video.Plane{W: 8, H: 8, Pix: a}, video.Plane{W: 8, H: 8, Pix: a}); s != 1 {
		t.Fatalf("identical planes: %v", s)
	}
}

package baseline

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/internal/testutil"
)

const py = "/usr/bin/python3"

// requireScipy stops the test when the oracle's interpreter lacks scipy.
func requireScipy(t *testing.T) {
	t.Helper()
	if exec.Command(py, "-c", "import numpy, scipy.special").Run() != nil {
		testutil.MissingOracle(t, "python3-scipy for "+py)
	}
}

// oracle runs testdata/brisque_oracle.py and decodes its JSON into out.
func oracle(t *testing.T, out any, args ...string) {
	t.Helper()
	cmd := exec.Command(py, append([]string{"testdata/brisque_oracle.py"}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("oracle %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("oracle %s: %v", args[0], err)
	}
}

// near reports whether a and b agree to rel relative (plus a tiny
// absolute floor for values that are zero in exact arithmetic).
func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))+1e-12
}

func compareFeatures(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) || len(got) != len(nss.NSSNames) {
		t.Fatalf("%s: %d features, oracle %d, names %d", what, len(got), len(want), len(nss.NSSNames))
	}
	for i := range got {
		if !near(got[i], want[i], 1e-6) {
			t.Errorf("%s: %s = %.12g, oracle %.12g", what, nss.NSSNames[i], got[i], want[i])
		}
	}
}

// testImages are grey images with different statistics and odd sizes:
// white noise, a smooth gradient with mild noise, and a blocky image.
func testImages() map[string][3]any {
	r := rand.New(rand.NewPCG(1, 2))
	imgs := map[string][3]any{}
	mk := func(name string, w, h int, f func(x, y int) float64) {
		g := make([]float64, w*h)
		for y := range h {
			for x := range w {
				g[y*w+x] = math.Round(math.Min(255, math.Max(0, f(x, y))))
			}
		}
		imgs[name] = [3]any{g, w, h}
	}
	mk("noise", 64, 48, func(x, y int) float64 { return 128 + 40*r.NormFloat64() })
	mk("gradient", 81, 57, func(x, y int) float64 { return 2*float64(x) + float64(y) + 3*r.NormFloat64() })
	mk("blocks", 96, 65, func(x, y int) float64 { return float64((x/8*37 + y/8*91) % 256) })
	return imgs
}

func writeF64(t *testing.T, g []float64) string {
	t.Helper()
	b := make([]byte, 8*len(g))
	for i, x := range g {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	p := filepath.Join(t.TempDir(), "grey.f64")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNSSMatchesOracle: the Go features of grey images equal the numpy
// implementation written from the paper (literal window sums, slicing).
func TestNSSMatchesOracle(t *testing.T) {
	requireScipy(t)
	for name, im := range testImages() {
		g, w, h := im[0].([]float64), im[1].(int), im[2].(int)
		got, err := nss.FrameNSS(g, w, h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want []float64
		oracle(t, &want, "features", writeF64(t, g), strconv.Itoa(w), strconv.Itoa(h))
		compareFeatures(t, name, got, want)
	}
}

// TestExtractMatchesOracle decodes a generated clip with the project's
// decoder and the oracle with the ffmpeg CLI (rgb24 at the frames the test
// picks itself), and requires the same frame-averaged NSS features; the
// bit rate must equal ffprobe's video-stream bit_rate.
func TestExtractMatchesOracle(t *testing.T) {
	requireScipy(t)
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	clip := testutil.Clip(t, dir, "c.mp4", "testsrc2=size=176x112:rate=25:duration=2,noise=alls=12:allf=t",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p")
	const n, m = 50, 4
	cf, err := Extract("c", clip, m)
	if err != nil {
		t.Fatal(err)
	}
	var sel []string
	for i := range m {
		f := int((float64(i) + 0.5) * n / m) // centre of each of m equal segments
		sel = append(sel, fmt.Sprintf("eq(n\\,%d)", f))
		if cf.Indices[i] != f {
			t.Errorf("frame %d: decoded index %d, want %d", i, cf.Indices[i], f)
		}
	}
	raw := filepath.Join(dir, "frames.rgb")
	testutil.FFmpeg(t, "-i", clip, "-vf", "select="+strings.Join(sel, "+"), "-fps_mode", "passthrough",
		"-pix_fmt", "rgb24", "-f", "rawvideo", raw)
	var want []float64
	oracle(t, &want, "rgbframes", raw, "176", "112", strconv.Itoa(m))
	got := make([]float64, len(nss.NSSNames))
	for i, name := range nss.NSSNames {
		got[i] = cf.Features[name]
	}
	compareFeatures(t, "clip", got, want)

	// The describe signals: the mean of describe.Measure over the frames the
	// ffmpeg CLI decodes at the same indices.
	pix, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	fsz := 176 * 112 * 3
	if len(pix) != m*fsz {
		t.Fatalf("ffmpeg wrote %d bytes, want %d frames of %d", len(pix), m, fsz)
	}
	var frames [][]byte
	for i := range m {
		frames = append(frames, pix[i*fsz:(i+1)*fsz])
	}
	for i, w := range describe.Measure(frames, 176, 112).Values() {
		if g := cf.Features[describe.SignalNames[i]]; !near(g, w, 1e-3) {
			t.Errorf("%s = %.6g, describe.Measure of the CLI's frames %.6g", describe.SignalNames[i], g, w)
		}
	}

	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
		"stream=bit_rate", "-of", "default=nw=1:nk=1", clip).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	br, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe bit_rate %q: %v", out, err)
	}
	if kbps := cf.Features["bitrate_kbps"]; !near(kbps, br/1000, 2e-3) {
		t.Errorf("bitrate_kbps %.3f, ffprobe stream bit_rate %.0f b/s", kbps, br)
	}
	if bpps := cf.Features["bitrate_bpps"]; !near(bpps, cf.Features["bitrate_kbps"]*1000/(176*112), 1e-12) {
		t.Errorf("bitrate_bpps %g inconsistent with kbps", bpps)
	}
}

// TestRidgeMatchesOracle: lambda choice, leave-one-out MSEs and test
// predictions equal numpy's explicit refits (no hat-matrix shortcut),
// including a constant feature and one on a large scale, and with more
// features than rows (the kernel form FitRidge takes there).
func TestRidgeMatchesOracle(t *testing.T) {
	requireScipy(t)
	r := rand.New(rand.NewPCG(3, 4))
	mk := func(n, extra int) ([][]float64, []float64) {
		X := make([][]float64, n)
		y := make([]float64, n)
		for i := range X {
			X[i] = []float64{r.NormFloat64(), 1000 + 300*r.NormFloat64(), r.Float64(), 7, r.NormFloat64(), r.NormFloat64()}
			for range extra {
				X[i] = append(X[i], r.NormFloat64()+0.3*X[i][0])
			}
			y[i] = 3 + 0.5*X[i][0] - 0.002*X[i][1] + 0.4*r.NormFloat64()
		}
		return X, y
	}
	for _, c := range []struct{ n, extra int }{{12, 0}, {40, 0}, {10, 30}} {
		n := c.n
		X, y := mk(n, c.extra)
		Xt, _ := mk(9, c.extra)
		spec := map[string]any{"x_train": X, "y_train": y, "x_test": Xt, "grid": DefaultLambdas}
		b, _ := json.Marshal(spec)
		in := filepath.Join(t.TempDir(), "ridge.json")
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var want struct {
			LOOMSE []float64 `json:"loo_mse"`
			Lambda float64   `json:"lambda"`
			Pred   []float64 `json:"pred"`
		}
		oracle(t, &want, "ridge", in)
		got, err := FitRidge(X, y, DefaultLambdas)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.LOOMSE {
			if !near(got.LOOMSE[i], want.LOOMSE[i], 1e-9) {
				t.Errorf("n=%d lambda %g: LOO MSE %.12g, oracle %.12g", n, DefaultLambdas[i], got.LOOMSE[i], want.LOOMSE[i])
			}
		}
		if got.Lambda != want.Lambda {
			t.Errorf("n=%d: chose lambda %g, oracle %g", n, got.Lambda, want.Lambda)
		}
		for i, x := range Xt {
			if p := got.Predict(x); !near(p, want.Pred[i], 1e-9) {
				t.Errorf("n=%d: prediction %d = %.12g, oracle %.12g", n, i, p, want.Pred[i])
			}
		}
	}
}

// TestKRRMatchesOracle: the kernel ridge's choice of gamma and lambda, its
// leave-one-out MSE and its test predictions equal numpy's explicit refits
// of the dual problem with the intercept as a constraint (no kernel
// centring, no hat-matrix shortcut), on a non-linear target, with a
// constant feature and one on a large scale.
func TestKRRMatchesOracle(t *testing.T) {
	requireScipy(t)
	r := rand.New(rand.NewPCG(5, 6))
	mk := func(n int) ([][]float64, []float64) {
		X := make([][]float64, n)
		y := make([]float64, n)
		for i := range X {
			X[i] = []float64{r.NormFloat64(), 1000 + 300*r.NormFloat64(), r.Float64(), 7, r.NormFloat64()}
			y[i] = 3 + math.Sin(2*X[i][0]) - 0.002*X[i][1] + 0.2*r.NormFloat64()
		}
		return X, y
	}
	grid := DefaultLambdas[:11] // 1e-3 ... 1e2: the oracle refits every row per value
	for _, n := range []int{12, 30} {
		X, y := mk(n)
		Xt, _ := mk(7)
		b, _ := json.Marshal(map[string]any{"x_train": X, "y_train": y, "x_test": Xt, "grid": grid, "gamma_scales": DefaultGammaScales})
		in := filepath.Join(t.TempDir(), "krr.json")
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var want struct {
			LOOMSE float64   `json:"loo_mse"`
			Gamma  float64   `json:"gamma"`
			Lambda float64   `json:"lambda"`
			Pred   []float64 `json:"pred"`
		}
		oracle(t, &want, "krr", in)
		got, err := FitKRR(X, y, grid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Gamma != want.Gamma || got.Lambda != want.Lambda || !near(got.LOOMSE, want.LOOMSE, 1e-8) {
			t.Errorf("n=%d: gamma %g lambda %g LOO MSE %.12g; oracle %g %g %.12g", n, got.Gamma, got.Lambda, got.LOOMSE, want.Gamma, want.Lambda, want.LOOMSE)
		}
		for i, x := range Xt {
			if p := got.Predict(x); !near(p, want.Pred[i], 1e-8) {
				t.Errorf("n=%d: prediction %d = %.12g, oracle %.12g", n, i, p, want.Pred[i])
			}
		}
	}
}

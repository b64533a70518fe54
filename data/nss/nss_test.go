package nss

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// FitGGD/FitAGGD recover the shape of known distributions: Gaussian 2,
// Laplacian 1, and an asymmetric Gaussian's two scales.
func TestFitsRecoverKnownShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 200000
	gauss, lap, asym := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		gauss[i] = 2 * r.NormFloat64()
		lap[i] = r.ExpFloat64() * float64(1-2*r.IntN(2))
		// An AGGD of shape 2: a side's mass is proportional to its scale.
		if z := math.Abs(r.NormFloat64()); r.Float64() < 0.5/(0.5+1.5) {
			asym[i] = -0.5 * z
		} else {
			asym[i] = 1.5 * z
		}
	}
	if a, v := FitGGD(gauss); math.Abs(a-2) > 0.05 || math.Abs(v-4) > 0.1 {
		t.Errorf("Gaussian: shape %.3f variance %.3f, want 2 and 4", a, v)
	}
	if a, _ := FitGGD(lap); math.Abs(a-1) > 0.05 {
		t.Errorf("Laplacian: shape %.3f, want 1", a)
	}
	g := FitAGGD(asym)
	if math.Abs(g.Shape-2) > 0.05 || math.Abs(g.LeftVar-0.25) > 0.01 || math.Abs(g.RightVar-2.25) > 0.05 {
		t.Errorf("asymmetric Gaussian: %+v, want shape 2, variances 0.25 and 2.25", g)
	}
	// Its mean (1.5 - 0.5) * sqrt(2/pi) = 0.798.
	if math.Abs(g.Mean-0.798) > 0.02 {
		t.Errorf("asymmetric Gaussian mean %.3f, want 0.798", g.Mean)
	}
}

func TestFrameNSSRejectsFlatAndTiny(t *testing.T) {
	flat := make([]float64, 40*30)
	for i := range flat {
		flat[i] = 77
	}
	if _, err := FrameNSS(flat, 40, 30); err == nil || !strings.Contains(err.Error(), "flat") {
		t.Errorf("flat frame: err %v, want a degenerate-frame error", err)
	}
	if _, err := FrameNSS(make([]float64, 6*6), 6, 6); err == nil {
		t.Error("6x6 frame: want an error")
	}
}

// PatchStats averages FrameNSS over the patches, leaving flat ones out, and
// reports a clip with no usable patch instead of inventing statistics.
func TestPatchStats(t *testing.T) {
	const s = 32
	r := rand.New(rand.NewPCG(1, 2))
	noise := func(amp float64) []byte {
		p := make([]byte, s*s*3)
		for i := range s * s {
			v := byte(min(255, max(0, 128+amp*r.NormFloat64())))
			p[3*i], p[3*i+1], p[3*i+2] = v, v, v
		}
		return p
	}
	flat := make([]byte, s*s*3)
	for i := range flat {
		flat[i] = 40
	}
	a, b := noise(20), noise(5)
	got, ok, err := PatchStats(append(append(append([]byte{}, a...), flat...), b...), 3, s)
	if err != nil || !ok {
		t.Fatalf("PatchStats: ok %v err %v", ok, err)
	}
	fa, _ := FrameNSS(Grey(a, s, s), s, s)
	fb, _ := FrameNSS(Grey(b, s, s), s, s)
	for j := range got {
		if want := (fa[j] + fb[j]) / 2; math.Abs(got[j]-want) > 1e-12*max(1, math.Abs(want)) {
			t.Errorf("%s = %g, want the mean of the two textured patches %g", NSSNames[j], got[j], want)
		}
	}
	if _, ok, err := PatchStats(append(append([]byte{}, flat...), flat...), 2, s); ok || err != nil {
		t.Errorf("only flat patches: ok %v err %v, want no statistics and no error", ok, err)
	}
	if _, _, err := PatchStats(flat[:10], 1, s); err == nil || !strings.Contains(err.Error(), "10 bytes") {
		t.Errorf("short buffer: err %v", err)
	}
}

func BenchmarkPatchStats224(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 8*224*224*3)
	for i := range p {
		p[i] = byte(r.IntN(256))
	}
	for b.Loop() {
		if _, _, err := PatchStats(p, 8, 224); err != nil {
			b.Fatal(err)
		}
	}
}

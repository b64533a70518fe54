package stats

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
)

func noise(rng *rand.Rand, w, h int) []byte {
	f := make([]byte, w*h*3)
	for i := range f {
		f[i] = byte(rng.IntN(256))
	}
	return f
}

// Of is the NSS of the frames that have them (a flat frame is left out of
// their mean), then the signals of every frame; all-flat frames have none.
func TestOf(t *testing.T) {
	const w, h = 48, 32
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := noise(rng, w, h), noise(rng, w, h)
	flat := make([]byte, w*h*3)
	for i := range flat {
		flat[i] = 90
	}
	got, ok := Of([][]byte{a, flat, b}, w, h)
	if !ok || len(got) != len(Names) || len(Names) != len(nss.NSSNames)+len(describe.SignalNames) {
		t.Fatalf("ok %v, %d values, %d names", ok, len(got), len(Names))
	}
	va, _ := nss.FrameNSS(nss.Grey(a, w, h), w, h)
	vb, _ := nss.FrameNSS(nss.Grey(b, w, h), w, h)
	for j := range nss.NSSNames {
		if want := (va[j] + vb[j]) / 2; got[j] != want {
			t.Fatalf("%s = %g, want the mean of the two textured frames' %g", Names[j], got[j], want)
		}
	}
	sig := describe.Measure([][]byte{a, flat, b}, w, h).Values()
	if !slices.Equal(got[len(nss.NSSNames):], sig) {
		t.Fatalf("signals %v, want those of all three frames %v", got[len(nss.NSSNames):], sig)
	}
	if _, ok := Of([][]byte{flat, flat}, w, h); ok {
		t.Fatal("all-flat frames have statistics")
	}
}

// The cost frame statistics add per clip: 8 frames of 960x540 (a 540p
// clip's pixel view).
func BenchmarkOf8x540p(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	frames := make([][]byte, 8)
	for i := range frames {
		frames[i] = noise(rng, 960, 540)
	}
	b.ResetTimer()
	for range b.N {
		if _, ok := Of(frames, 960, 540); !ok {
			b.Fatal("no statistics")
		}
	}
}

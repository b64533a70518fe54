package describe

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// field is the test's own map from a kind to the signal behind it.
func field(k Kind, s Signals) (float64, bool) {
	switch k {
	case KindSharpness:
		return s.Sharpness, true
	case KindNoise:
		return s.Noise, true
	case KindBlocking:
		return s.Blockiness, true
	case KindExposure:
		return s.MeanLuma, true
	case KindShadows:
		return s.DarkFrac, true
	case KindHighlights:
		return s.BrightFrac, true
	case KindContrast:
		return s.Contrast, true
	case KindColour:
		return s.Colorfulness, true
	}
	return 0, false
}

// wordFor looks v up in the table independently of Scale.Band.
func wordFor(t *testing.T, k Kind, v float64) (string, bool) {
	for _, sc := range Scales {
		if sc.Kind != k {
			continue
		}
		lo := math.Inf(-1)
		for _, b := range sc.Bands {
			if v >= lo && v < b.Upper {
				return b.Word, b.Silent
			}
			lo = b.Upper
		}
	}
	t.Fatalf("no band for %s %g", k, v)
	return "", false
}

// levelFor is the level of the nearest anchor 1..5, written out apart from
// levels.Word: cut points at 1.5, 2.5, 3.5, 4.5, ties up.
func levelFor(mos float64) string {
	for _, l := range []struct {
		word string
		hi   float64
	}{{"bad", 1.5}, {"poor", 2.5}, {"fair", 3.5}, {"good", 4.5}} {
		if mos < l.hi {
			return l.word
		}
	}
	return "excellent"
}

// randomSignals spans every band, hitting the cut points exactly now and then.
func randomSignals(rng *rand.Rand) Signals {
	pick := func(k Kind, lo, hi float64) float64 {
		if rng.IntN(5) == 0 {
			for _, sc := range Scales {
				if sc.Kind == k {
					return sc.Bands[rng.IntN(len(sc.Bands)-1)].Upper
				}
			}
		}
		return lo + rng.Float64()*(hi-lo)
	}
	return Signals{
		Sharpness:    pick(KindSharpness, 0, 400),
		Noise:        pick(KindNoise, 0, 8),
		Blockiness:   pick(KindBlocking, 0.9, 1.7),
		MeanLuma:     pick(KindExposure, 0, 255),
		DarkFrac:     pick(KindShadows, 0, 1),
		BrightFrac:   pick(KindHighlights, 0, 0.5),
		Contrast:     pick(KindContrast, 0, 100),
		Colorfulness: pick(KindColour, 0, 120),
		Frames:       8,
	}
}

func TestScalesTable(t *testing.T) {
	seen := map[Kind]bool{}
	for _, sc := range Scales {
		if seen[sc.Kind] {
			t.Errorf("%s twice", sc.Kind)
		}
		seen[sc.Kind] = true
		for i, b := range sc.Bands {
			if i > 0 && b.Upper <= sc.Bands[i-1].Upper {
				t.Errorf("%s: bands not ascending", sc.Kind)
			}
			if !b.Silent && b.Word == "" {
				t.Errorf("%s: band %d has no word", sc.Kind, i)
			}
		}
		if !math.IsInf(sc.Bands[len(sc.Bands)-1].Upper, 1) {
			t.Errorf("%s: last band is not open-ended", sc.Kind)
		}
		if _, ok := clauses[sc.Kind]; !ok {
			t.Errorf("%s: no clause templates", sc.Kind)
		}
	}
}

// Acceptance: every statement is true of the measurement behind it and its
// words are in the text, for many signal vectors and seeds.
func TestStatementsAreTrue(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := range 3000 {
		f := Facts{MOS: 1 + 4*rng.Float64(), Width: 1 + rng.IntN(3840), Height: 1 + rng.IntN(2160),
			FPS: []float64{0, 24, 25, 29.97, 30, 59.94}[rng.IntN(6)], Signals: randomSignals(rng)}
		if n%3 == 0 {
			crf := rng.IntN(52)
			f.CRF = &crf
		}
		if n%17 == 0 {
			f.MOS = 0
		}
		seed := rng.Uint64()
		d := Describe(f, seed)
		kinds := map[Kind]int{}
		for _, st := range d.Statements {
			kinds[st.Kind]++
			if !strings.Contains(d.Text, st.Word) {
				t.Fatalf("seed %d: %q not in %q", seed, st.Word, d.Text)
			}
			switch st.Kind {
			case KindQuality:
				if st.Value != f.MOS || st.Word != levelFor(f.MOS) {
					t.Fatalf("quality statement %+v for MOS %g", st, f.MOS)
				}
			case KindFormat:
				want := fmt.Sprintf("%dx%d", f.Width, f.Height)
				if f.FPS > 0 {
					want += fmt.Sprintf(" at %s fps", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f.FPS), "0"), "."))
				}
				if st.Word != want {
					t.Fatalf("format %q, want %q", st.Word, want)
				}
			case KindEncoding:
				if f.CRF == nil || st.Word != fmt.Sprintf("re-encoded with H.264 at CRF %d", *f.CRF) {
					t.Fatalf("encoding statement %+v for CRF %v", st, f.CRF)
				}
			default:
				v, ok := field(st.Kind, f.Signals)
				if !ok || v != st.Value {
					t.Fatalf("%s statement value %g, signal %g", st.Kind, st.Value, v)
				}
				if w, silent := wordFor(t, st.Kind, v); silent || w != st.Word {
					t.Fatalf("%s %g: said %q, table says %q (silent %v)", st.Kind, v, st.Word, w, silent)
				}
			}
		}
		// Every non-silent signal is described exactly once.
		for _, sc := range Scales {
			v, _ := field(sc.Kind, f.Signals)
			_, silent := wordFor(t, sc.Kind, v)
			if want := map[bool]int{true: 0, false: 1}[silent]; kinds[sc.Kind] != want {
				t.Fatalf("%s (%g) stated %d times in %q", sc.Kind, v, kinds[sc.Kind], d.Text)
			}
		}
		if kinds[KindQuality] != map[bool]int{true: 1, false: 0}[f.MOS > 0] || kinds[KindFormat] != 1 ||
			kinds[KindEncoding] != map[bool]int{true: 1, false: 0}[f.CRF != nil] {
			t.Fatalf("clip statements %v for %+v", kinds, f)
		}
	}
}

func TestDescribeDeterministicAndVaried(t *testing.T) {
	crf := 41
	f := Facts{MOS: 2.3, Width: 1280, Height: 720, FPS: 30, CRF: &crf,
		Signals: Signals{Sharpness: 60, Noise: 1, Blockiness: 1.5, MeanLuma: 120, DarkFrac: 0.2, Contrast: 50, Colorfulness: 40}}
	texts := map[string]bool{}
	for seed := range uint64(40) {
		a, b := Describe(f, seed), Describe(f, seed)
		if a.Text != b.Text || fmt.Sprint(a.Statements) != fmt.Sprint(b.Statements) {
			t.Fatalf("seed %d: two different descriptions", seed)
		}
		texts[a.Text] = true
	}
	if len(texts) < 30 {
		t.Errorf("only %d distinct texts for 40 seeds", len(texts))
	}
	d := Describe(f, 1)
	for _, w := range []string{"poor", "1280x720 at 30 fps", "re-encoded with H.264 at CRF 41", "slightly soft", "strong blocking"} {
		if !strings.Contains(d.Text, w) {
			t.Errorf("%q missing from %q", w, d.Text)
		}
	}
	t.Log(d.Text)
}

func ExampleDescribe() {
	crf := 41
	d := Describe(Facts{MOS: 2.3, Width: 1280, Height: 720, FPS: 30, CRF: &crf,
		Signals: Signals{Sharpness: 60, Noise: 1, Blockiness: 1.5, MeanLuma: 120, DarkFrac: 0.02, Contrast: 50, Colorfulness: 40}}, 7)
	fmt.Println(d.Text)
	// Output:
	// The visual quality is poor. It was re-encoded with H.264 at CRF 41. The video is 1280x720 at 30 fps. The image is clean. The tones show moderate contrast. The palette has natural colours; there is strong blocking. The footage looks well exposed. Fine textures look slightly soft.
}

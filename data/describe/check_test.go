package describe

import (
	"math/rand/v2"
	"testing"

	"github.com/cpllm/cpllm/internal/levels"
)

// A text Describe wrote from the same signals and MOS passes every check.
func TestCheckTextOfTrueDescriptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 2000 {
		f := randomFacts(rng, n)
		d := Describe(f, rng.Uint64())
		g := CheckText(d.Text, f.Signals, levels.Word(f.MOS))
		stated := 0
		for _, st := range d.Statements {
			if _, ok := field(st.Kind, f.Signals); ok {
				stated++
			}
		}
		if len(g.Claims) != stated {
			t.Fatalf("%d claims, %d signal statements: %q %+v", len(g.Claims), stated, d.Text, g.Claims)
		}
		for _, c := range g.Claims {
			if !c.Right {
				t.Fatalf("true statement graded wrong: %+v in %q", c, d.Text)
			}
		}
		if !g.QualityAgrees || g.Quality != levels.Word(f.MOS) {
			t.Fatalf("quality %q (agrees %v), MOS %.2f: %q", g.Quality, g.QualityAgrees, f.MOS, d.Text)
		}
		if len(g.Unmentioned) != 0 || g.Repeats != 0 {
			t.Fatalf("unmentioned %v: %q", g.Unmentioned, d.Text)
		}
		if want := f.Width > 0 || f.CRF != nil; g.FileFacts != want {
			t.Fatalf("file facts %v, want %v: %q", g.FileFacts, want, d.Text)
		}
	}
}

// Wrong, contradictory and missing words are caught; a word inside a longer
// one counts once.
func TestCheckTextCatchesErrors(t *testing.T) {
	s := Signals{Sharpness: 300, Noise: 3, Blockiness: 1, MeanLuma: 120, Contrast: 50, Colorfulness: 40}
	g := CheckText("The picture looks blurry. The image is slightly noisy. The quality is poor. It is 640x360.", s, "good")
	want := map[Kind]Claim{
		KindSharpness: {KindSharpness, "blurry", "sharp", false},
		KindNoise:     {KindNoise, "slightly noisy", "slightly noisy", true},
	}
	if len(g.Claims) != len(want) {
		t.Fatalf("claims %+v", g.Claims)
	}
	for _, c := range g.Claims {
		if c != want[c.Kind] {
			t.Errorf("claim %+v, want %+v", c, want[c.Kind])
		}
	}
	if g.Quality != "poor" || g.QualityAgrees || !g.FileFacts {
		t.Errorf("grade %+v", g)
	}
	if len(g.Unmentioned) != 4 { // blocking, exposure, contrast, colour
		t.Errorf("unmentioned %v", g.Unmentioned)
	}
	if g.Repeats != 0 {
		t.Errorf("repeats %d", g.Repeats)
	}
	if g := CheckText("The image is clean. The image is clean; the image is clean. The picture looks sharp. The image is clean.", s, "good"); g.Repeats != 3 {
		t.Errorf("repeats %d, want 3", g.Repeats)
	}
	g = CheckText("Details appear sharp and blurry.", s, "good")
	if len(g.Claims) != 2 || g.Claims[0].Right == g.Claims[1].Right {
		t.Errorf("contradiction: %+v", g.Claims)
	}
	sum := Summarise([]Grade{g, CheckText("", s, "good")})
	if sum.Texts != 2 || sum.Repeating != 0 || sum.Claims != 2 || sum.Right != 1 || *sum.Accuracy != 0.5 || sum.QualityStated != 0 {
		t.Errorf("summary %+v", sum)
	}
	if Summarise([]Grade{CheckText("", s, "good")}).Accuracy != nil {
		t.Error("accuracy without claims should be null")
	}
}

package describe

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/levels"
)

// The canonical rewrite of a Describe text keeps every statement but the
// file facts: graded against the same measurements it is all right, names
// the same level, mentions every non-silent signal, and repeats nothing.
func TestCanonicalKeepsTheFacts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for n := range 3000 {
		f := randomFacts(rng, n)
		if n%7 == 0 {
			f.MOS = 0
		}
		d := Describe(f, rng.Uint64())
		c := CanonicalText(d.Text, n%2 == 0)
		level := ""
		if f.MOS > 0 {
			level = levels.Word(f.MOS)
		}
		g := CheckText(c, f.Signals, level)
		want := 0
		for _, st := range d.Statements {
			if _, ok := field(st.Kind, f.Signals); ok {
				want++
			}
		}
		if len(g.Claims) != want || len(g.Unmentioned) != 0 || g.FileFacts || g.Repeats != 0 || g.Quality != level {
			t.Fatalf("%q -> %q: grade %+v (want %d claims, level %q)", d.Text, c, g, want, level)
		}
		for _, cl := range g.Claims {
			if !cl.Right {
				t.Fatalf("%q -> %q: %+v", d.Text, c, cl)
			}
		}
		for _, w := range []string{"video", "image", "clip", "footage"} {
			if strings.Contains(c, w) {
				t.Fatalf("%q names the subject (%s)", c, w)
			}
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	for _, c := range []struct {
		q     string
		words map[Kind]string
		want  string
	}{
		{"good", map[Kind]string{KindSharpness: "sharp", KindNoise: "clean", KindExposure: "well exposed", KindBlocking: "no visible compression artifacts",
			KindContrast: "moderate contrast", KindColour: "natural colours", KindShadows: "some crushed shadows"},
			"The quality is good. The picture is sharp, clean and well exposed, with no visible compression artifacts, moderate contrast and natural colours. There are some crushed shadows."},
		{"", map[Kind]string{KindNoise: "noisy", KindColour: "muted colours"}, "The picture is noisy, with muted colours."},
		{"bad", map[Kind]string{KindBlocking: "strong blocking", KindHighlights: "large blown-out areas", KindShadows: "some crushed shadows"},
			"The quality is bad. The picture has strong blocking. There are some crushed shadows and large blown-out areas."},
	} {
		if got := Canonical(c.q, c.words); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if got := CanonicalText("A hand-written note.", false); got != "A hand-written note." {
		t.Errorf("text without statements: %q", got)
	}
}

package describe

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// sentences splits a Describe text at its sentence ends (". " followed by an
// upper-case letter; decimals such as 29.97 and H.264 stay whole).
func sentences(text string) []string {
	return strings.Split(regexp.MustCompile(`\. ([A-Z])`).ReplaceAllString(text, ".\n$1"), "\n")
}

func randomFacts(rng *rand.Rand, n int) Facts {
	f := Facts{MOS: 1 + 4*rng.Float64(), Width: 1 + rng.IntN(3840), Height: 1 + rng.IntN(2160),
		FPS: []float64{0, 24, 25, 29.97, 30, 59.94}[rng.IntN(6)], Signals: randomSignals(rng)}
	if n%2 == 0 {
		crf := rng.IntN(52)
		f.CRF = &crf
	}
	if n%5 == 0 {
		f.Width = 0
	}
	return f
}

// Observable drops exactly the format and encoding sentences: every other
// sentence survives verbatim and in order, and no file fact is left.
func TestObservable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 2000 {
		f := randomFacts(rng, n)
		d := Describe(f, rng.Uint64())
		got := Observable(d.Text, false)
		if fileFactWordRE.MatchString(got) {
			t.Fatalf("file fact left: %q -> %q", d.Text, got)
		}
		var want []string
		for _, s := range sentences(d.Text) {
			if !fileFactWordRE.MatchString(s) {
				want = append(want, s)
			}
		}
		if w := strings.Join(want, " "); got != w {
			t.Fatalf("Observable(%q)\n got %q\nwant %q", d.Text, got, w)
		}
		for _, st := range d.Statements {
			if st.Kind != KindFormat && st.Kind != KindEncoding && !strings.Contains(got, st.Word) {
				t.Fatalf("%s word %q lost: %q", st.Kind, st.Word, got)
			}
		}
		if f.Width == 0 && f.CRF == nil && got != d.Text {
			t.Fatalf("text without file facts changed: %q -> %q", d.Text, got)
		}
	}
	if got := Observable("a hand-written text. It is fine.", false); got != "a hand-written text. It is fine." {
		t.Errorf("foreign text changed: %q", got)
	}
}

// For a still image no template's noun for a moving picture is left, and
// the statements' words are untouched.
func TestObservableStill(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	noun := regexp.MustCompile(`(?i)\b(video|footage|clip|frames)\b`)
	for n := range 2000 {
		d := Describe(randomFacts(rng, n), rng.Uint64())
		got := Observable(d.Text, true)
		if m := noun.FindString(got); m != "" {
			t.Fatalf("%q left in %q", m, got)
		}
		for _, st := range d.Statements {
			if st.Kind != KindFormat && st.Kind != KindEncoding && !strings.Contains(got, st.Word) {
				t.Fatalf("%s word %q lost: %q", st.Kind, st.Word, got)
			}
		}
	}
}

package metrics

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

type wilsonCase struct {
	K      int     `json:"k"`
	N      int     `json:"n"`
	Value  float64 `json:"value"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
}

func readWilson(t *testing.T, path string) []wilsonCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []wilsonCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc.Cases
}

// Wilson against the formula evaluated in Python (testdata/gen_wilson.py),
// and each bound against the interval's definition: the two roots in pi of
// (k/n - pi)^2 = z^2 pi (1 - pi) / n.
func TestWilson(t *testing.T) {
	cases := readWilson(t, "testdata/wilson_fixtures.json")
	if len(cases) < 10 {
		t.Fatalf("only %d cases", len(cases))
	}
	const z = 1.959963984540054
	for _, c := range cases {
		w, err := Wilson(c.K, c.N)
		if err != nil {
			t.Fatal(err)
		}
		if w.K != c.K || w.N != c.N || math.Abs(w.Value-c.Value) > 1e-15 ||
			math.Abs(w.CILow-c.CILow) > 1e-12 || math.Abs(w.CIHigh-c.CIHigh) > 1e-12 {
			t.Errorf("%d/%d: got %+v, python %+v", c.K, c.N, w, c)
		}
		p, n := float64(c.K)/float64(c.N), float64(c.N)
		for _, pi := range []float64{w.CILow, w.CIHigh} {
			if d := (p-pi)*(p-pi) - z*z*pi*(1-pi)/n; math.Abs(d) > 1e-12 {
				t.Errorf("%d/%d: bound %v is not a root (residual %g)", c.K, c.N, pi, d)
			}
		}
		if !(w.CILow <= w.Value && w.Value <= w.CIHigh) {
			t.Errorf("%d/%d: %+v does not contain the estimate", c.K, c.N, w)
		}
	}
	if w, _ := Wilson(0, 0); !math.IsNaN(w.Value) || !math.IsNaN(w.CILow) {
		t.Errorf("0 of 0: %+v", w)
	}
	if _, err := Wilson(3, 2); err == nil {
		t.Error("3 of 2: want an error")
	}
}

// The committed Wilson fixtures are what the generator writes.
func TestWilsonFixturesRegenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	py := testutil.RequireScipy(t, "1.10.")
	out := filepath.Join(t.TempDir(), "wilson.json")
	if b, err := exec.Command(py, "testdata/gen_wilson.py", out).CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	got, want := readWilson(t, out), readWilson(t, "testdata/wilson_fixtures.json")
	if len(got) != len(want) {
		t.Fatalf("%d cases regenerated, %d committed", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("case %d: regenerated %+v, committed %+v", i, got[i], want[i])
		}
	}
}

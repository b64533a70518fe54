package sweep

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/partition"
)

const tunedVariant = `  - name: tuned
    init: both
    train: {lr: 1.0e-4}
`

// A variant with init starts from the same seed's cell of the named
// variant, after every cell of the stage before it (two jobs here), and its
// fingerprint follows the init cell's.
func TestSweepInitStage(t *testing.T) {
	f := newFixture(t, tunedVariant)
	e := mustLoad(t, f.Exp, 1)
	out := t.TempDir()

	// Alone (its partition holds only the tuned cell), it refuses to start.
	cells := e.Cells()
	if cells[2].Variant.Name != "tuned" {
		t.Fatalf("cells %+v", cells)
	}
	_, err := Run(context.Background(), e, Options{Out: out, Shard: partition.Spec{I: 2, N: 3}})
	if err == nil || !strings.Contains(err.Error(), "init cell") || !strings.Contains(err.Error(), "not done") {
		t.Fatalf("tuned without its init cell: %v", err)
	}

	if s := runSweep(t, e, Options{Out: out, Jobs: 2}); s.Trained != 3 || s.Failed != 0 {
		t.Fatalf("summary %+v", s)
	}
	log, err := os.ReadFile(filepath.Join(e.Dir(out, cells[2]), "train.log"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "initialised the weights from " + e.Dir(out, cells[0]); !strings.Contains(string(log), want) {
		t.Fatalf("train.log of tuned lacks %q:\n%s", want, log)
	}
	for _, c := range cells[:2] {
		if l, _ := os.ReadFile(filepath.Join(e.Dir(out, c), "train.log")); strings.Contains(string(l), "initialised") {
			t.Fatalf("%s was initialised: %s", c.Variant.Name, l)
		}
	}

	// Another recipe for the init variant changes the tuned cell's identity.
	g := newFixture(t, tunedVariant)
	body, _ := os.ReadFile(g.Exp)
	g.writeExp(t, "exp.yaml", strings.Replace(string(body), "  - name: both\n", "  - name: both\n    train: {lr: 2.0e-3}\n", 1))
	e2 := mustLoad(t, g.Exp, 1)
	fp1, err1 := e.fingerprint(cells[2])
	fp2, err2 := e2.fingerprint(e2.Cells()[2])
	if err1 != nil || err2 != nil || fp1 == fp2 {
		t.Fatalf("tuned fingerprints %s / %s (%v %v): the init cell's recipe is not in it", fp1, fp2, err1, err2)
	}
}

// init must name a variant listed before the one that uses it.
func TestSweepInitValidated(t *testing.T) {
	for _, c := range []struct{ extra, want string }{
		{"  - name: tuned\n    init: nosuch\n", `init "nosuch" is not a variant listed before it`},
		{"  - name: tuned\n    init: later\n  - name: later\n", `init "later" is not a variant listed before it`},
		{"  - name: tuned\n    init: tuned\n", `init "tuned" is not a variant listed before it`},
	} {
		f := newFixture(t, c.extra)
		_, err := Load(f.Exp, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "exp.yaml:") {
			t.Errorf("%q: %v", c.extra, err)
		}
	}
}

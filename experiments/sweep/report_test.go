package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/model"
)

// fakeCells writes done cells with chosen predictions (no training):
// pred(variant, seed, i, mos).
func fakeCells(t *testing.T, e *Experiment, out string, pred func(v string, seed, i int, mos float64) float64) {
	t.Helper()
	for _, c := range e.Cells() {
		dir := e.Dir(out, c)
		os.MkdirAll(filepath.Join(dir, PredDir), 0o755)
		mc, _, my, ty, err := c.Variant.cellConfigs(c.Seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := model.WriteModelFiles(dir, mc, my); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, TrainFile), ty, 0o644)
		os.WriteFile(filepath.Join(dir, DoneFile), []byte("{}\n"), 0o644)
		var rows []predictions.Row
		for i := range 20 {
			mos := 1 + 4*float64((i*7)%20)/19
			rows = append(rows, predictions.Row{ID: fmt.Sprintf("v%02d", i), Pred: pred(c.Variant.Name, c.Seed, i, mos), MOS: mos})
		}
		f, _ := os.Create(filepath.Join(dir, PredDir, "test.csv"))
		predictions.Write(f, rows)
		f.Close()
	}
}

// A report over hand-made predictions: a constant-prediction variant gives
// n/a (JSON null) and leaves the Holm family; Holm over two comparisons
// doubles the smaller p-value.
func TestReportNaNAndHolm(t *testing.T) {
	f := newFixture(t, "  - name: ctx\n    model: {variant.encoders: context-only}\n  - name: flat\n    model: {variant.encoders: context-only}\n")
	e := mustLoad(t, f.Exp, 3)
	out := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 4))
	noise := map[string]float64{"both": 0.8, "pixel": 2.5, "ctx": 0.3}
	fakeCells(t, e, out, func(v string, seed, i int, mos float64) float64 {
		if v == "flat" {
			return 3
		}
		return mos + noise[v]*rng.NormFloat64()
	})
	rep, err := BuildReport(e, out, ReportOptions{Resamples: 200, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(e.ReportDir(out), rep); err != nil {
		t.Fatal(err)
	}
	rows := rep.Eval[0].Variants
	flat := rows[3]
	if !math.IsNaN(flat.SRCC.Summary.Mean) || !math.IsNaN(float64(flat.Tests[0].P)) || flat.Tests[0].Significant || flat.Tests[0].Name != "t-test" {
		t.Fatalf("constant predictions: %+v", flat)
	}
	// the t-test family on SRCC: pixel and ctx (flat is NaN, left out)
	var ps, holm []float64
	for _, v := range rows[1:3] {
		ps, holm = append(ps, float64(v.Tests[0].P)), append(holm, float64(v.Tests[0].Holm))
	}
	lo, hi := min(ps[0], ps[1]), max(ps[0], ps[1])
	wantLo, wantHi := min(1, 2*lo), max(min(1, 2*lo), hi)
	gotLo, gotHi := holm[0], holm[1]
	if ps[1] < ps[0] {
		gotLo, gotHi = holm[1], holm[0]
	}
	if math.Abs(gotLo-wantLo) > 1e-15 || math.Abs(gotHi-wantHi) > 1e-15 {
		t.Fatalf("holm %v for p %v, want %v %v", holm, ps, wantLo, wantHi)
	}
	// ctx is far better than the baseline on the seed-mean predictions
	if w := find(rows[2], "williams", "srcc"); w.P > 0.05 || !w.Significant {
		t.Fatalf("ctx vs baseline: %+v", rows[2].Tests)
	}
	js, _ := os.ReadFile(filepath.Join(e.ReportDir(out), "report.json"))
	md, _ := os.ReadFile(filepath.Join(e.ReportDir(out), "report.md"))
	if !json.Valid(js) || !bytes.Contains(js, []byte(`"mean": null`)) || !strings.Contains(string(md), "| flat | ") || !strings.Contains(string(md), "n/a") {
		t.Fatalf("report files:\n%s", md)
	}
}

// A bootstrap p of 0 is below its resolution, never "0"; other tests print as computed.
func TestPCellBootstrapResolution(t *testing.T) {
	for _, c := range []struct {
		test Test
		want string
	}{
		{Test{Name: "bootstrap-videos", P: 0, Holm: 0, Significant: true}, "< 0.001 / < 0.001*"},
		{Test{Name: "bootstrap-hierarchical", P: 0.002, Holm: 0.004, Significant: true}, "0.002 / 0.004*"},
		{Test{Name: "t-test", P: 0, Holm: 0}, "0 / 0"},
	} {
		if got := pcell(c.test, 1000); got != c.want {
			t.Errorf("pcell(%s p=%v) = %q, want %q", c.test.Name, c.test.P, got, c.want)
		}
	}
}

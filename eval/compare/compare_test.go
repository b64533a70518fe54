package compare

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
)

func write(t *testing.T, path string, rows []predictions.Row) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := predictions.Write(f, rows); err != nil {
		t.Fatal(err)
	}
}

// Files aligns B to A by id and gives the library's numbers; a constant
// prediction (NaN correlations) still encodes as JSON, with nulls.
func TestFilesAlignsAndEncodesNaN(t *testing.T) {
	dir := t.TempDir()
	var a, b, c []predictions.Row
	for i := range 12 {
		mos := 1 + float64(i)/3
		id := string(rune('a' + i))
		a = append(a, predictions.Row{ID: id, Pred: mos + math.Sin(float64(i)), MOS: mos})
		b = append([]predictions.Row{{ID: id, Pred: mos + math.Cos(float64(3*i)), MOS: mos}}, b...) // reversed order
		c = append(c, predictions.Row{ID: id, Pred: 3, MOS: mos})
	}
	pa, pb, pc := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"), filepath.Join(dir, "c.csv")
	write(t, pa, a)
	write(t, pb, b)
	write(t, pc, c)
	r, err := Files(pa, pb, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	var pA, pB, mos []float64
	for i := range a {
		pA, mos = append(pA, a[i].Pred), append(mos, a[i].MOS)
		pB = append(pB, b[len(b)-1-i].Pred)
	}
	dep, _ := metrics.CompareDependent(pA, pB, mos, metrics.SRCC)
	d, _ := metrics.PairedBootstrap(pA, pB, mos, metrics.SRCC, 200, 3)
	if r.WilliamsP != dep.Williams.P || r.SteigerP != dep.Steiger.P || r.BootstrapDSRCC != d || r.N != 12 {
		t.Fatalf("%+v vs %+v / %+v", r, dep, d)
	}
	nan, err := Files(pa, pc, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(nan)
	if err != nil || !math.IsNaN(nan.SRCCB) {
		t.Fatalf("%v %+v", err, nan)
	}
	var back Result
	if err := json.Unmarshal(js, &back); err != nil || !math.IsNaN(back.SRCCB) || back.SRCCA != nan.SRCCA || back.N != 12 {
		t.Fatalf("round trip: %v %+v\n%s", err, back, js)
	}
}

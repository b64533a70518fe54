package train

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestGradAccumEquivalence: 2 micro-batches of 4 with grad_accum 2 give the
// same losses and weights as one batch of 8 (float64, so only rounding
// differs), and the accumulators are zero between steps.
func TestGradAccumEquivalence(t *testing.T) {
	trainDir, _ := dataDirs(t)
	mc := tinyModel(t)
	mc.DType = "float64"
	full := testConfig(3)
	half := full
	half.BatchSize, half.GradAccum = 4, 2
	outA := t.TempDir()
	a := run(t, Options{ModelConfig: mc, Train: full, TrainDir: trainDir, OutDir: outA})
	outB := t.TempDir()
	b := run(t, Options{ModelConfig: mc, Train: half, TrainDir: trainDir, OutDir: outB})
	la, err := ReadMetrics(filepath.Join(outA, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := ReadMetrics(filepath.Join(outB, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range la {
		if math.Abs(la[i].Loss-lb[i].Loss) > 1e-10*math.Max(1, math.Abs(la[i].Loss)) {
			t.Fatalf("step %d: loss %.15g (batch 8) vs %.15g (2 x 4 accumulated)", i+1, la[i].Loss, lb[i].Loss)
		}
		// the accumulated gradient is the full-batch gradient, not a sum
		if math.Abs(la[i].GradNorm-lb[i].GradNorm) > 1e-10*math.Max(1, la[i].GradNorm) {
			t.Fatalf("step %d: grad norm %.15g vs %.15g", i+1, la[i].GradNorm, lb[i].GradNorm)
		}
	}
	compared := 0
	for _, v := range a.Model.Variables() {
		w := b.Model.Store.GetVariable(v.Path())
		if w == nil {
			t.Fatalf("variable %s missing with grad_accum", v.Path())
		}
		d := maxAbsDiff(v.MustValue(), w.MustValue())
		if d > 1e-9 {
			t.Fatalf("variable %s differs by %g", v.Path(), d)
		}
		compared++
	}
	accs := 0
	for v := range b.Model.Store.IterVariables() {
		if len(v.Path()) > 11 && v.Path()[:11] == "/grad_accum" {
			accs++
			if d := maxAbsDiff(v.MustValue(), nil); d != 0 {
				t.Fatalf("accumulator %s not zero after the step (%g)", v.Path(), d)
			}
		}
	}
	if accs == 0 || compared == 0 {
		t.Fatalf("%d accumulators, %d variables compared", accs, compared)
	}
}

// maxAbsDiff is the largest |x-y| over two float64 tensors; y nil means zeros.
func maxAbsDiff(x, y *tensors.Tensor) float64 {
	flat := func(t *tensors.Tensor) []float64 {
		var v []float64
		t.ConstFlatData(func(f any) { v = append(v, f.([]float64)...) })
		return v
	}
	fx := flat(x)
	var fy []float64
	if y != nil {
		fy = flat(y)
	}
	d := 0.0
	for i := range fx {
		o := 0.0
		if fy != nil {
			o = fy[i]
		}
		d = math.Max(d, math.Abs(fx[i]-o))
	}
	return d
}

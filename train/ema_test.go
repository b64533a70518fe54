package train

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// floats reads a float32 tensor of any rank.
func floats(t *testing.T, x *tensors.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Shape().Size())
	if err := x.ConstBytes(func(b []byte) {
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEMA: the averages follow ema = d*ema + (1-d)*w from the initial
// weights, checked by hand over two steps; loading a step checkpoint for
// evaluation gives the averages, and the best checkpoint holds them as its
// weights.
func TestEMA(t *testing.T) {
	const d = 0.75
	trainDir, valDir := dataDirs(t)
	cfg := testConfig(2)
	cfg.EMA = d
	cfg.CheckpointEvery, cfg.KeepLast, cfg.EvalEvery = 1, 3, 1
	out := t.TempDir()
	run(t, Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir, OutDir: out})

	m0, err := model.Build(tinyModel(t)) // same seed: the weights before step 1
	if err != nil {
		t.Fatal(err)
	}
	backend, err := model.NewBackend(m0.Cfg.Backend)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	if err := m0.Init(backend); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(out, "checkpoints")
	s1, s2 := loadVars(t, filepath.Join(ck, stepName(1))), loadVars(t, filepath.Join(ck, stepName(2)))
	checked := 0
	for _, v := range m0.Variables() {
		if !v.Trainable || v.DType().String() != "Float32" {
			continue
		}
		p := v.Path()
		e1, ok := s1[emaPrefix+p]
		if !ok {
			t.Fatalf("no average of %s in the step-1 checkpoint", p)
		}
		w0, w1, w2, e2 := floats(t, v.MustValue()), s1[p], s2[p], s2[emaPrefix+p]
		for i := range w0 {
			want1 := d*float64(w0[i]) + (1-d)*float64(w1[i])
			want2 := d*want1 + (1-d)*float64(w2[i])
			if math.Abs(float64(e1[i])-want1) > 1e-6 || math.Abs(float64(e2[i])-want2) > 1e-6 {
				t.Fatalf("%s[%d]: ema %g, %g; want %g, %g", p, i, e1[i], e2[i], want1, want2)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no trainable float32 variables checked")
	}

	// Evaluation loads see the averages, from a step or the best checkpoint
	// (which holds the averages of its step as its weights).
	js, err := os.ReadFile(filepath.Join(ck, bestName, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	var best State
	if err := json.Unmarshal(js, &best); err != nil || !best.Averaged {
		t.Fatalf("best checkpoint state %s: %v (want averaged)", js, err)
	}
	if best.Backend == "" || best.Backend == model.AutoBackend {
		t.Errorf("best checkpoint state %s: want the concrete backend that trained it", js)
	}
	for _, c := range []struct{ dir, from string }{
		{filepath.Join(ck, stepName(2)), filepath.Join(ck, stepName(2))},
		{filepath.Join(ck, bestName), filepath.Join(ck, stepName(best.Step))},
	} {
		m, b, err := model.LoadCheckpoint(tinyModel(t), c.dir)
		if err != nil {
			t.Fatal(err)
		}
		avg := loadVars(t, c.from)
		for _, v := range m.Variables() {
			if !v.Trainable || v.DType().String() != "Float32" {
				continue
			}
			want, got := avg[emaPrefix+v.Path()], floats(t, v.MustValue())
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: loaded %s[%d] = %g, want the average %g", c.dir, v.Path(), i, got[i], want[i])
				}
			}
		}
		b.Finalize()
	}
}

// loadVars reads a checkpoint's float32 variables by path.
func loadVars(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	m, err := model.Build(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadCheckpoint(m.Store, dir); err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for v := range m.Store.IterVariables() {
		if v.HasValue() && v.DType().String() == "Float32" {
			out[v.Path()] = floats(t, v.MustValue())
		}
	}
	return out
}

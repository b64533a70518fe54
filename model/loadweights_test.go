package model

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// initModel builds and initialises cfg on the shared test backend.
func initModel(t *testing.T, cfg Config) *Model {
	t.Helper()
	m, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(testBackend(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

// varBytes is every variable's bytes, by path.
func varBytes(t *testing.T, m *Model) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for v := range m.Store.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		if err := val.ConstBytes(func(b []byte) { out[v.Path()] = slices.Clone(b) }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A variables file loads into a model of the same architecture exactly,
// training state beside the weights is allowed (and the EMA taken when
// asked); into another architecture it fails listing every missing,
// unexpected and mis-shaped variable, and changes nothing.
func TestLoadWeightsIsStrict(t *testing.T) {
	src := initModel(t, tinyConfig(t))
	w := "/decoder/model/norm/weight"
	v := src.Store.GetVariable(w)
	if v == nil {
		t.Fatalf("no %s", w)
	}
	avg := tensors.FromShape(v.Shape())
	avg.MutableFlatData(func(flat any) { flat.([]float32)[0] = 42 })
	for _, p := range []string{EMAPrefix + w, "/AdamOptimizer/decoder/model/norm/weight_1st_moment"} {
		if _, err := src.Store.CreateVariable(p, avg); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), VarsFile)
	if err := WriteVariables(src.Store, file); err != nil {
		t.Fatal(err)
	}
	want := varBytes(t, src)

	cfg := tinyConfig(t)
	cfg.Seed = 99
	dst := initModel(t, cfg)
	if err := LoadWeights(dst, file, false); err != nil {
		t.Fatal(err)
	}
	got := varBytes(t, dst)
	for p, b := range got {
		if !strings.HasPrefix(p, "/#") && !bytes.Equal(b, want[p]) {
			t.Errorf("%s differs after LoadWeights", p)
		}
	}
	if dst.Store.GetVariable(EMAPrefix+w) != nil || len(got) != len(want)-2 {
		t.Errorf("training state was loaded into the model: %d variables, source %d", len(got), len(want))
	}
	if err := LoadWeights(dst, file, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(varBytes(t, dst)[w], want[EMAPrefix+w]) {
		t.Error("with ema the weight is not its average")
	}

	for _, c := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"fewer layers", func(c *Config) { c.Decoder.Layers = 1 }, []string{"15 unexpected", "/decoder/model/layers/1/"}},
		{"more layers", func(c *Config) { c.Decoder.Layers = 3 }, []string{"missing", "/decoder/model/layers/2/"}},
		{"wider mlp", func(c *Config) { c.Decoder.MLPDim = 256 }, []string{"mis-shaped", "in the checkpoint"}},
	} {
		cfg := tinyConfig(t)
		c.edit(&cfg)
		m := initModel(t, cfg)
		before := varBytes(t, m)
		err := LoadWeights(m, file, false)
		var mm *WeightsMismatchError
		if !errors.As(err, &mm) {
			t.Fatalf("%s: error %v, want a WeightsMismatchError", c.name, err)
		}
		for _, s := range c.want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error lacks %q:\n%v", c.name, s, err)
			}
		}
		for p, b := range varBytes(t, m) {
			if !bytes.Equal(b, before[p]) {
				t.Errorf("%s: %s changed by a failed load", c.name, p)
			}
		}
	}
}

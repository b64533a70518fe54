package train

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// settings are every valid trainable section: full or frozen for the
// encoders and projectors, full, frozen or lora for the decoder; the heads
// alternate between full and frozen (each meets every decoder setting).
func settings() []model.TrainableConfig {
	var out []model.TrainableConfig
	two := []string{model.TrainFull, model.TrainFrozen}
	for _, c := range two {
		for _, p := range two {
			for _, pr := range two {
				for _, d := range append(two, model.TrainLoRA) {
					out = append(out, model.TrainableConfig{ContextEncoder: c, PixelEncoder: p, Projectors: pr, Decoder: d, Heads: two[len(out)%2]})
				}
			}
		}
	}
	return out
}

// shouldTrain is whether the variable at path trains under t, from the path
// alone: the heads unless frozen; a decoder adapter unless the decoder is
// frozen; a decoder base weight only when it is full; the encoders and
// projectors when full.
func shouldTrain(t model.TrainableConfig, path string) bool {
	comp := model.ComponentOf(path)
	switch {
	case comp == "heads":
		return t.Heads != model.TrainFrozen
	case comp == "decoder" && strings.Contains(path, "/lora_"):
		return t.Decoder != model.TrainFrozen
	}
	return t.Setting(comp) == model.TrainFull
}

// bytesOf is a variable's raw value.
func bytesOf(t *testing.T, v *gm.Variable) []byte {
	t.Helper()
	var b []byte
	if err := v.MustValue().ConstBytes(func(d []byte) { b = bytes.Clone(d) }); err != nil {
		t.Fatal(err)
	}
	return b
}

// momentsOf lists the model variables AdamW keeps moments for, and those
// with a weight average, from the store's paths.
func momentsOf(store *gm.Store) (moments, averages map[string]bool) {
	moments, averages = map[string]bool{}, map[string]bool{}
	adam := "/" + optimizer.AdamDefaultScope
	for v := range store.IterVariables() {
		p := v.Path()
		if rest, ok := strings.CutPrefix(p, adam+"/"); ok {
			for _, suf := range []string{"_1st_moment", "_2nd_moment"} {
				if w, ok := strings.CutSuffix(rest, suf); ok {
					moments["/"+w] = true
				}
			}
		}
		if w, ok := strings.CutPrefix(p, model.EMAPrefix+"/"); ok {
			averages["/"+w] = true
		}
	}
	return moments, averages
}

// TestTrainableSettings trains every trainable setting of the tiny model for
// one step, checkpoints, resumes for a second step, and checks: frozen
// variables are bitwise their initial values and have no AdamW moments and
// no EMA; every trainable variable moved and has both. Resuming under
// another setting is refused.
func TestTrainableSettings(t *testing.T) {
	trainDir, _ := dataDirs(t)
	cfg := testConfig(2)
	cfg.EMA, cfg.CheckpointEvery = 0.9, 1
	backend, err := model.NewBackend(tinyModel(t).Backend)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	for _, tc := range settings() {
		mc := tinyModel(t)
		mc.Trainable = tc
		m0, err := model.Build(mc) // same seed: the weights before step 1
		if err != nil {
			t.Fatal(err)
		}
		if err := m0.Init(backend); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		first := cfg
		first.Steps = 1
		run(t, Options{ModelConfig: mc, Train: first, TrainDir: trainDir, OutDir: out})
		res := run(t, Options{ModelConfig: mc, Train: cfg, TrainDir: trainDir, OutDir: out, Resume: true})
		moments, averages := momentsOf(res.Model.Store)
		nTrain, nFrozen := 0, 0
		for _, v0 := range m0.Variables() {
			p := v0.Path()
			v := res.Model.Store.GetVariable(p)
			want := shouldTrain(tc, p)
			switch {
			case v.Trainable != want:
				t.Errorf("%+v: %s trainable=%v, want %v", tc, p, v.Trainable, want)
			case moments[p] != want || averages[p] != want:
				t.Errorf("%+v: %s (trainable %v) has AdamW moments %v, EMA %v", tc, p, want, moments[p], averages[p])
			case want && bytes.Equal(bytesOf(t, v), bytesOf(t, v0)):
				t.Errorf("%+v: trainable %s unchanged after 2 steps", tc, p)
			case !want && !bytes.Equal(bytesOf(t, v), bytesOf(t, v0)):
				t.Errorf("%+v: frozen %s changed", tc, p)
			}
			if want {
				nTrain++
			} else {
				nFrozen++
			}
		}
		t.Logf("%+v: %d trainable, %d frozen variables", tc, nTrain, nFrozen)
		if tc.ContextEncoder == model.TrainFrozen && tc.Decoder == model.TrainLoRA {
			other := mc
			other.Trainable.ContextEncoder = model.TrainFull
			more := cfg
			more.Steps = 3
			_, err := Run(context.Background(), Options{ModelConfig: other, Train: more, TrainDir: trainDir, OutDir: out, Resume: true})
			if err == nil || !strings.Contains(err.Error(), "/context_encoder/") || !strings.Contains(err.Error(), "trainable.context_encoder: full") {
				t.Errorf("resume under another setting: got %v, want an error naming a context encoder variable and trainable.context_encoder", err)
			}
		}
	}
}

// A setting that leaves nothing to train fails before the first step.
func TestTrainsNothing(t *testing.T) {
	trainDir, _ := dataDirs(t)
	mc := tinyModel(t)
	mc.Heads.Regression = false
	mc.Trainable = model.TrainableConfig{ContextEncoder: model.TrainFrozen, PixelEncoder: model.TrainFrozen,
		Projectors: model.TrainFrozen, Decoder: model.TrainFrozen, Heads: model.TrainFrozen}
	_, err := Run(context.Background(), Options{ModelConfig: mc, Train: testConfig(1), TrainDir: trainDir, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "trains nothing") {
		t.Errorf("got %v, want an error saying the config trains nothing", err)
	}
}

package weights

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// describeLogits runs the full model (both encoders, projectors, decoder) on a
// fixed random video and prompt.
func describeLogits(t testing.TB, m *model.Model) []float64 {
	t.Helper()
	in := m.Cfg.Input
	rng := rand.New(rand.NewPCG(21, 22))
	img := func(n int) *tensors.Tensor {
		data := make([]uint8, n*in.Size*in.Size*3)
		for i := range data {
			data[i] = uint8(rng.IntN(256))
		}
		return tensors.FromFlatDataAndDimensions(data, 1, n, in.Size, in.Size, 3)
	}
	tokens := []int32{5, 9, 40, 41, 7, 100}
	b := &model.Batch{Frames: img(in.Frames), Patches: img(in.Patches),
		Tokens: tensors.FromFlatDataAndDimensions(tokens, 1, len(tokens))}
	out, err := model.NewPredictor(m, testBackend(t)).Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	out.ConstFlatData(func(a any) {
		for _, v := range a.([]float32) {
			got = append(got, float64(v))
		}
	})
	return got
}

// randomizeLoRA gives every adapter non-zero values so the merge matters.
func randomizeLoRA(t testing.TB, m *model.Model) {
	t.Helper()
	rng := rand.New(rand.NewPCG(13, 14))
	n := 0
	for _, v := range m.Variables() {
		if !strings.HasSuffix(v.Path(), loraB) {
			continue
		}
		vals := make([]float64, v.Shape().Size())
		for i := range vals {
			vals[i] = rng.NormFloat64() * 0.3
		}
		if err := setVariable(v, vals); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("model has no LoRA adapters")
	}
}

// A LoRA-merged export loads into a model without adapters and into one with
// adapters (B zeroed), both giving the unmerged model's outputs; a plain
// export reloads exactly.
func TestExportMergeLoRA(t *testing.T) {
	m := tinyModel(t, nil)
	randomizeLoRA(t, m)
	want := describeLogits(t, m)
	dir := t.TempDir()
	merged, plain := filepath.Join(dir, "merged.safetensors"), filepath.Join(dir, "plain.safetensors")
	if err := Export(m, merged, true); err != nil {
		t.Fatal(err)
	}
	if err := Export(m, plain, false); err != nil {
		t.Fatal(err)
	}
	f, err := Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	for n := range f.Tensors {
		if strings.Contains(n, "/lora_") {
			t.Errorf("merged file holds %s", n)
		}
	}
	if f.Metadata[MetaLoRAMerged] != "true" || f.Metadata[MetaVariant] != m.Variant.Name() ||
		!strings.Contains(f.Metadata[MetaConfig], "rank: 4") {
		t.Errorf("metadata %v", f.Metadata)
	}

	noLoRA := tinyModel(t, func(c *model.Config) { c.LoRA.Rank, c.Seed, c.Trainable.Decoder = 0, 99, model.TrainFrozen })
	if _, err := Load(noLoRA, merged); err != nil {
		t.Fatal(err)
	}
	if r := maxRelErr(describeLogits(t, noLoRA), want); r > 1e-5 {
		t.Errorf("merged weights without LoRA: max rel err %g", r)
	}

	withLoRA := tinyModel(t, func(c *model.Config) { c.Seed = 99 })
	randomizeLoRA(t, withLoRA)
	rep, err := Load(withLoRA, merged)
	if err != nil {
		t.Fatal(err)
	}
	if n := 2 * len(m.Cfg.LoRA.Targets); len(rep.Zeroed) != n {
		t.Errorf("zeroed %d adapters, want %d", len(rep.Zeroed), n)
	}
	if r := maxRelErr(describeLogits(t, withLoRA), want); r > 1e-5 {
		t.Errorf("merged weights with zeroed LoRA: max rel err %g", r)
	}

	fresh := tinyModel(t, func(c *model.Config) { c.Seed = 98 })
	if _, err := Load(fresh, plain); err != nil {
		t.Fatal(err)
	}
	got := describeLogits(t, fresh)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("plain export reload: logit %d = %v, want %v", i, got[i], want[i])
		}
	}

	// The adapters matter: without them (B = 0) the outputs move far beyond the tolerance.
	for _, v := range m.Variables() {
		if strings.HasSuffix(v.Path(), loraB) {
			if err := setVariable(v, make([]float64, v.Shape().Size())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r := maxRelErr(describeLogits(t, m), want); r < 1e-3 {
		t.Errorf("LoRA changes the outputs by only %g: the merge test proves nothing", r)
	}
}

// Load is strict: adapters in the file but not in the model, or in the model
// but not in an unmerged file, are errors listing every tensor.
func TestLoadStrict(t *testing.T) {
	m := tinyModel(t, nil)
	noLoRA := tinyModel(t, func(c *model.Config) { c.LoRA.Rank, c.Trainable.Decoder = 0, model.TrainFrozen })
	dir := t.TempDir()
	withFile, withoutFile := filepath.Join(dir, "with.safetensors"), filepath.Join(dir, "without.safetensors")
	if err := Export(m, withFile, false); err != nil {
		t.Fatal(err)
	}
	if err := Export(noLoRA, withoutFile, false); err != nil {
		t.Fatal(err)
	}
	adapters := 2 * len(m.Cfg.LoRA.Targets) * m.Cfg.Decoder.Layers
	var me *MismatchError
	if _, err := Load(noLoRA, withFile); !errors.As(err, &me) || len(me.Unexpected) != adapters || len(me.Missing) != 0 {
		t.Errorf("LoRA file into plain model: want %d unexpected, got %v", adapters, err)
	}
	if _, err := Load(m, withoutFile); !errors.As(err, &me) || len(me.Missing) != adapters || len(me.Unexpected) != 0 {
		t.Errorf("plain file into LoRA model: want %d missing, got %v", adapters, err)
	}
	pixelOnly := tinyModel(t, func(c *model.Config) { c.Variant.Encoders = "pixel-only" })
	if _, err := Load(pixelOnly, withFile); !errors.As(err, &me) || len(me.Unexpected) == 0 ||
		!strings.Contains(err.Error(), "context_encoder/embeddings/patch_embedding/weight") {
		t.Errorf("context encoder into a pixel-only model: %v", err)
	}
}

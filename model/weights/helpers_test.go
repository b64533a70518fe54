package weights

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute"
)

var sharedBackend = sync.OnceValues(func() (compute.Backend, error) { return model.NewBackend("") })

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := sharedBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tinyModel builds and initialises the tiny config, edited by mutate.
func tinyModel(t testing.TB, mutate func(*model.Config)) *model.Model {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cfg, err := model.LoadConfig(filepath.Join(filepath.Dir(file), "..", "..", "configs", "model", "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := model.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(testBackend(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

// hfCheckpoint makes random HF-named SigLIP vision + Gemma tensors sized for
// m's config (some stored as bf16/f16 to exercise the conversions), plus
// tensors the maps deliberately ignore.
func hfCheckpoint(t testing.TB, m *model.Model, rng *rand.Rand) File {
	t.Helper()
	f := File{Tensors: map[string]Tensor{}}
	add := func(name string, dt DType, std float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64() * std
		}
		tt, err := FromFloat64(dt, shape, v)
		if err != nil {
			t.Fatal(err)
		}
		f.Tensors[name] = tt
	}
	lin := func(prefix string, out, in int, bias bool) {
		add(prefix+".weight", F32, 1/math.Sqrt(float64(in)), out, in)
		if bias {
			add(prefix+".bias", F32, 0.1, out)
		}
	}
	ce, s := m.Cfg.ContextEncoder, m.Cfg.Input.Size
	d, p, g := ce.Width, ce.PatchSize, ce.Grid(s)
	add("vision_model.embeddings.patch_embedding.weight", F32, 1/math.Sqrt(float64(3*p*p)), d, 3, p, p)
	add("vision_model.embeddings.patch_embedding.bias", F32, 0.1, d)
	add("vision_model.embeddings.position_embedding.weight", BF16, 0.1, g*g, d)
	for l := range ce.Layers {
		pre := "vision_model.encoder.layers." + itoa(l) + "."
		for _, ln := range []string{"layer_norm1", "layer_norm2"} {
			add(pre+ln+".weight", F16, 0.1, d)
			add(pre+ln+".bias", F16, 0.1, d)
		}
		for _, pr := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			lin(pre+"self_attn."+pr, d, d, true)
		}
		lin(pre+"mlp.fc1", ce.MLPDim, d, true)
		lin(pre+"mlp.fc2", d, ce.MLPDim, true)
	}
	add("vision_model.post_layernorm.weight", F32, 0.1, d)
	add("vision_model.post_layernorm.bias", F32, 0.1, d)
	add("vision_model.head.probe", F32, 1, 1, 1, d) // attention-pool head: ignored
	add("logit_scale", F32, 1, 1)

	dc := m.Cfg.Decoder
	w, q, kv := dc.Width, dc.Heads*dc.HeadDim, dc.KVHeads*dc.HeadDim
	add("model.embed_tokens.weight", BF16, 1/math.Sqrt(float64(w)), dc.VocabSize, w)
	for l := range dc.Layers {
		pre := "model.layers." + itoa(l) + "."
		add(pre+"input_layernorm.weight", F32, 0.1, w)
		add(pre+"post_attention_layernorm.weight", F32, 0.1, w)
		lin(pre+"self_attn.q_proj", q, w, false)
		lin(pre+"self_attn.k_proj", kv, w, false)
		lin(pre+"self_attn.v_proj", kv, w, false)
		lin(pre+"self_attn.o_proj", w, q, false)
		lin(pre+"mlp.gate_proj", dc.MLPDim, w, false)
		lin(pre+"mlp.up_proj", dc.MLPDim, w, false)
		lin(pre+"mlp.down_proj", w, dc.MLPDim, false)
	}
	add("model.norm.weight", F32, 0.1, w)
	return f
}

func writeTemp(t testing.TB, f File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

// maxRelErr is max |a-b| / max |b|.
func maxRelErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = max(num, math.Abs(a[i]-b[i]))
		den = max(den, math.Abs(b[i]))
	}
	return num / den
}

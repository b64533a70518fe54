package weights

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

func varValues(t testing.TB, m *model.Model, path string) []float64 {
	t.Helper()
	v := m.Store.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	vals, err := variableValues(v)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// Every imported variable equals its source tensor, transposed for linear
// weights and permuted (D,C,p,p) -> (p,p,C),D for the patch embedding; LoRA
// adapters and the other encoders are untouched.
func TestImportValues(t *testing.T) {
	m := tinyModel(t, nil)
	ckpt := hfCheckpoint(t, m, rand.New(rand.NewPCG(3, 4)))
	path := writeTemp(t, ckpt)
	loraBefore := varValues(t, m, "/decoder/model/layers/0/self_attn/q_proj/lora_A")
	pixelBefore := varValues(t, m, "/pixel_encoder/spatial/post_layernorm/weight")
	if _, err := ImportSigLIP(m, path); err == nil {
		t.Fatal("SigLIP import alone must reject the Gemma tensors as unexpected")
	}
	src, err := OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Import(m, src, "import both", SigLIPMap(), GemmaMap())
	if err != nil {
		t.Fatal(err)
	}
	if want := len(ckpt.Tensors) - 2; len(rs.Loaded) != want {
		t.Errorf("loaded %d variables, want %d", len(rs.Loaded), want)
	}
	slices.Sort(rs.Ignored)
	if !slices.Equal(rs.Ignored, []string{"logit_scale", "vision_model.head.probe"}) {
		t.Errorf("ignored %v", rs.Ignored)
	}
	if want := 2 * len(m.Cfg.LoRA.Targets) * m.Cfg.Decoder.Layers; len(rs.Kept) != want {
		t.Errorf("kept %d variables, want the %d adapters", len(rs.Kept), want)
	}
	for _, k := range rs.Kept {
		if !strings.Contains(k, "/lora_") {
			t.Errorf("kept non-adapter %s", k)
		}
	}
	check := func(varPath, srcName string, at func(row, col int) int) {
		t.Helper()
		got, s := varValues(t, m, varPath), ckpt.Tensors[srcName].Float64()
		dims := m.Store.GetVariable(varPath).Shape().Dimensions
		for i := range got {
			j := i
			if at != nil {
				j = at(i/dims[1], i%dims[1])
			}
			if float32(got[i]) != float32(s[j]) {
				t.Fatalf("%s[%d] = %v, source %s[%d] = %v", varPath, i, got[i], srcName, j, s[j])
			}
		}
	}
	for _, c := range []struct{ v, s string }{
		{"/context_encoder/encoder/layers/1/self_attn/k_proj/weight", "vision_model.encoder.layers.1.self_attn.k_proj.weight"},
		{"/context_encoder/encoder/layers/0/mlp/fc1/weight", "vision_model.encoder.layers.0.mlp.fc1.weight"},
		{"/decoder/model/layers/1/self_attn/k_proj/weight", "model.layers.1.self_attn.k_proj.weight"},
		{"/decoder/model/layers/0/mlp/down_proj/weight", "model.layers.0.mlp.down_proj.weight"},
	} {
		in := m.Store.GetVariable(c.v).Shape().Dim(0)
		check(c.v, c.s, func(r, col int) int { return col*in + r }) // var [in,out][r][col] = src [out,in][col][r]
	}
	for _, c := range []struct{ v, s string }{
		{"/decoder/model/embed_tokens/weight", "model.embed_tokens.weight"},
		{"/decoder/model/layers/1/input_layernorm/weight", "model.layers.1.input_layernorm.weight"},
		{"/context_encoder/encoder/layers/1/layer_norm2/bias", "vision_model.encoder.layers.1.layer_norm2.bias"},
		{"/context_encoder/embeddings/position_embedding/weight", "vision_model.embeddings.position_embedding.weight"},
	} {
		check(c.v, c.s, nil)
	}
	p := m.Cfg.ContextEncoder.PatchSize
	check("/context_encoder/embeddings/patch_embedding/weight", "vision_model.embeddings.patch_embedding.weight",
		func(row, o int) int {
			y, x, ch := row/(3*p), row/3%p, row%3
			return ((o*3+ch)*p+y)*p + x
		})
	if !slices.Equal(loraBefore, varValues(t, m, "/decoder/model/layers/0/self_attn/q_proj/lora_A")) ||
		!slices.Equal(pixelBefore, varValues(t, m, "/pixel_encoder/spatial/post_layernorm/weight")) {
		t.Error("import changed variables outside its maps")
	}
}

// The imported patch embedding computes the HF conv (stride p) exactly: the
// flatten order of vit.Patchify matches ConvToPatch.
func TestImportPatchEmbeddingIsConv(t *testing.T) {
	m := tinyModel(t, nil)
	ckpt := hfCheckpoint(t, m, rand.New(rand.NewPCG(5, 6)))
	if _, err := Import(m, mustSource(t, writeTemp(t, ckpt)), "import", SigLIPMap(), GemmaMap()); err != nil {
		t.Fatal(err)
	}
	c, s := m.Cfg.ContextEncoder, m.Cfg.Input.Size
	p, d, g := c.PatchSize, c.Width, c.Grid(s)
	rng := rand.New(rand.NewPCG(7, 8))
	img := make([]float32, s*s*3)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	e, err := gm.NewExec(testBackend(t), m.Store, func(scope *gm.Scope, x *graph.Node) *graph.Node {
		return vit.Embeddings(scope.At("context_encoder").At("embeddings"), x, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Call(tensors.FromFlatDataAndDimensions(img, 1, s, s, 3))
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	out[0].ConstFlatData(func(a any) {
		for _, v := range a.([]float32) {
			got = append(got, float64(v))
		}
	})
	w := ckpt.Tensors["vision_model.embeddings.patch_embedding.weight"].Float64()
	b := ckpt.Tensors["vision_model.embeddings.patch_embedding.bias"].Float64()
	pos := ckpt.Tensors["vision_model.embeddings.position_embedding.weight"].Float64()
	want := make([]float64, g*g*d)
	for gy := range g {
		for gx := range g {
			tok := gy*g + gx
			for o := range d {
				sum := b[o] + pos[tok*d+o]
				for ch := range 3 {
					for y := range p {
						for x := range p {
							sum += w[((o*3+ch)*p+y)*p+x] * float64(img[((gy*p+y)*s+gx*p+x)*3+ch])
						}
					}
				}
				want[tok*d+o] = sum
			}
		}
	}
	if r := maxRelErr(got, want); r > 1e-5 {
		t.Errorf("patch embedding differs from the conv: max rel err %g", r)
	}
}

func mustSource(t testing.TB, path string) *Source {
	t.Helper()
	src, err := OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// A checkpoint with a missing, an unexpected and two mis-shaped tensors fails
// naming all of them at once, and loads nothing.
func TestImportStrictErrors(t *testing.T) {
	m := tinyModel(t, nil)
	ckpt := hfCheckpoint(t, m, rand.New(rand.NewPCG(9, 10)))
	delete(ckpt.Tensors, "model.layers.1.mlp.up_proj.weight")
	delete(ckpt.Tensors, "vision_model.encoder.layers.0.layer_norm1.bias")
	ckpt.Tensors["model.layers.7.self_attn.q_proj.weight"] = ckpt.Tensors["model.layers.0.self_attn.q_proj.weight"]
	ckpt.Tensors["model.layers.0.self_attn.q_proj.weight"] = ckpt.Tensors["model.layers.0.self_attn.k_proj.weight"]
	emb := ckpt.Tensors["model.embed_tokens.weight"]
	emb.Shape = []int{emb.Shape[1], emb.Shape[0]}
	ckpt.Tensors["model.embed_tokens.weight"] = emb
	before := varValues(t, m, "/decoder/model/norm/weight")
	_, err := Import(m, mustSource(t, writeTemp(t, ckpt)), "import test", SigLIPMap(), GemmaMap())
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("want *MismatchError, got %v", err)
	}
	if len(me.Missing) != 2 || len(me.Unexpected) != 1 || len(me.Misshaped) != 2 || len(me.Unmapped) != 0 {
		t.Errorf("counts missing %d unexpected %d misshaped %d unmapped %d:\n%v",
			len(me.Missing), len(me.Unexpected), len(me.Misshaped), len(me.Unmapped), err)
	}
	for _, name := range []string{"model.layers.1.mlp.up_proj.weight", "vision_model.encoder.layers.0.layer_norm1.bias",
		"model.layers.7.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.weight", "model.embed_tokens.weight",
		"nothing loaded"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s:\n%v", name, err)
		}
	}
	if !slices.Equal(before, varValues(t, m, "/decoder/model/norm/weight")) {
		t.Error("a failed import changed variables")
	}

	// A model variable no rule covers is reported too.
	nm := GemmaMap()
	nm.Rules = slices.DeleteFunc(slices.Clone(nm.Rules), func(r Rule) bool { return r.Var == "model/norm/weight" })
	nm.IgnoreSources = append(nm.IgnoreSources, SigLIPMap().IgnoreSources...)
	_, err = Import(m, mustSource(t, writeTemp(t, hfCheckpoint(t, m, rand.New(rand.NewPCG(1, 1))))), "partial", SigLIPMap(), nm)
	if !errors.As(err, &me) || len(me.Unmapped) != 1 || len(me.Unexpected) != 1 {
		t.Errorf("want 1 unmapped (norm) and 1 unexpected (model.norm.weight), got %v", err)
	}
}

// A directory of shards imports like one file; a tensor in two shards is an error.
func TestImportShardedDirectory(t *testing.T) {
	m := tinyModel(t, nil)
	ckpt := hfCheckpoint(t, m, rand.New(rand.NewPCG(15, 16)))
	dir := t.TempDir()
	shards := []File{{Tensors: map[string]Tensor{}}, {Tensors: map[string]Tensor{}}}
	i := 0
	for n, tt := range ckpt.Tensors {
		if strings.HasPrefix(n, "model.") {
			shards[i%2].Tensors[n] = tt
			i++
		}
	}
	for k, s := range shards {
		if err := Write(filepath.Join(dir, "model-0000"+itoa(k+1)+"-of-00002.safetensors"), s); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := ImportGemma(m, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Loaded) != i {
		t.Errorf("loaded %d, want %d", len(rep.Loaded), i)
	}
	if err := Write(filepath.Join(dir, "extra.safetensors"), File{Tensors: map[string]Tensor{
		"model.norm.weight": ckpt.Tensors["model.norm.weight"]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportGemma(m, dir); err == nil || !strings.Contains(err.Error(), `"model.norm.weight" is in both`) {
		t.Errorf("duplicate across shards: %v", err)
	}
}

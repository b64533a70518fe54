package weights

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// The PyTorch oracles (testdata/hf_oracles.py, testdata/videoprism_oracle.py)
// are written from the published architectures: HF transformers'
// modeling_siglip.py and modeling_gemma.py, videoprism's encoders.py. Each
// writes a random tiny checkpoint in the real layout plus inputs and its
// outputs; cpllm imports the checkpoint with its importer and must
// reproduce the outputs to 1e-4 (float32).

const oracleTol = 1e-4

// runOracle writes cfg as JSON and runs a testdata script on it; it returns
// the directory the script wrote into.
func runOracle(t *testing.T, cfg map[string]any, script string, args ...string) string {
	t.Helper()
	py := testutil.RequireTorch(t)
	dir := t.TempDir()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append(append([]string{filepath.Join("testdata", script)}, args...), cfgPath, dir)...)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return dir
}

// oracleIO reads the named arrays of dir/io.npz as float64.
func oracleIO(t *testing.T, dir string) map[string]Tensor {
	t.Helper()
	src, err := ReadNPZ(filepath.Join(dir, "io.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return src.Tensors
}

// uint8Images converts the oracle's float copy of its uint8 images.
func uint8Images(t Tensor) *tensors.Tensor {
	vals := t.Float64()
	px := make([]uint8, len(vals))
	for i, v := range vals {
		px[i] = uint8(v)
	}
	return tensors.FromFlatDataAndDimensions(px, t.Shape...)
}

// runGraph runs fn over m's variables on one input and returns the output as float64.
func runGraph(t *testing.T, m *model.Model, in *tensors.Tensor, fn func(*gm.Scope, *graph.Node) *graph.Node) []float64 {
	t.Helper()
	e, err := gm.NewExec(testBackend(t), m.Store, fn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Call(in)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	out[0].ConstFlatData(func(a any) {
		for _, v := range a.([]float32) {
			got = append(got, float64(v))
		}
	})
	return got
}

func compareOracle(t *testing.T, what string, got []float64, want Tensor) {
	t.Helper()
	w := want.Float64()
	if len(got) != len(w) {
		t.Fatalf("%s: got %d values, the oracle %d (shape %v)", what, len(got), len(w), want.Shape)
	}
	if r := maxRelErr(got, w); r > oracleTol {
		t.Errorf("%s differs from PyTorch: max |diff| / max |ref| = %g > %g", what, r, oracleTol)
	} else {
		t.Logf("%s: max |diff| / max |ref| = %g", what, r)
	}
}

// The imported context encoder computes HF SigLIP's vision tower
// (last_hidden_state, before cpllm's pooling).
func TestSigLIPMatchesPyTorch(t *testing.T) {
	m := tinyModel(t, func(c *model.Config) { c.ContextEncoder.PatchSize = 8 })
	c := m.Cfg.ContextEncoder
	dir := runOracle(t, map[string]any{
		"seed": 3, "batch": 2, "image_size": m.Cfg.Input.Size, "patch_size": c.PatchSize, "width": c.Width,
		"layers": c.Layers, "heads": c.Heads, "mlp_dim": c.MLPDim, "layer_norm_eps": c.LayerNormEps,
		"image_mean": c.ImageMean, "image_std": c.ImageStd,
	}, "hf_oracles.py", "siglip")
	if _, err := ImportSigLIP(m, filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	io := oracleIO(t, dir)
	got := runGraph(t, m, uint8Images(io["images"]), func(scope *gm.Scope, x *graph.Node) *graph.Node {
		return vit.Forward(scope.At("context_encoder"), x, dtypes.Float32, c)
	})
	compareOracle(t, "context encoder tokens", got, io["tokens"])
}

// The imported decoder's logits equal HF Gemma's (grouped-query attention
// with 2 KV heads, so the head grouping is exercised too).
func TestGemmaMatchesPyTorch(t *testing.T) {
	m := tinyModel(t, func(c *model.Config) { c.Decoder.KVHeads = 2 })
	c := m.Cfg.Decoder
	dir := runOracle(t, map[string]any{
		"seed": 5, "seq_len": 9, "vocab_size": c.VocabSize, "width": c.Width, "layers": c.Layers,
		"heads": c.Heads, "kv_heads": c.KVHeads, "head_dim": c.HeadDim, "mlp_dim": c.MLPDim,
		"rope_theta": c.RopeTheta, "rms_norm_eps": c.RMSNormEps,
	}, "hf_oracles.py", "gemma")
	if _, err := ImportGemma(m, filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	io := oracleIO(t, dir)
	ids := io["ids"].Float64()
	tok := make([]int32, len(ids))
	for i, v := range ids {
		tok[i] = int32(v)
	}
	got := runGraph(t, m, tensors.FromFlatDataAndDimensions(tok, 1, len(tok)), func(scope *gm.Scope, x *graph.Node) *graph.Node {
		ds := scope.At("decoder")
		return m.Dec.Logits(ds, m.Dec.Forward(ds, m.Dec.Embed(ds, x), nil))
	})
	compareOracle(t, "decoder logits", got, io["logits"])
}

// videoPrismTiny configures the tiny model's pixel encoder as VideoPrism
// computes: 32-pixel patches enlarged to 48 (a 6x6 grid of 8-pixel patches)
// against a checkpoint with a 4x4 spatial and a 4-frame temporal table, so
// both position resizes (enlarging and shrinking) are exercised.
func videoPrismTiny(c *model.Config) {
	c.Input.Patches = 2
	pe := &c.PixelEncoder
	pe.PatchSize, pe.Width, pe.Heads, pe.MLPDim, pe.Layers, pe.TemporalLayers = 8, 32, 4, 64, 2, 1
	pe.MLPActivation, pe.ImageMean, pe.ImageStd, pe.Resize = "gelu_exact", 0, 1, 48
	pe.StemChannels, pe.LocalNorm, pe.NSSStats, pe.PoolTokens = 0, 0, false, 0
}

func videoPrismOracle(t *testing.T, m *model.Model) string {
	pe := m.Cfg.PixelEncoder
	return runOracle(t, map[string]any{
		"seed": 7, "batch": 2, "frames": m.Cfg.Input.Patches, "image_size": m.Cfg.Input.Size, "resize": pe.Resize,
		"patch_size": pe.PatchSize, "width": pe.Width, "heads": pe.Heads, "mlp_dim": pe.MLPDim,
		"spatial_layers": pe.Layers, "temporal_layers": pe.TemporalLayers, "pos_emb_shape": []int{4, 4, 4},
	}, "videoprism_oracle.py")
}

// The imported pixel encoder computes VideoPrism's factorised encoder on the
// K patches taken as frames (tokens before cpllm's pooling).
func TestVideoPrismMatchesPyTorch(t *testing.T) {
	m := tinyModel(t, videoPrismTiny)
	dir := videoPrismOracle(t, m)
	_, resized, err := ImportVideoPrism(m, filepath.Join(dir, "videoprism.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resized) != 2 {
		t.Errorf("resized %q, want the spatial and the temporal table", resized)
	}
	io := oracleIO(t, dir)
	got := runGraph(t, m, uint8Images(io["images"]), func(scope *gm.Scope, x *graph.Node) *graph.Node {
		return vit.Factorized(scope.At("pixel_encoder"), x, dtypes.Float32, m.Cfg.PixelEncoder)
	})
	compareOracle(t, "pixel encoder tokens", got, io["tokens"])
}

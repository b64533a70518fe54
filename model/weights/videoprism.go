package weights

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/cpllm/cpllm/model"
)

// VideoPrism's released checkpoints (google-deepmind/videoprism,
// flax_*_repeated.npz) are flax parameter trees flattened with '/' joins.
// The factorised encoder (encoders.FactorizedEncoder) holds
//
//	params/patch_projection/linear/{kernel [p*p*3, D], bias}
//	params/spatial_pos_emb/emb_var [H*W, D]     params/temporal_pos_emb/emb_var [T, D]
//	params/{spatial,temporal}_encoder/transformers_stack/x_layers/...  (scan: leading layer axis)
//	params/{spatial,temporal}_ln/{scale,bias}
//
// and each transformer layer (layers.Transformer, pre-LN)
//
//	layer_norm/{scale,bias}                       before attention
//	self_attention/{query,key,value}/{w [D,N,H], b [N,H]}, post/{w [D,N,H], b [D]}
//	ff_layer/layer_norm/{scale,bias}              before the MLP
//	ff_layer/ffn_layer{1,2}/linear/{kernel [in,out], bias}
//
// LayerNorm applies (1 + scale); the MLP uses the exact (erf) GELU.

// float32Eps is np.finfo(np.float32).eps, jax's threshold for an empty kernel.
const float32Eps = 1.1920928955078125e-07

// videoPrismPrefix is where the factorised encoder sits in the released tree.
const videoPrismPrefix = "params/"

// VideoPrismMap maps a VideoPrism factorised encoder, its stacked layers
// already split per layer (x_layers_N, see unstackLayers), onto the pixel
// encoder (model/vit.Factorized layout).
func VideoPrismMap() NameMap {
	const p = videoPrismPrefix
	rules := []Rule{
		{"spatial/embeddings/patch_embedding/weight", p + "patch_projection/linear/kernel", Same},
		{"spatial/embeddings/patch_embedding/bias", p + "patch_projection/linear/bias", Same},
		{"spatial/embeddings/position_embedding/weight", p + "spatial_pos_emb/emb_var", Same},
		{"spatial/post_layernorm/weight", p + "spatial_ln/scale", AddOne},
		{"spatial/post_layernorm/bias", p + "spatial_ln/bias", Same},
		{"temporal/position_embedding/weight", p + "temporal_pos_emb/emb_var", Same},
		{"temporal/post_layernorm/weight", p + "temporal_ln/scale", AddOne},
		{"temporal/post_layernorm/bias", p + "temporal_ln/bias", Same},
	}
	for _, stage := range []string{"spatial", "temporal"} {
		v := stage + "/encoder/layers/{N}/"
		s := p + stage + "_encoder/transformers_stack/x_layers_{N}/"
		for _, r := range []Rule{
			{"layer_norm1/weight", "layer_norm/scale", AddOne},
			{"layer_norm1/bias", "layer_norm/bias", Same},
			{"layer_norm2/weight", "ff_layer/layer_norm/scale", AddOne},
			{"layer_norm2/bias", "ff_layer/layer_norm/bias", Same},
			{"self_attn/q_proj/weight", "self_attention/query/w", MergeHeads},
			{"self_attn/q_proj/bias", "self_attention/query/b", MergeHeads},
			{"self_attn/k_proj/weight", "self_attention/key/w", MergeHeads},
			{"self_attn/k_proj/bias", "self_attention/key/b", MergeHeads},
			{"self_attn/v_proj/weight", "self_attention/value/w", MergeHeads},
			{"self_attn/v_proj/bias", "self_attention/value/b", MergeHeads},
			{"self_attn/out_proj/weight", "self_attention/post/w", MergeHeadsTranspose},
			{"self_attn/out_proj/bias", "self_attention/post/b", Same},
			{"mlp/fc1/weight", "ff_layer/ffn_layer1/linear/kernel", Same},
			{"mlp/fc1/bias", "ff_layer/ffn_layer1/linear/bias", Same},
			{"mlp/fc2/weight", "ff_layer/ffn_layer2/linear/kernel", Same},
			{"mlp/fc2/bias", "ff_layer/ffn_layer2/linear/bias", Same},
		} {
			rules = append(rules, Rule{v + r.Var, s + r.Source, r.Transform})
		}
	}
	return NameMap{Name: "videoprism", Scope: "/pixel_encoder", Rules: rules}
}

// ImportVideoPrism loads a VideoPrism .npz checkpoint into the pixel encoder,
// strictly (see Import). The pixel encoder must be configured as VideoPrism
// computes (CheckVideoPrismConfig). Position tables whose length differs from
// the model's token grid or patch count are resized first, as VideoPrism
// itself does (jax.image.resize, bilinear); resized lists what was resized.
func ImportVideoPrism(m *model.Model, path string) (rep Report, resized []string, err error) {
	if err := CheckVideoPrismConfig(m.Cfg); err != nil {
		return Report{}, nil, fmt.Errorf("import videoprism from %s: %w", path, err)
	}
	src, err := ReadNPZ(path)
	if err != nil {
		return Report{}, nil, err
	}
	return importVideoPrismSource(m, src, path)
}

// importVideoPrismSource splits the layer stacks of src, fits its position
// tables to m and imports it.
func importVideoPrismSource(m *model.Model, src *Source, path string) (Report, []string, error) {
	if err := unstackLayers(src); err != nil {
		return Report{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	pe := m.Cfg.PixelEncoder
	g := pe.InputSize(m.Cfg.Input.Size) / pe.PatchSize
	resized, err := fitPositions(src, g, m.Cfg.Input.Patches)
	if err != nil {
		return Report{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	rep, err := Import(m, src, "import videoprism from "+path, VideoPrismMap())
	return rep, resized, err
}

// CheckVideoPrismConfig names every pixel-encoder setting that VideoPrism's
// factorised encoder does not have.
func CheckVideoPrismConfig(c model.Config) error {
	pe := c.PixelEncoder
	var bad []string
	if pe.StemChannels > 0 {
		bad = append(bad, "stem_channels must be 0")
	}
	if pe.LocalNorm > 0 || pe.NSSStats {
		bad = append(bad, "local_norm and nss_stats must be off")
	}
	if pe.MLPActivation != "gelu_exact" {
		bad = append(bad, "mlp_activation must be gelu_exact (VideoPrism's GELU is the erf form)")
	}
	if pe.ImageMean != 0 || pe.ImageStd != 1 {
		bad = append(bad, "image_mean must be 0 and image_std 1 (VideoPrism reads pixels in [0, 1])")
	}
	if len(bad) > 0 {
		return fmt.Errorf("pixel_encoder is not VideoPrism's architecture: %s", strings.Join(bad, "; "))
	}
	return nil
}

var stackedLayers = regexp.MustCompile(`^(.*/transformers_stack/x_layers)/(.+)$`)

// unstackLayers splits every scanned layer stack (x_layers/NAME [L, ...])
// into per-layer tensors x_layers_I/NAME [...], the names flax gives
// unscanned layers, so both checkpoint layouts meet one name map.
func unstackLayers(src *Source) error {
	for name, t := range src.Tensors {
		mt := stackedLayers.FindStringSubmatch(name)
		if mt == nil {
			continue
		}
		if len(t.Shape) == 0 {
			return fmt.Errorf("stacked tensor %s is a scalar (no layer axis)", name)
		}
		n, size := t.Shape[0], len(t.Data)/max(t.Shape[0], 1)
		for i := range n {
			part := mt[1] + "_" + strconv.Itoa(i) + "/" + mt[2]
			if _, dup := src.Tensors[part]; dup {
				return fmt.Errorf("%s is both stacked in %s and stored on its own", part, name)
			}
			src.Tensors[part] = Tensor{DType: t.DType, Shape: append([]int{}, t.Shape[1:]...), Data: t.Data[i*size : (i+1)*size]}
			src.Origin[part] = src.Origin[name] + " (" + name + "[" + strconv.Itoa(i) + "])"
		}
		delete(src.Tensors, name)
		delete(src.Origin, name)
	}
	return nil
}

// fitPositions resizes the spatial table to grid x grid and the temporal
// table to frames rows where they differ, as VideoPrism's
// _interpolate_emb_2d / _interpolate_emb_1d do at run time.
func fitPositions(src *Source, grid, frames int) ([]string, error) {
	var done []string
	sp, tp := videoPrismPrefix+"spatial_pos_emb/emb_var", videoPrismPrefix+"temporal_pos_emb/emb_var"
	if t, ok := src.Tensors[sp]; ok && len(t.Shape) == 2 && t.Shape[0] != grid*grid {
		side := int(math.Round(math.Sqrt(float64(t.Shape[0]))))
		if side*side != t.Shape[0] {
			return nil, fmt.Errorf("%s has %d rows, not a square grid", sp, t.Shape[0])
		}
		r, err := resizeTable(t, []int{side, side}, []int{grid, grid})
		if err != nil {
			return nil, err
		}
		src.Tensors[sp] = r
		done = append(done, fmt.Sprintf("%s: %dx%d -> %dx%d positions", sp, side, side, grid, grid))
	}
	if t, ok := src.Tensors[tp]; ok && len(t.Shape) == 2 && t.Shape[0] != frames {
		r, err := resizeTable(t, []int{t.Shape[0]}, []int{frames})
		if err != nil {
			return nil, err
		}
		src.Tensors[tp] = r
		done = append(done, fmt.Sprintf("%s: %d -> %d positions", tp, t.Shape[0], frames))
	}
	return done, nil
}

// resizeTable resizes a position table [prod(from), D], read as a grid of
// shape from, to the grid to, one axis at a time.
func resizeTable(t Tensor, from, to []int) (Tensor, error) {
	d := t.Shape[1]
	vals, dims := t.Float64(), append(append([]int{}, from...), d)
	for axis := range from {
		w := jaxLinearWeights(dims[axis], to[axis])
		outer, inner := 1, 1
		for _, x := range dims[:axis] {
			outer *= x
		}
		for _, x := range dims[axis+1:] {
			inner *= x
		}
		out := make([]float64, outer*to[axis]*inner)
		for o := range outer {
			for i := range to[axis] {
				for j, wj := range w[i] {
					if wj == 0 {
						continue
					}
					for k := range inner {
						out[(o*to[axis]+i)*inner+k] += wj * vals[(o*dims[axis]+j)*inner+k]
					}
				}
			}
		}
		vals, dims[axis] = out, to[axis]
	}
	n := 1
	for _, x := range to {
		n *= x
	}
	return FromFloat64(F32, []int{n, d}, vals)
}

// jaxLinearWeights is jax.image.resize's linear ("bilinear") weight matrix
// [out][in] for one axis (scale_and_translate with antialias, the default):
// a triangle kernel centred at (i + 0.5) in/out - 0.5, widened by in/out when
// shrinking, normalised to sum 1 over the input samples.
func jaxLinearWeights(in, out int) [][]float64 {
	inv := float64(in) / float64(out)
	ks := max(inv, 1)
	w := make([][]float64, out)
	for i := range w {
		w[i] = make([]float64, in)
		x := (float64(i)+0.5)*inv - 0.5
		sum := 0.0
		for j := range in {
			w[i][j] = max(0, 1-math.Abs(x-float64(j))/ks)
			sum += w[i][j]
		}
		for j := range in {
			if sum > 1000*float32Eps {
				w[i][j] /= sum
			}
		}
	}
	return w
}

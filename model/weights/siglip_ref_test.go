package weights

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// layerNorm is LayerNorm with weight and bias over one token.
func layerNorm(x, w, b []float64, eps float64) []float64 {
	mean, vr := 0.0, 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		vr += (v - mean) * (v - mean)
	}
	inv := 1 / math.Sqrt(vr/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = (v-mean)*inv*w[i] + b[i]
	}
	return y
}

func linearBias(w, b, x []float64) []float64 {
	y := linear(w, x, len(b))
	for i := range y {
		y[i] += b[i]
	}
	return y
}

// refSigLIP is the HF SigLIP vision tower in float64 loops over the HF
// tensors: conv patch embedding, positions, pre-LN blocks, post_layernorm.
func refSigLIP(c vit.Config, w map[string][]float64, img []uint8, s int) [][]float64 {
	p, d, g := c.PatchSize, c.Width, s/c.PatchSize
	px := func(y, x, ch int) float64 {
		return (float64(img[(y*s+x)*3+ch])/255 - c.ImageMean) / c.ImageStd
	}
	const vm = "vision_model."
	pw, pb, pos := w[vm+"embeddings.patch_embedding.weight"], w[vm+"embeddings.patch_embedding.bias"], w[vm+"embeddings.position_embedding.weight"]
	xs := make([][]float64, g*g)
	for tok := range xs {
		gy, gx := tok/g, tok%g
		xs[tok] = make([]float64, d)
		for o := range d {
			sum := pb[o] + pos[tok*d+o]
			for ch := range 3 {
				for y := range p {
					for x := range p {
						sum += pw[((o*3+ch)*p+y)*p+x] * px(gy*p+y, gx*p+x, ch)
					}
				}
			}
			xs[tok][o] = sum
		}
	}
	hd := d / c.Heads
	for l := range c.Layers {
		pre := vm + "encoder.layers." + itoa(l) + "."
		lin := func(name string, x []float64) []float64 {
			return linearBias(w[pre+name+".weight"], w[pre+name+".bias"], x)
		}
		q, k, v := make([][]float64, len(xs)), make([][]float64, len(xs)), make([][]float64, len(xs))
		for i, x := range xs {
			h := layerNorm(x, w[pre+"layer_norm1.weight"], w[pre+"layer_norm1.bias"], c.LayerNormEps)
			q[i], k[i], v[i] = lin("self_attn.q_proj", h), lin("self_attn.k_proj", h), lin("self_attn.v_proj", h)
		}
		for i := range xs {
			att := make([]float64, d)
			for h := range c.Heads {
				sc := make([]float64, len(xs))
				mx, sum := math.Inf(-1), 0.0
				for j := range xs {
					for e := range hd {
						sc[j] += q[i][h*hd+e] * k[j][h*hd+e]
					}
					sc[j] /= math.Sqrt(float64(hd))
					mx = max(mx, sc[j])
				}
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for e := range hd {
						att[h*hd+e] += sc[j] / sum * v[j][h*hd+e]
					}
				}
			}
			o := lin("self_attn.out_proj", att)
			for e := range d {
				xs[i][e] += o[e]
			}
		}
		for i, x := range xs {
			h := layerNorm(x, w[pre+"layer_norm2.weight"], w[pre+"layer_norm2.bias"], c.LayerNormEps)
			f := lin("mlp.fc1", h)
			for j := range f {
				f[j] = gelu(f[j])
			}
			f = lin("mlp.fc2", f)
			for e := range d {
				xs[i][e] += f[e]
			}
		}
	}
	for i, x := range xs {
		xs[i] = layerNorm(x, w[vm+"post_layernorm.weight"], w[vm+"post_layernorm.bias"], c.LayerNormEps)
	}
	return xs
}

// The imported context encoder computes HF SigLIP's vision tower.
func TestImportedSigLIPMatchesReference(t *testing.T) {
	m := tinyModel(t, nil)
	ckpt := hfCheckpoint(t, m, rand.New(rand.NewPCG(17, 18)))
	if _, err := Import(m, mustSource(t, writeTemp(t, ckpt)), "import", SigLIPMap(), GemmaMap()); err != nil {
		t.Fatal(err)
	}
	c, s := m.Cfg.ContextEncoder, m.Cfg.Input.Size
	rng := rand.New(rand.NewPCG(19, 20))
	img := make([]uint8, s*s*3)
	for i := range img {
		img[i] = uint8(rng.IntN(256))
	}
	e, err := gm.NewExec(testBackend(t), m.Store, func(scope *gm.Scope, x *graph.Node) *graph.Node {
		return vit.Forward(scope.At("context_encoder"), x, dtypes.Float32, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Call(tensors.FromFlatDataAndDimensions(img, 1, s, s, 3))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []float64
	out[0].ConstFlatData(func(a any) {
		for _, v := range a.([]float32) {
			got = append(got, float64(v))
		}
	})
	w := map[string][]float64{}
	for n, tt := range ckpt.Tensors {
		w[n] = tt.Float64()
	}
	for _, row := range refSigLIP(c, w, img, s) {
		want = append(want, row...)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	if r := maxRelErr(got, want); r > 1e-4 {
		t.Errorf("context encoder differs from the float64 SigLIP reference: max rel err %g", r)
	} else {
		t.Logf("max rel err %g", r)
	}
}

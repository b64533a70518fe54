package weights

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/decoder"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// refDecoder is a float64 Gemma forward pass in plain loops over the HF
// tensors (PyTorch layouts, no transposes), independent of the graph code.
type refDecoder struct {
	c decoder.Config
	w map[string][]float64
}

// linear is y = W x with W [out, in] row-major (nn.Linear).
func linear(w, x []float64, out int) []float64 {
	in := len(x)
	y := make([]float64, out)
	for o := range out {
		s := 0.0
		for i := range in {
			s += w[o*in+i] * x[i]
		}
		y[o] = s
	}
	return y
}

func (r refDecoder) rms(x []float64, name string) []float64 {
	w := r.w[name]
	ms := 0.0
	for _, v := range x {
		ms += v * v
	}
	inv := 1 / math.Sqrt(ms/float64(len(x))+r.c.RMSNormEps)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * inv * (1 + w[i])
	}
	return y
}

// rope rotates each head of x (heads*hd) at position pos, rotate-half style.
func (r refDecoder) rope(x []float64, heads, pos int) {
	hd := r.c.HeadDim
	half := hd / 2
	for h := range heads {
		v := x[h*hd : (h+1)*hd]
		for i := range half {
			a := float64(pos) * math.Pow(r.c.RopeTheta, -2*float64(i)/float64(hd))
			x1, x2 := v[i], v[i+half]
			v[i], v[i+half] = x1*math.Cos(a)-x2*math.Sin(a), x2*math.Cos(a)+x1*math.Sin(a)
		}
	}
}

func gelu(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// logits returns [T][V] next-token logits for the token ids.
func (r refDecoder) logits(ids []int) [][]float64 {
	c := r.c
	d, hd, t := c.Width, c.HeadDim, len(ids)
	emb := r.w["model.embed_tokens.weight"]
	xs := make([][]float64, t)
	for i, id := range ids {
		xs[i] = make([]float64, d)
		for j := range d {
			xs[i][j] = emb[id*d+j] * math.Sqrt(float64(d))
		}
	}
	for l := range c.Layers {
		pre := "model.layers." + itoa(l) + "."
		qs, ks, vs := make([][]float64, t), make([][]float64, t), make([][]float64, t)
		for i := range t {
			h := r.rms(xs[i], pre+"input_layernorm.weight")
			qs[i] = linear(r.w[pre+"self_attn.q_proj.weight"], h, c.Heads*hd)
			ks[i] = linear(r.w[pre+"self_attn.k_proj.weight"], h, c.KVHeads*hd)
			vs[i] = linear(r.w[pre+"self_attn.v_proj.weight"], h, c.KVHeads*hd)
			r.rope(qs[i], c.Heads, i)
			r.rope(ks[i], c.KVHeads, i)
		}
		for i := range t {
			att := make([]float64, c.Heads*hd)
			for h := range c.Heads {
				kvh := h / (c.Heads / c.KVHeads)
				scores := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					s := 0.0
					for e := range hd {
						s += qs[i][h*hd+e] * ks[j][kvh*hd+e]
					}
					scores[j] = s / math.Sqrt(float64(hd))
					mx = max(mx, scores[j])
				}
				sum := 0.0
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					sum += scores[j]
				}
				for j := range scores {
					for e := range hd {
						att[h*hd+e] += scores[j] / sum * vs[j][kvh*hd+e]
					}
				}
			}
			o := linear(r.w[pre+"self_attn.o_proj.weight"], att, d)
			for j := range d {
				xs[i][j] += o[j]
			}
		}
		for i := range t {
			h := r.rms(xs[i], pre+"post_attention_layernorm.weight")
			gate := linear(r.w[pre+"mlp.gate_proj.weight"], h, c.MLPDim)
			up := linear(r.w[pre+"mlp.up_proj.weight"], h, c.MLPDim)
			for j := range gate {
				gate[j] = gelu(gate[j]) * up[j]
			}
			down := linear(r.w[pre+"mlp.down_proj.weight"], gate, d)
			for j := range d {
				xs[i][j] += down[j]
			}
		}
	}
	out := make([][]float64, t)
	for i := range t {
		out[i] = linear(emb, r.rms(xs[i], "model.norm.weight"), c.VocabSize) // tied embeddings
	}
	return out
}

// decoderLogits runs the model's decoder graph on ids [1, T] -> [T*V].
func decoderLogits(t testing.TB, m *model.Model, ids []int) []float64 {
	t.Helper()
	e, err := gm.NewExec(testBackend(t), m.Store, func(scope *gm.Scope, tok *graph.Node) *graph.Node {
		ds := scope.At("decoder")
		return m.Dec.Logits(ds, m.Dec.Forward(ds, m.Dec.Embed(ds, tok), nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := make([]int32, len(ids))
	for i, id := range ids {
		tok[i] = int32(id)
	}
	out, err := e.Call(tensors.FromFlatDataAndDimensions(tok, 1, len(ids)))
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

// Importing a tiny HF-layout checkpoint gives decoder logits equal to a
// float64 reference forward pass over the same tensors (grouped-query
// attention with 2 KV heads, so the head grouping is exercised too).
func TestImportedDecoderMatchesReference(t *testing.T) {
	m := tinyModel(t, func(c *model.Config) { c.Decoder.KVHeads = 2 })
	ckpt := hfCheckpoint(t, m, rand.New(rand.NewPCG(11, 12)))
	if _, err := Import(m, mustSource(t, writeTemp(t, ckpt)), "import", SigLIPMap(), GemmaMap()); err != nil {
		t.Fatal(err)
	}
	ref := refDecoder{c: m.Cfg.Decoder, w: map[string][]float64{}}
	for n, tt := range ckpt.Tensors {
		ref.w[n] = tt.Float64()
	}
	ids := []int{2, 17, 300, 45, 511, 8, 99}
	got := decoderLogits(t, m, ids)
	var want []float64
	for _, row := range ref.logits(ids) {
		want = append(want, row...)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d logits, want %d", len(got), len(want))
	}
	if r := maxRelErr(got, want); r > 1e-4 {
		t.Errorf("decoder logits differ from the float64 reference: max rel err %g", r)
	} else {
		t.Logf("max rel err %g", r)
	}
}

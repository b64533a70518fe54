package decoder

import (
	"math"
	"slices"

	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Decoder bundles the config and adapters; scope is the decoder's root scope
// (variables live under scope/model/...).
type Decoder struct {
	Cfg   Config
	LoRA  LoRAConfig
	DType dtypes.DType
}

// root is the scope of the HF-named weights. What trains is the caller's
// choice, set on scope: layers.ParamTrainable for the base weights and
// layers.ParamLoRATrainable for the adapters (model.TrainableConfig).
func (d Decoder) root(scope *model.Scope) *model.Scope { return scope.At("model") }

func (d Decoder) embedTable(scope *model.Scope, g *Graph) *Node {
	s := d.root(scope).At("embed_tokens")
	return layers.Var(s, g, "weight", d.DType, layers.NormalInit(s, 1/math.Sqrt(float64(d.Cfg.Width))),
		d.Cfg.VocabSize, d.Cfg.Width)
}

// Embed looks up token ids [B, L] (int) and scales by sqrt(D) -> [B, L, D].
func (d Decoder) Embed(scope *model.Scope, ids *Node) *Node {
	layers.AssertRank(ids, 2, "token ids")
	table := d.embedTable(scope, ids.Graph())
	x := Gather(table, ExpandAxes(ids, -1))
	return MulScalar(x, math.Sqrt(float64(d.Cfg.Width)))
}

// Logits projects hidden states [..., D] onto the tied embeddings -> [..., V].
func (d Decoder) Logits(scope *model.Scope, hidden *Node) *Node {
	table := d.embedTable(scope, hidden.Graph())
	return layers.Contract(hidden, []int{hidden.Rank() - 1}, nil, table, []int{1}, nil)
}

// TokenRows returns the embedding rows of the given ids -> [len(ids), D]; the
// logit of token i at a hidden state h is h . row_i.
func (d Decoder) TokenRows(scope *model.Scope, g *Graph, ids []int) *Node {
	table := d.embedTable(scope, g)
	idx := make([][]int32, len(ids))
	for i, id := range ids {
		idx[i] = []int32{int32(id)}
	}
	return Gather(table, Const(g, idx))
}

// Forward runs the blocks over input embeddings x [B, T, D] with a causal mask
// (positions 0..T-1) and returns the final-normed hidden states [B, T, D].
// memory [B, Tm, D] (or nil) is read by cross-attention sub-layers.
func (d Decoder) Forward(scope *model.Scope, x, memory *Node) *Node {
	layers.AssertLastDim(x, d.Cfg.Width, "decoder input")
	root := d.root(scope)
	mask := layers.CausalMask(x.Graph(), x.Shape().Dim(1))
	ls := root.In("layers")
	for i := range d.Cfg.Layers {
		x = d.Block(ls.In("%d", i), x, mask, memory)
	}
	return layers.RMSNorm(root.In("norm"), x, d.Cfg.RMSNormEps)
}

// Block is one Gemma layer:
// x + o(attn(rope(q), rope(k), v)) on input_layernorm(x), optional
// + cross_attn(cross_attn_layernorm(.), memory), then + mlp(post_attention_layernorm(.)).
func (d Decoder) Block(scope *model.Scope, x, mask, memory *Node) *Node {
	return d.block(scope, x, memory, func(s *model.Scope, h *Node) *Node { return d.SelfAttention(s, h, mask) })
}

// block is Block with the self-attention sub-layer given, so that the cached
// path (ForwardCached) runs the same layer with its cached attention.
func (d Decoder) block(scope *model.Scope, x, memory *Node, selfAttn func(scope *model.Scope, h *Node) *Node) *Node {
	c := d.Cfg
	h := layers.RMSNorm(scope.In("input_layernorm"), x, c.RMSNormEps)
	x = Add(x, selfAttn(scope.In("self_attn"), h))
	if memory != nil {
		cs := scope.In("cross_attn_layernorm")
		cs.SetParam(layers.ParamTrainable, true)
		h = layers.RMSNorm(cs, x, c.RMSNormEps)
		ca := scope.In("cross_attn")
		ca.SetParam(layers.ParamTrainable, true)
		x = Add(x, d.CrossAttention(ca, h, memory))
	}
	h = layers.RMSNorm(scope.In("post_attention_layernorm"), x, c.RMSNormEps)
	return Add(x, layers.GeGLU(scope.In("mlp"), h, c.MLPDim))
}

// proj is a bias-free projection, LoRA-wrapped when name is a LoRA target.
func (d Decoder) proj(scope *model.Scope, name string, x *Node, out int) *Node {
	l := layers.LoRA{}
	if slices.Contains(d.LoRA.Targets, name) {
		l = layers.LoRA{Rank: d.LoRA.Rank, Alpha: d.LoRA.Alpha}
	}
	return layers.LoRALinear(scope.In("%s", name), x, out, l)
}

// SelfAttention: x [B, T, D] -> [B, T, D], rotary q/k, H query heads sharing KVHeads.
func (d Decoder) SelfAttention(scope *model.Scope, x, mask *Node) *Node {
	c := d.Cfg
	q, k, v := d.qkv(scope, x)
	q, k = layers.RoPE(q, c.RopeTheta), layers.RoPE(k, c.RopeTheta)
	o := layers.MergeHeads(layers.Attention(q, k, v, mask))
	return d.proj(scope, "o_proj", o, c.Width)
}

// qkv are the self-attention projections of x [B, T, D], split into heads
// (before the rotary embedding).
func (d Decoder) qkv(scope *model.Scope, x *Node) (q, k, v *Node) {
	c := d.Cfg
	q = layers.SplitHeads(d.proj(scope, "q_proj", x, c.Heads*c.HeadDim), c.Heads)
	k = layers.SplitHeads(d.proj(scope, "k_proj", x, c.KVHeads*c.HeadDim), c.KVHeads)
	v = layers.SplitHeads(d.proj(scope, "v_proj", x, c.KVHeads*c.HeadDim), c.KVHeads)
	return q, k, v
}

// CrossAttention: queries from x [B, T, D], keys/values from memory [B, Tm, D],
// all H heads, no mask and no rotary embedding.
func (d Decoder) CrossAttention(scope *model.Scope, x, memory *Node) *Node {
	c := d.Cfg
	layers.AssertLastDim(memory, c.Width, "cross-attention memory")
	q := layers.SplitHeads(layers.Linear(scope.In("q_proj"), x, c.Heads*c.HeadDim, false), c.Heads)
	k := layers.SplitHeads(layers.Linear(scope.In("k_proj"), memory, c.Heads*c.HeadDim, false), c.Heads)
	v := layers.SplitHeads(layers.Linear(scope.In("v_proj"), memory, c.Heads*c.HeadDim, false), c.Heads)
	o := layers.MergeHeads(layers.Attention(q, k, v, nil))
	return layers.Linear(scope.In("o_proj"), o, c.Width, false)
}

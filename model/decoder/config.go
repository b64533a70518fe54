// Package decoder is a Gemma-style causal language model: token embeddings
// scaled by sqrt(D), pre-RMSNorm blocks with rotary multi-query/grouped-query
// attention and a GeGLU MLP, a final RMSNorm and logits tied to the embeddings.
// LoRA adapters (rank r, B = 0 at init) are added to the configured attention
// projections, and optional cross-attention sub-layers let the decoder read a
// memory of visual tokens. Which of the base weights and adapters train is
// set on the decoder's scope (see Decoder.root); the cross-attention
// sub-layers always train.
//
// Variable names follow HF Gemma under the scope it is given:
//
//	model/embed_tokens/weight                          [V, D]
//	model/layers/N/input_layernorm/weight              (RMSNorm, applied as 1 + w)
//	model/layers/N/self_attn/{q,k,v,o}_proj/weight     [in, out] (transposed from PyTorch)
//	model/layers/N/self_attn/{q,k,v}_proj/lora_{A,B}   A [in, r], B [r, out]
//	model/layers/N/post_attention_layernorm/weight
//	model/layers/N/mlp/{gate,up,down}_proj/weight
//	model/norm/weight
//
// Cross-attention (fusion "cross-attention") adds, trainable,
// model/layers/N/cross_attn_layernorm/weight and model/layers/N/cross_attn/{q,k,v,o}_proj/weight.
package decoder

import (
	"fmt"
	"slices"
)

// Config sizes the decoder.
type Config struct {
	VocabSize  int     `yaml:"vocab_size"`
	Width      int     `yaml:"width"`    // hidden size D
	Layers     int     `yaml:"layers"`   // transformer blocks
	Heads      int     `yaml:"heads"`    // query heads H
	KVHeads    int     `yaml:"kv_heads"` // key/value heads (1 = multi-query)
	HeadDim    int     `yaml:"head_dim"`
	MLPDim     int     `yaml:"mlp_dim"` // GeGLU hidden size
	RopeTheta  float64 `yaml:"rope_theta"`
	RMSNormEps float64 `yaml:"rms_norm_eps"`
}

// LoRAConfig configures the adapters.
type LoRAConfig struct {
	Rank    int      `yaml:"rank"`    // 0 disables LoRA
	Alpha   float64  `yaml:"alpha"`   // scale = alpha / rank
	Targets []string `yaml:"targets"` // subset of q_proj, k_proj, v_proj, o_proj
}

// Validate checks the decoder config.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0 || c.Width <= 0 || c.Layers < 0 || c.Heads <= 0 || c.KVHeads <= 0 || c.HeadDim <= 0 || c.MLPDim <= 0:
		return fmt.Errorf("vocab_size, width, heads, kv_heads, head_dim, mlp_dim must be > 0 and layers >= 0")
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("heads %d is not a multiple of kv_heads %d", c.Heads, c.KVHeads)
	case c.HeadDim%2 != 0:
		return fmt.Errorf("head_dim %d must be even for rotary embeddings", c.HeadDim)
	case c.RopeTheta <= 0 || c.RMSNormEps <= 0:
		return fmt.Errorf("rope_theta and rms_norm_eps must be > 0")
	}
	return nil
}

// LoRATargets are the projections LoRA may wrap.
var LoRATargets = []string{"q_proj", "k_proj", "v_proj", "o_proj"}

// Validate checks the LoRA config.
func (l LoRAConfig) Validate() error {
	if l.Rank < 0 {
		return fmt.Errorf("rank must be >= 0")
	}
	if l.Rank > 0 && l.Alpha <= 0 {
		return fmt.Errorf("alpha must be > 0")
	}
	for _, t := range l.Targets {
		if !slices.Contains(LoRATargets, t) {
			return fmt.Errorf("unknown target %q (valid: %v)", t, LoRATargets)
		}
	}
	return nil
}

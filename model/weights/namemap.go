package weights

import (
	"fmt"
	"regexp"
	"strings"
)

// Transform says how a source tensor's layout becomes the variable's.
type Transform int

const (
	// Same copies the tensor as is.
	Same Transform = iota
	// Transpose swaps the axes of a 2-D tensor: PyTorch nn.Linear weights are
	// [out, in], cpllm Dense weights are [in, out].
	Transpose
	// ConvToPatch turns a conv patch embedding [D, C, p, p] into the Dense
	// weight [p*p*C, D] of vit.Patchify's (row, column, channel) flattening.
	ConvToPatch
	// AddOne adds 1 to every value: flax/praxis LayerNorm scales by
	// (1 + scale) where cpllm's LayerNorm multiplies by its weight.
	AddOne
	// MergeHeads joins the last two axes: a flax attention projection
	// [D, N, H] becomes the Dense weight [D, N*H], its bias [N, H] becomes [N*H].
	MergeHeads
	// MergeHeadsTranspose turns a flax output projection [D, N, H]
	// (out = sum over N, H) into the Dense weight [N*H, D].
	MergeHeadsTranspose
)

// Rule maps one family of source names to variable paths. Both patterns may
// contain "{N}" (a layer index, matched as digits and substituted as is).
type Rule struct {
	Var       string // variable path relative to NameMap.Scope, e.g. "encoder/layers/{N}/mlp/fc1/weight"
	Source    string // source tensor name, e.g. "vision_model.encoder.layers.{N}.mlp.fc1.weight"
	Transform Transform
}

// NameMap declares how a checkpoint fills the variables under one scope.
// Every variable under Scope must be produced by exactly one rule unless it
// matches SkipVars; every source tensor must be consumed unless it matches
// IgnoreSources. Anything else makes the import fail.
type NameMap struct {
	Name          string // for messages, e.g. "siglip"
	Scope         string // variable path prefix, e.g. "/context_encoder"
	Rules         []Rule
	SkipVars      []*regexp.Regexp // variables the checkpoint does not hold (e.g. LoRA adapters)
	IgnoreSources []*regexp.Regexp // source tensors deliberately dropped (e.g. SigLIP's text tower)
}

// ruleFor returns the source name and transform of variable path rel
// (relative to the scope), or ok=false when no rule matches.
func (nm NameMap) ruleFor(rel string) (source string, tr Transform, ok bool) {
	for _, r := range nm.Rules {
		re := patternRegexp(r.Var)
		if m := re.FindStringSubmatch(rel); m != nil {
			src := r.Source
			if len(m) > 1 {
				src = strings.ReplaceAll(src, "{N}", m[1])
			}
			return src, r.Transform, true
		}
	}
	return "", Same, false
}

func patternRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "{N}")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, `(\d+)`) + "$")
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// SigLIPMap maps an HF SigLIP vision tower (SiglipVisionModel, or the vision
// half of SiglipModel) onto the context encoder (model/vit layout).
func SigLIPMap() NameMap {
	const vm = "vision_model."
	rules := []Rule{
		{"embeddings/patch_embedding/weight", vm + "embeddings.patch_embedding.weight", ConvToPatch},
		{"embeddings/patch_embedding/bias", vm + "embeddings.patch_embedding.bias", Same},
		{"embeddings/position_embedding/weight", vm + "embeddings.position_embedding.weight", Same},
		{"post_layernorm/weight", vm + "post_layernorm.weight", Same},
		{"post_layernorm/bias", vm + "post_layernorm.bias", Same},
	}
	layer := func(v, s string, tr Transform) {
		rules = append(rules, Rule{"encoder/layers/{N}/" + v, vm + "encoder.layers.{N}." + s, tr})
	}
	for _, ln := range []string{"layer_norm1", "layer_norm2"} {
		layer(ln+"/weight", ln+".weight", Same)
		layer(ln+"/bias", ln+".bias", Same)
	}
	for _, p := range []string{"self_attn/q_proj", "self_attn/k_proj", "self_attn/v_proj", "self_attn/out_proj", "mlp/fc1", "mlp/fc2"} {
		s := strings.ReplaceAll(p, "/", ".")
		layer(p+"/weight", s+".weight", Transpose)
		layer(p+"/bias", s+".bias", Same)
	}
	return NameMap{
		Name:  "siglip",
		Scope: "/context_encoder",
		Rules: rules,
		// The attention-pooling head, the text tower and the contrastive
		// scalars are not part of CP-LLM's context encoder.
		IgnoreSources: []*regexp.Regexp{
			regexp.MustCompile(`^vision_model\.head\.`),
			regexp.MustCompile(`^text_model\.`),
			regexp.MustCompile(`^logit_(scale|bias)$`),
		},
	}
}

// GemmaMap maps an HF Gemma causal LM onto the decoder (model/decoder layout).
// LoRA adapters and cross-attention sub-layers are cpllm additions the
// checkpoint cannot hold; they keep their initial values.
func GemmaMap() NameMap {
	rules := []Rule{
		{"model/embed_tokens/weight", "model.embed_tokens.weight", Same},
		{"model/norm/weight", "model.norm.weight", Same},
	}
	layer := func(v, s string, tr Transform) {
		rules = append(rules, Rule{"model/layers/{N}/" + v, "model.layers.{N}." + s, tr})
	}
	layer("input_layernorm/weight", "input_layernorm.weight", Same)
	layer("post_attention_layernorm/weight", "post_attention_layernorm.weight", Same)
	for _, p := range []string{"self_attn/q_proj", "self_attn/k_proj", "self_attn/v_proj", "self_attn/o_proj",
		"mlp/gate_proj", "mlp/up_proj", "mlp/down_proj"} {
		layer(p+"/weight", strings.ReplaceAll(p, "/", ".")+".weight", Transpose)
	}
	return NameMap{
		Name:  "gemma",
		Scope: "/decoder",
		Rules: rules,
		SkipVars: []*regexp.Regexp{
			regexp.MustCompile(`/lora_[AB]$`),
			regexp.MustCompile(`/cross_attn(_layernorm)?/`),
		},
		// Gemma ties the output projection to the embeddings; some exports
		// still carry the copy, which cpllm does not need.
		IgnoreSources: []*regexp.Regexp{regexp.MustCompile(`^lm_head\.weight$`)},
	}
}

// transformShape is the variable shape a source shape becomes under tr.
func transformShape(tr Transform, s []int) ([]int, error) {
	switch tr {
	case Transpose:
		if len(s) != 2 {
			return nil, fmt.Errorf("transpose needs a 2-D tensor, got shape %v", s)
		}
		return []int{s[1], s[0]}, nil
	case ConvToPatch:
		if len(s) != 4 || s[2] != s[3] {
			return nil, fmt.Errorf("conv patch weight must be [D, C, p, p], got shape %v", s)
		}
		return []int{s[2] * s[3] * s[1], s[0]}, nil
	case MergeHeads:
		if len(s) < 2 {
			return nil, fmt.Errorf("merging heads needs at least 2 axes, got shape %v", s)
		}
		return append(append([]int{}, s[:len(s)-2]...), s[len(s)-2]*s[len(s)-1]), nil
	case MergeHeadsTranspose:
		if len(s) != 3 {
			return nil, fmt.Errorf("output projection must be [D, N, H], got shape %v", s)
		}
		return []int{s[1] * s[2], s[0]}, nil
	}
	return append([]int{}, s...), nil
}

// transformValues rearranges row-major values of source shape s under tr.
func transformValues(tr Transform, s []int, v []float64) []float64 {
	out := make([]float64, len(v))
	switch tr {
	case Transpose:
		r, c := s[0], s[1]
		for i := range r {
			for j := range c {
				out[j*r+i] = v[i*c+j]
			}
		}
	case AddOne:
		for i, x := range v {
			out[i] = x + 1
		}
	case MergeHeadsTranspose:
		return transformValues(Transpose, []int{s[0], s[1] * s[2]}, v)
	case ConvToPatch:
		d, ch, p := s[0], s[1], s[2]
		for o := range d {
			for k := range ch {
				for y := range p {
					for x := range p {
						row := (y*p+x)*ch + k // vit.Patchify flattens (row, column, channel)
						out[row*d+o] = v[((o*ch+k)*p+y)*p+x]
					}
				}
			}
		}
	default:
		copy(out, v)
	}
	return out
}

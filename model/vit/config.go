// Package vit is a SigLIP-style vision transformer (patchify by reshape + Dense,
// learned position embeddings, pre-LN blocks, multi-head attention, GELU MLP)
// and a VideoPrism-style factorised variant (spatial ViT within each image,
// then a transformer across images at each token position).
//
// Variable names follow the HF SigLIP vision layout under the scope it is given:
//
//	embeddings/patch_embedding/{weight,bias}   weight [p*p*3, D] (HF conv weight [D,3,p,p] permuted to (p,p,3,D))
//	embeddings/position_embedding/weight       [T, D]
//	encoder/layers/N/layer_norm1/{weight,bias}
//	encoder/layers/N/self_attn/{q_proj,k_proj,v_proj,out_proj}/{weight,bias}  weight [in, out]
//	encoder/layers/N/layer_norm2/{weight,bias}
//	encoder/layers/N/mlp/{fc1,fc2}/{weight,bias}
//	post_layernorm/{weight,bias}
package vit

import "fmt"

// Config sizes one ViT.
type Config struct {
	PatchSize    int     `yaml:"patch_size"`     // pixels per patch side
	Width        int     `yaml:"width"`          // hidden size D
	Layers       int     `yaml:"layers"`         // transformer blocks
	Heads        int     `yaml:"heads"`          // attention heads
	MLPDim       int     `yaml:"mlp_dim"`        // MLP hidden size
	LayerNormEps float64 `yaml:"layer_norm_eps"` // SigLIP: 1e-6
	ImageMean    float64 `yaml:"image_mean"`     // pixel/255 is normalised as (v - mean) / std
	ImageStd     float64 `yaml:"image_std"`
	PoolTokens   int     `yaml:"pool_tokens"` // tokens per image after 2D average pooling (a square); 0 = keep all
	// StemChannels > 0 puts a 3x3 convolution + GELU with that many output
	// channels before the patch embedding (an "early convolution" stem). A
	// linear patch embedding sees a patch's mean colour far more easily than
	// its noise or sharpness (energy, a quadratic feature); a randomly
	// initialised pixel encoder trained on little data learns those from a
	// stem much faster. 0 = plain SigLIP patchify (importable weights).
	StemChannels int `yaml:"stem_channels"`
	// StemActivation is the stem's nonlinearity: "gelu" (tanh approximation;
	// "" means gelu) or "relu". On the pure-Go backend GELU's exponential
	// over every stem output costs as much as the rest of a 64x64 pixel
	// encoder's step; ReLU is a comparison.
	StemActivation string `yaml:"stem_activation"`
	// LocalNorm > 0 divisively normalises each channel of the normalised
	// image by its local statistics in a LocalNorm x LocalNorm window
	// (x - mean) / sqrt(var + LocalNormEps), before the stem: the MSCN
	// coefficients of BRISQUE / CNN-IQA. It removes content brightness and
	// contrast so noise, blur and blocking stand out; on the synthetic corpus
	// it was the largest single gain for the pixel encoder. 0 = off.
	LocalNorm    int     `yaml:"local_norm"`
	LocalNormEps float64 `yaml:"local_norm_eps"`
	// LocalNormKeep feeds the stem the normalised image beside its MSCN map
	// (2C channels): MSCN divides local contrast out, and with it much of
	// what blur and strong compression take away. Needs local_norm.
	LocalNormKeep bool `yaml:"local_norm_keep"`
	// NSSStats adds to every patch token a learned projection of the
	// image's natural-scene statistics (moments of the MSCN map and of its
	// neighbour products at two scales, NSSStats): what classic no-reference
	// quality models regress on, given to the encoder instead of left for it
	// to discover from a few hundred labelled clips. Needs local_norm.
	NSSStats bool `yaml:"nss_stats"`
	// MLPActivation is the MLP's nonlinearity: "gelu_tanh" ("" means
	// gelu_tanh: SigLIP's gelu_pytorch_tanh) or "gelu_exact" (the erf form,
	// VideoPrism's jax.nn.gelu(approximate=False)).
	MLPActivation string `yaml:"mlp_activation"`
}

// FactorizedConfig sizes the VideoPrism-style pixel encoder: the spatial ViT
// plus TemporalLayers blocks across the images.
type FactorizedConfig struct {
	Config         `yaml:",inline"`
	TemporalLayers int `yaml:"temporal_layers"`
	// Resize > 0 bilinearly enlarges each S x S input to Resize x Resize
	// (half-pixel centres, edges clamped: PyTorch's bilinear interpolation
	// with align_corners=False, which equals jax.image.resize when
	// enlarging) before the patch embedding. It lets an encoder whose patch
	// size does not divide S, such as VideoPrism's 18-pixel patches on
	// CP-LLM's 224-pixel patches, see a grid it was trained on (288 -> 16x16).
	// 0 = off.
	Resize int `yaml:"resize"`
}

// InputSize is the side of the images the spatial ViT sees for inputs of side s.
func (c FactorizedConfig) InputSize(s int) int {
	if c.Resize > 0 {
		return c.Resize
	}
	return s
}

// Tokens returns the tokens per image after optional resizing and pooling.
func (c FactorizedConfig) Tokens(s int) int { return c.Config.Tokens(c.InputSize(s)) }

// Validate checks the config for inputs of side s.
func (c FactorizedConfig) Validate(s int) error {
	if c.Resize < 0 || (c.Resize > 0 && c.Resize < s) {
		return fmt.Errorf("resize %d must be 0 (off) or at least the input size %d (bilinear enlarging only)", c.Resize, s)
	}
	return c.Config.Validate(c.InputSize(s))
}

// Grid returns the number of patches per side for images of size s.
func (c Config) Grid(s int) int { return s / c.PatchSize }

// Tokens returns the tokens per image after optional pooling.
func (c Config) Tokens(s int) int {
	if c.PoolTokens > 0 {
		return c.PoolTokens
	}
	g := c.Grid(s)
	return g * g
}

// PoolSide returns the side of the pooled token grid (0 when not pooling).
func (c Config) PoolSide() int {
	for p := 1; p*p <= c.PoolTokens; p++ {
		if p*p == c.PoolTokens {
			return p
		}
	}
	return 0
}

// Validate checks the config for images of size s.
func (c Config) Validate(s int) error {
	switch {
	case c.PatchSize <= 0 || c.Width <= 0 || c.Layers < 0 || c.Heads <= 0 || c.MLPDim <= 0:
		return fmt.Errorf("patch_size, width, heads, mlp_dim must be > 0 and layers >= 0")
	case s%c.PatchSize != 0:
		return fmt.Errorf("image size %d is not a multiple of patch_size %d", s, c.PatchSize)
	case c.Width%c.Heads != 0:
		return fmt.Errorf("width %d is not a multiple of heads %d", c.Width, c.Heads)
	case c.LayerNormEps <= 0:
		return fmt.Errorf("layer_norm_eps must be > 0")
	case c.ImageStd <= 0:
		return fmt.Errorf("image_std must be > 0")
	case c.PoolTokens < 0:
		return fmt.Errorf("pool_tokens must be >= 0")
	case c.StemChannels < 0:
		return fmt.Errorf("stem_channels must be >= 0")
	case c.StemActivation != "" && c.StemActivation != "gelu" && c.StemActivation != "relu":
		return fmt.Errorf("stem_activation %q must be gelu or relu", c.StemActivation)
	case c.LocalNorm < 0 || (c.LocalNorm > 0 && c.LocalNorm%2 == 0):
		return fmt.Errorf("local_norm %d must be 0 (off) or an odd window size", c.LocalNorm)
	case c.LocalNorm > 0 && c.LocalNormEps <= 0:
		return fmt.Errorf("local_norm_eps must be > 0 when local_norm is on")
	case c.LocalNormKeep && c.LocalNorm == 0:
		return fmt.Errorf("local_norm_keep needs local_norm")
	case c.NSSStats && c.LocalNorm == 0:
		return fmt.Errorf("nss_stats needs local_norm (the statistics are of the MSCN map)")
	case c.NSSStats && s%2 != 0:
		return fmt.Errorf("nss_stats needs an even input size (its second scale halves it), got %d", s)
	case c.MLPActivation != "" && c.MLPActivation != "gelu_tanh" && c.MLPActivation != "gelu_exact":
		return fmt.Errorf("mlp_activation %q must be gelu_tanh or gelu_exact", c.MLPActivation)
	case c.PoolTokens > 0 && c.PoolSide() == 0:
		return fmt.Errorf("pool_tokens %d is not a square number", c.PoolTokens)
	case c.PoolTokens > 0 && c.PoolSide() > c.Grid(s):
		return fmt.Errorf("pool_tokens %d exceeds the %dx%d patch grid", c.PoolTokens, c.Grid(s), c.Grid(s))
	}
	return nil
}

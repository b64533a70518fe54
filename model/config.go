package model

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/internal/strictyaml"
	"github.com/cpllm/cpllm/model/decoder"
	"github.com/cpllm/cpllm/model/vit"
	"github.com/gomlx/compute/dtypes"
)

// Config is the whole model: variant, inputs, encoders, projectors, decoder,
// LoRA and heads. configs/model/{tiny,paper}.yaml are examples.
type Config struct {
	Name           string               `yaml:"name"`
	Backend        string               `yaml:"backend"`   // "" = DefaultBackend
	DType          string               `yaml:"dtype"`     // float32 (default) or float64
	Seed           int64                `yaml:"seed"`      // initialisation seed
	Tokenizer      string               `yaml:"tokenizer"` // SentencePiece .model; relative to the YAML file naming it
	Variant        VariantConfig        `yaml:"variant"`
	Input          InputConfig          `yaml:"input"`
	ContextEncoder vit.Config           `yaml:"context_encoder"`
	PixelEncoder   vit.FactorizedConfig `yaml:"pixel_encoder"`
	Projector      ProjectorConfig      `yaml:"projector"`
	Decoder        decoder.Config       `yaml:"decoder"`
	LoRA           decoder.LoRAConfig   `yaml:"lora"`
	Trainable      TrainableConfig      `yaml:"trainable"` // what training updates, per component
	Heads          HeadsConfig          `yaml:"heads"`
	Prompts        PromptsConfig        `yaml:"prompts"`
	// Stats names per-video statistics (StatsKinds) that enter the decoder
	// as one extra visual token per video; "" = none.
	Stats string `yaml:"stats"`
}

// VariantConfig selects the encoders and the fusion (see Variants()).
type VariantConfig struct {
	Encoders     string `yaml:"encoders"`      // context+pixel | context-only | pixel-only
	Fusion       string `yaml:"fusion"`        // concat | cross-attention | average | early-concat
	FusionTokens int    `yaml:"fusion_tokens"` // aligned token count for average/early-concat; 0 = the smaller stream's
}

// Name is "encoders/fusion".
func (v VariantConfig) Name() string { return v.Encoders + "/" + v.Fusion }

// InputConfig gives the input sizes.
type InputConfig struct {
	Frames     int `yaml:"frames"`       // M key frames for the context encoder
	Patches    int `yaml:"patches"`      // K patches for the pixel encoder
	Size       int `yaml:"size"`         // S: frames and patches are S x S RGB
	MaxTextLen int `yaml:"max_text_len"` // L: bound on the text tokens
	// EvalViews > 1 averages the score over that many fixed views of a
	// video's stored frames and patches (the canonical centre view plus
	// seeded crops, subsets and flips) at validation and inference: a small
	// input size sees only part of each stored patch. 0 = 1.
	EvalViews int `yaml:"eval_views"`
}

// ProjectorConfig configures the encoder-to-decoder projectors.
type ProjectorConfig struct {
	Type      string `yaml:"type"`       // linear | mlp (Linear, GELU, Linear)
	HiddenDim int    `yaml:"hidden_dim"` // mlp hidden size; 0 = decoder width
}

// HeadsConfig configures the task heads.
type HeadsConfig struct {
	Regression bool `yaml:"regression"` // add a linear score regressor on the answer hidden state
	// StatsLinear adds a linear function of the standardised statistics
	// (config stats) to the level logits as an ordinal tilt (StatsTilt):
	// a path from the statistics to the score that bypasses the decoder.
	StatsLinear bool `yaml:"stats_linear"`
	// StatsLinearGain multiplies that linear function (0 = 1). Adam moves
	// each weight by about the learning rate per step whatever the
	// gradient's size, so the gain sets how far the tilt can move in a
	// run: at gain 1 and lr 1e-3 the weights stay within +-0.06 in 600
	// steps (experiments/results/real-statslinear).
	StatsLinearGain float64 `yaml:"stats_linear_gain"`
	// StatsLinearDomains gives still images and videos their own linear
	// weights beside the shared ones (domainTilt); it needs a statistics
	// kind that ends with the still-image indicator (StillKind).
	StatsLinearDomains bool `yaml:"stats_linear_domains"`
	// LevelGate multiplies the decoder's level logits by a trainable
	// scalar that starts at 0 (levelGate). With stats_linear and a ridge
	// start (train stats_linear_init: ridge) the model then starts as the
	// ridge's reading exactly, and the decoder's reading of the score
	// enters only as far as training finds it lowers the loss.
	LevelGate bool `yaml:"level_gate"`
	// StatsKernel adds a kernel ridge reading of the 45 hand-made
	// statistics to the tilt, one per domain (statskernel.go), with this
	// many support slots (0 = off; at least the scored training records).
	// It is fit with the linear path (stats_linear_init: ridge), the two
	// readings averaged, and stays fixed while the network trains. Needs
	// stats_linear_domains. The fit holds a domain's n x n kernel matrix
	// and the graph an S x 45 table: meant for pools of a few thousand
	// scored records, not LSVQ's 28,000.
	StatsKernel int `yaml:"stats_kernel"`
}

// PromptsConfig is the prompt template of each task; the answer follows it.
type PromptsConfig struct {
	Score    string `yaml:"score"`    // answered by a level word (excellent .. bad)
	Describe string `yaml:"describe"` // answered by the quality description
	Pair     string `yaml:"pair"`     // two videos; answered by "first" or "second"
}

// DefaultPrompts are used for any prompt a config leaves empty.
var DefaultPrompts = PromptsConfig{
	Score:    "rate the quality of this video:",
	Describe: "describe the quality of this video:",
	Pair:     "which video has better quality, first or second?",
}

// LoadConfig reads a YAML model config strictly: unknown keys are errors
// naming the file and line. The tokenizer path is resolved against the
// file's directory, loaded and checked (LoadTokenizer).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := decodeConfig(path, data)
	if err != nil {
		return Config{}, err
	}
	if err := c.ResolveTokenizer(filepath.Dir(path)); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := LoadTokenizer(c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses YAML strictly and validates the result; a relative
// tokenizer path stays relative to the working directory and is loaded by
// Build (or LoadTokenizer).
func ParseConfig(data []byte) (Config, error) {
	c, err := decodeConfig("model config", data)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeConfig decodes data (name is used in errors) with the defaults applied.
func decodeConfig(name string, data []byte) (Config, error) {
	if strictyaml.IsEmpty(data) {
		return Config{}, fmt.Errorf("%s: the file is empty (a model config needs at least its input, encoder and decoder sizes; see configs/model/tiny.yaml)", name)
	}
	if err := checkRemovedKeys(name, data); err != nil {
		return Config{}, err
	}
	var c Config
	if err := strictyaml.Decode(name, data, &c); err != nil {
		return Config{}, err
	}
	c.applyDefaults()
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.Prompts.Score == "" {
		c.Prompts.Score = DefaultPrompts.Score
	}
	if c.Prompts.Describe == "" {
		c.Prompts.Describe = DefaultPrompts.Describe
	}
	if c.Prompts.Pair == "" {
		c.Prompts.Pair = DefaultPrompts.Pair
	}
	if c.DType == "" {
		c.DType = "float32"
	}
	if c.Variant.Encoders == "" {
		c.Variant.Encoders = "context+pixel"
	}
	if c.Variant.Fusion == "" {
		c.Variant.Fusion = "concat"
	}
	if c.Projector.Type == "" {
		c.Projector.Type = "mlp"
	}
	c.Trainable.applyDefaults()
}

// DTypeOf returns the compute dtype. With bfloat16 the variables stay
// float32 (master weights, optimizer state) and are cast where used; losses
// are computed in float32 (see layers.Var and TaskGraph).
func (c Config) DTypeOf() dtypes.DType {
	switch c.DType {
	case "float64":
		return dtypes.Float64
	case "bfloat16":
		return dtypes.BFloat16
	}
	return dtypes.Float32
}

// Validate checks every section and the variant.
func (c Config) Validate() error {
	var errs []error
	check := func(section string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", section, err))
		}
	}
	if c.DType != "float32" && c.DType != "float64" && c.DType != "bfloat16" {
		check("dtype", fmt.Errorf("%q is not float32, float64 or bfloat16", c.DType))
	}
	v, err := LookupVariant(c.Variant.Encoders, c.Variant.Fusion)
	check("variant", err)
	if c.Variant.FusionTokens < 0 {
		check("variant", errors.New("fusion_tokens must be >= 0"))
	}
	in := c.Input
	if in.Size <= 0 || in.MaxTextLen <= 0 {
		check("input", errors.New("size and max_text_len must be > 0"))
	}
	if in.EvalViews < 0 {
		check("input", errors.New("eval_views must be >= 0"))
	}
	if err == nil && v.Context {
		if in.Frames <= 0 {
			check("input", errors.New("frames must be > 0"))
		}
		check("context_encoder", c.ContextEncoder.Validate(in.Size))
	}
	if err == nil && v.Pixel {
		if in.Patches <= 0 {
			check("input", errors.New("patches must be > 0"))
		}
		check("pixel_encoder", c.PixelEncoder.Validate(in.Size))
		if c.PixelEncoder.TemporalLayers < 0 {
			check("pixel_encoder", errors.New("temporal_layers must be >= 0"))
		}
	}
	if c.Projector.Type != "linear" && c.Projector.Type != "mlp" {
		check("projector", fmt.Errorf("type %q is not linear or mlp", c.Projector.Type))
	}
	if c.Projector.HiddenDim < 0 {
		check("projector", errors.New("hidden_dim must be >= 0"))
	}
	check("stats", validateStats(c.Stats))
	if c.Heads.StatsLinearGain < 0 || math.IsNaN(c.Heads.StatsLinearGain) || math.IsInf(c.Heads.StatsLinearGain, 0) {
		check("heads", fmt.Errorf("stats_linear_gain %g must be >= 0 (0 = 1)", c.Heads.StatsLinearGain))
	}
	if c.Heads.StatsLinear && c.Stats == "" {
		check("heads", errors.New("stats_linear needs statistics: set stats (nss, nss-signals or nss-logsignals)"))
	}
	if c.Heads.StatsLinearDomains && (!c.Heads.StatsLinear || !StillKind(c.Stats)) {
		check("heads", fmt.Errorf("stats_linear_domains needs stats_linear: true and stats frame-nss-logsignals+mnv2mid+still (got stats_linear %v, stats %q)", c.Heads.StatsLinear, c.Stats))
	}
	if c.Heads.StatsKernel < 0 {
		check("heads", fmt.Errorf("stats_kernel %d must be >= 0 (0 = off)", c.Heads.StatsKernel))
	}
	if c.Heads.StatsKernel > 0 && !c.Heads.StatsLinearDomains {
		check("heads", errors.New("stats_kernel needs stats_linear_domains: true (a kernel reading per domain, videos and still images)"))
	}
	if c.Heads.LevelGate && !c.Heads.StatsLinear {
		check("heads", errors.New("level_gate needs stats_linear: true (with the decoder's logits gated to zero, the score needs the statistics' tilt)"))
	}
	check("decoder", c.Decoder.Validate())
	check("lora", c.LoRA.Validate())
	if err := c.Trainable.Validate(c.LoRA); err != nil {
		errs = append(errs, err)
	}
	if c.Tokenizer == "" { // its size is checked against decoder.vocab_size by LoadTokenizer
		errs = append(errs, errTokenizerMissing)
	}
	return errors.Join(errs...)
}

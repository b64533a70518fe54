// Package model is CP-LLM: a context encoder (SigLIP-style ViT over M key
// frames) and a pixel encoder (VideoPrism-style factorised ViT over K native
// resolution patches) whose tokens are projected into a Gemma-style decoder
// fine-tuned with LoRA. The decoder reads
//
//	[bos] [context tokens] [pixel tokens] prompt tokens -> answer
//
// and answers with a quality level word (score = expectation over the five
// level words), a description (next-token logits) or, for two videos in one
// prompt, "first"/"second".
//
// Top-level variable scopes: context_encoder, pixel_encoder/{spatial,temporal},
// projector/{context,pixel,shared,stats}, stats_norm, fusion, decoder/model, heads.
package model

import (
	"github.com/cpllm/cpllm/model/decoder"
	"github.com/gomlx/compute/dtypes"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Model holds a built configuration: the variable store and the token ids the
// heads read. Graph functions (Hidden, LevelLogits, ...) take the store's scope.
type Model struct {
	Cfg     Config
	Variant Variant
	Store   *gm.Store
	Tok     Tokenizer
	Dec     decoder.Decoder

	BOS, EOS, Pad int
	LevelIDs      [5]int // ids of LevelWords
	PairIDs       [2]int // ids of PairWords
}

// Build validates cfg and creates a model whose tokenizer is cfg's
// SentencePiece model (LoadTokenizer); the special ids come from its proto,
// the level and pair ids are the word-initial pieces "▁good" etc.
// Variables are created on the first graph built (see Init).
func Build(cfg Config) (*Model, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v, err := LookupVariant(cfg.Variant.Encoders, cfg.Variant.Fusion)
	if err != nil {
		return nil, err
	}
	sp, err := LoadTokenizer(cfg)
	if err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg, Variant: v, Store: gm.NewStore(), Tok: spTokenizer{sp},
		Dec: decoder.Decoder{Cfg: cfg.Decoder, LoRA: cfg.LoRA, DType: cfg.DTypeOf()},
		BOS: sp.BOS(), EOS: sp.EOS(), Pad: sp.Pad()}
	if err := m.Store.SetRNGStateFromSeed(cfg.Seed); err != nil {
		return nil, err
	}
	m.markTrainable()
	for i, w := range LevelWords {
		m.LevelIDs[i], _ = sp.AnswerID(w) // LoadTokenizer checked each is one token
	}
	for i, w := range PairWords {
		m.PairIDs[i], _ = sp.AnswerID(w)
	}
	return m, nil
}

// DType is the compute dtype.
func (m *Model) DType() dtypes.DType { return m.Cfg.DTypeOf() }

// VisualTokensPerVideo is the number of visual tokens one video contributes
// (in the sequence, or to the cross-attention memory).
func (m *Model) VisualTokensPerVideo() int {
	c := m.Cfg
	tc, tp := 0, 0
	if m.Variant.Context {
		tc = c.Input.Frames * c.ContextEncoder.Tokens(c.Input.Size)
	}
	if m.Variant.Pixel {
		tp = c.Input.Patches * c.PixelEncoder.Tokens(c.Input.Size)
	}
	t := m.Variant.fusion.Tokens(m, tc, tp)
	if m.Cfg.Stats != "" {
		t++ // the statistics token
	}
	return t
}

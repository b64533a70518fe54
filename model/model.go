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
// projector/{context,pixel,shared}, fusion, decoder/model, heads.
package model

import (
	"fmt"

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

// Build validates cfg and creates a model with the stub Vocab tokenizer.
func Build(cfg Config) (*Model, error) { return BuildWithTokenizer(cfg, NewVocab()) }

// BuildWithTokenizer creates a model using tok for the special and answer words.
// Variables are created on the first graph built (see Init).
func BuildWithTokenizer(cfg Config, tok Tokenizer) (*Model, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v, err := LookupVariant(cfg.Variant.Encoders, cfg.Variant.Fusion)
	if err != nil {
		return nil, err
	}
	m := &Model{Cfg: cfg, Variant: v, Store: gm.NewStore(), Tok: tok,
		Dec: decoder.Decoder{Cfg: cfg.Decoder, LoRA: cfg.LoRA, DType: cfg.DTypeOf()}}
	if err := m.Store.SetRNGStateFromSeed(cfg.Seed); err != nil {
		return nil, err
	}
	m.markTrainable()
	ids := map[string]*int{BOSToken: &m.BOS, EOSToken: &m.EOS, PadToken: &m.Pad}
	for i, w := range LevelWords {
		ids[w] = &m.LevelIDs[i]
	}
	for i, w := range PairWords {
		ids[w] = &m.PairIDs[i]
	}
	for w, dst := range ids {
		id, ok := tok.ID(w)
		if !ok {
			return nil, fmt.Errorf("tokenizer has no single token for %q", w)
		}
		if id >= cfg.Decoder.VocabSize {
			return nil, fmt.Errorf("token %q has id %d >= decoder vocab_size %d", w, id, cfg.Decoder.VocabSize)
		}
		*dst = id
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
	return m.Variant.fusion.Tokens(m, tc, tp)
}

// Package generate decodes text from a CP-LLM model: greedy or top-k / top-p
// sampling with temperature and a seed, stop tokens and a maximum length, for a
// batch of prompts over the same videos' layout ([bos] [visual tokens] prompt,
// as model.Model.Hidden lays it out).
//
// Every graph has static shapes, so it runs on the pure-Go backend (which lacks
// DynamicUpdateSlice): with UseCache the prefix fills a fixed-size KV cache
// once and each step feeds one token per row (decoder.ForwardCached); without
// it every step recomputes the decoder over a fixed padded length, which is the
// reference the cache is tested against. Graphs return logits only; sampling
// happens in Go.
package generate

import (
	"fmt"

	"github.com/cpllm/cpllm/model"
)

// Options control decoding.
type Options struct {
	MaxNew      int     // maximum number of generated tokens per row (>= 1)
	Temperature float64 // <= 0: greedy (argmax)
	TopK        int     // > 0: sample among the k most likely tokens
	TopP        float64 // in (0, 1): sample from the smallest set with probability >= TopP
	Seed        uint64  // sampling seed; row i uses its own stream (Seed, i)
	Stop        []int   // tokens that end a row (not included in its output)
	UseCache    bool    // KV cache (fast) or full recomputation (reference)
}

// DefaultOptions is greedy decoding of up to 32 tokens with the KV cache,
// stopping at the model's EOS.
func DefaultOptions(m *model.Model) Options {
	return Options{MaxNew: 32, Stop: []int{m.EOS}, UseCache: true}
}

func (o Options) validate() error {
	switch {
	case o.MaxNew < 1:
		return fmt.Errorf("generate: MaxNew %d must be >= 1", o.MaxNew)
	case o.TopK < 0:
		return fmt.Errorf("generate: TopK %d must be >= 0", o.TopK)
	case o.TopP < 0 || o.TopP > 1:
		return fmt.Errorf("generate: TopP %g must be in [0, 1]", o.TopP)
	}
	return nil
}

func (o Options) greedy() bool { return o.Temperature <= 0 || o.TopK == 1 }

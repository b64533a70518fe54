package generate

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
)

// cacheStepper runs the prefix once into a KV cache, then one token per row
// per step.
type cacheStepper struct {
	layout
	cache []*tensors.Tensor // K, V per layer: [B, KVHeads, Lmax, HeadDim]
}

func (s *cacheStepper) first() ([][]float32, error) {
	// Lmax equals the recompute path's padded length, so the two attend over
	// the same number of (masked) positions.
	lmax := s.off + s.p + s.maxNew
	e, err := s.g.prefillExec(lmax)
	if err != nil {
		return nil, err
	}
	b := len(s.prompts)
	tok := tensors.FromFlatDataAndDimensions(s.tokens(s.p), b, s.p)
	outs, err := e.Call(s.vis, tok, s.positions(0))
	if err != nil {
		return nil, fmt.Errorf("generate: prefill: %w", err)
	}
	s.cache = outs[1:]
	return rows(outs[0])
}

func (s *cacheStepper) next(tok []int, step int) ([][]float32, error) {
	e, err := s.g.stepExec()
	if err != nil {
		return nil, err
	}
	in := make([]any, 0, 3+len(s.cache))
	if s.g.crossAttn() {
		in = append(in, s.vis)
	}
	t := make([]int32, len(tok))
	for i, v := range tok {
		t[i] = int32(v)
	}
	in = append(in, tensors.FromFlatDataAndDimensions(t, len(t), 1), s.positions(step+1))
	for _, c := range s.cache {
		in = append(in, c)
	}
	outs, err := e.Call(in...)
	if err != nil {
		return nil, fmt.Errorf("generate: step %d: %w", step, err)
	}
	s.freeCache()
	s.cache = outs[1:]
	return rows(outs[0])
}

func (s *cacheStepper) freeCache() {
	for _, c := range s.cache {
		_ = c.FinalizeAll()
	}
	s.cache = nil
}

func (s *cacheStepper) free() {
	s.freeCache()
	s.layout.free()
}

// recomputeStepper reruns the decoder over the whole padded sequence
// (text length longest prompt + MaxNew) every step: the reference path.
type recomputeStepper struct {
	layout
	text []int32 // [B, width]: prompts, generated tokens, Pad
}

func (s *recomputeStepper) width() int { return s.p + s.maxNew }

func (s *recomputeStepper) first() ([][]float32, error) {
	s.text = s.tokens(s.width())
	return s.run(0)
}

func (s *recomputeStepper) next(tok []int, step int) ([][]float32, error) {
	w := s.width()
	for i, p := range s.prompts {
		s.text[i*w+len(p)+step] = int32(tok[i])
	}
	return s.run(step + 1)
}

func (s *recomputeStepper) run(shift int) ([][]float32, error) {
	e, err := s.g.recomputeExec()
	if err != nil {
		return nil, err
	}
	b := len(s.prompts)
	tok := tensors.FromFlatDataAndDimensions(append([]int32(nil), s.text...), b, s.width())
	outs, err := e.Call(s.vis, tok, s.positions(shift))
	if err != nil {
		return nil, fmt.Errorf("generate: recompute: %w", err)
	}
	return rows(outs[0])
}

package generate

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
)

// Generate decodes a batch: row i reads the videos' row i, then prompts[i]
// (token ids, may differ in length), and continues until it samples a stop
// token (left out of its output) or has MaxNew tokens. Rows that stop early
// idle while the others continue; the batch keeps its static shapes.
func (g *Generator) Generate(videos []Video, prompts [][]int, opts Options) ([][]int, error) {
	s, err := g.newStepper(videos, prompts, opts)
	if err != nil {
		return nil, err
	}
	defer s.free()
	b := len(prompts)
	out := make([][]int, b)
	done := make([]bool, b)
	rngs := make([]*rand.Rand, b)
	for i := range rngs {
		rngs[i] = rowRNG(opts.Seed, i)
	}
	logits, err := s.first()
	for step := 0; err == nil; step++ {
		if g.onLogits != nil {
			g.onLogits(step, logits)
		}
		tok := make([]int, b)
		for i := range b {
			if done[i] {
				tok[i] = g.M.Pad
				continue
			}
			t := pick(logits[i], opts, rngs[i])
			tok[i] = t
			if slices.Contains(opts.Stop, t) {
				done[i] = true
				continue
			}
			out[i] = append(out[i], t)
			done[i] = len(out[i]) >= opts.MaxNew
		}
		if !slices.Contains(done, false) {
			return out, nil
		}
		logits, err = s.next(tok, step)
	}
	return nil, err
}

// stepper produces each step's logits [B][V]: first after the prompts, then
// next after tok[b] is placed at text position len(prompts[b])+step.
type stepper interface {
	first() ([][]float32, error)
	next(tok []int, step int) ([][]float32, error)
	free()
}

// layout is what both steppers share: the batch's shapes and positions.
type layout struct {
	g       *Generator
	prompts [][]int
	p       int             // longest prompt
	off     int             // absolute position of text position 0
	vis     *tensors.Tensor // visual tokens or cross-attention memory
	maxNew  int
}

// newStepper validates the request, encodes the videos once and picks the path.
func (g *Generator) newStepper(videos []Video, prompts [][]int, opts Options) (stepper, error) {
	m := g.M
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("generate: no prompts")
	}
	if len(videos) != 1 && len(videos) != 2 {
		return nil, fmt.Errorf("generate: %d videos, want 1 or 2", len(videos))
	}
	l := layout{g: g, prompts: prompts, maxNew: opts.MaxNew, off: 1}
	for i, p := range prompts {
		l.p = max(l.p, len(p))
		for _, t := range p {
			if t < 0 || t >= m.Cfg.Decoder.VocabSize {
				return nil, fmt.Errorf("generate: prompt %d has token %d outside [0, %d)", i, t, m.Cfg.Decoder.VocabSize)
			}
		}
	}
	if limit := m.Cfg.Input.MaxTextLen; l.p+opts.MaxNew > limit {
		return nil, fmt.Errorf("generate: longest prompt %d + MaxNew %d exceeds input.max_text_len %d", l.p, opts.MaxNew, limit)
	}
	var in []any
	for i, v := range videos {
		for _, t := range []struct {
			use  bool
			x    *tensors.Tensor
			name string
		}{{m.Variant.Context, v.Frames, "Frames"}, {m.Variant.Pixel, v.Patches, "Patches"}, {m.Cfg.Stats != "", v.Stats, "Stats"}} {
			if !t.use {
				continue
			}
			if t.x == nil {
				return nil, fmt.Errorf("generate: video %d lacks %s", i, t.name)
			}
			if t.x.Shape().Dim(0) != len(prompts) {
				return nil, fmt.Errorf("generate: video %d %s has batch %d, want %d", i, t.name, t.x.Shape().Dim(0), len(prompts))
			}
			in = append(in, t.x)
		}
	}
	e, err := g.visualExec(len(videos))
	if err != nil {
		return nil, err
	}
	outs, err := e.Call(in...)
	if err != nil {
		return nil, fmt.Errorf("generate: visual tokens: %w", err)
	}
	l.vis = outs[0]
	if !g.crossAttn() {
		l.off += l.vis.Shape().Dim(1)
	}
	if opts.UseCache {
		return &cacheStepper{layout: l}, nil
	}
	return &recomputeStepper{layout: l}, nil
}

// tokens is the int32 [B, width] batch of prompts right-padded with Pad.
func (l *layout) tokens(width int) []int32 {
	flat := make([]int32, len(l.prompts)*width)
	for i, p := range l.prompts {
		row := flat[i*width : (i+1)*width]
		for j := range row {
			row[j] = int32(l.g.M.Pad)
		}
		for j, t := range p {
			row[j] = int32(t)
		}
	}
	return flat
}

// positions are the absolute positions off+len(p_b)-1+shift, int32 [B].
func (l *layout) positions(shift int) *tensors.Tensor {
	pos := make([]int32, len(l.prompts))
	for i, p := range l.prompts {
		pos[i] = int32(l.off + len(p) - 1 + shift)
	}
	return tensors.FromFlatDataAndDimensions(pos, len(pos))
}

func (l *layout) free() { _ = l.vis.FinalizeAll() }

// rows copies logits [B, V] into one slice per row and frees the tensor.
func rows(t *tensors.Tensor) ([][]float32, error) {
	b := t.Shape().Dim(0)
	flat, err := tensors.CopyFlatData[float32](t)
	_ = t.FinalizeAll()
	if err != nil {
		return nil, err
	}
	v := len(flat) / b
	out := make([][]float32, b)
	for i := range out {
		out[i] = flat[i*v : (i+1)*v]
	}
	return out, nil
}

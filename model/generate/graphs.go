package generate

import (
	"fmt"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/decoder"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Video is one video's host inputs for the whole batch (B rows); a field may
// be nil when the model's variant does not use that encoder.
type Video struct {
	Frames  *tensors.Tensor // uint8 [B, M, S, S, 3]
	Patches *tensors.Tensor // uint8 [B, K, S, S, 3]
	Stats   *tensors.Tensor // float32 [B, F] (model config stats)
}

// Generator owns the compiled graphs of one model; they compile on first use
// for each input shape and are reused by later calls (and steps). Not safe
// for concurrent use.
type Generator struct {
	M       *model.Model
	Backend compute.Backend

	execs    map[string]*gm.Exec
	onLogits func(step int, logits [][]float32) // test hook: each step's logits
}

// NewGenerator creates a generator; nothing is compiled yet.
func NewGenerator(m *model.Model, backend compute.Backend) *Generator {
	return &Generator{M: m, Backend: backend, execs: map[string]*gm.Exec{}}
}

type graphFn = func(scope *gm.Scope, in []*Node) []*Node

// exec returns the exec cached under key, creating it with fn.
func (g *Generator) exec(key string, fn graphFn) (*gm.Exec, error) {
	if e := g.execs[key]; e != nil {
		return e, nil
	}
	e, err := gm.NewExec(g.Backend, g.M.Store, fn)
	if err != nil {
		return nil, fmt.Errorf("generate: %s graph: %w", key, err)
	}
	g.execs[key] = e
	return e, nil
}

// crossAttn reports whether visual tokens are a cross-attention memory rather
// than part of the decoder sequence.
func (g *Generator) crossAttn() bool { return g.M.Variant.Memory() }

// visualExec encodes and fuses n videos -> [B, n*T_v, D] (sequence tokens or memory).
func (g *Generator) visualExec(n int) (*gm.Exec, error) {
	m := g.M
	return g.exec(fmt.Sprintf("visual/%d", n), func(scope *gm.Scope, in []*Node) []*Node {
		videos := make([]model.Video, n)
		for i := range videos {
			if m.Variant.Context {
				videos[i].Frames, in = in[0], in[1:]
			}
			if m.Variant.Pixel {
				videos[i].Patches, in = in[0], in[1:]
			}
			if m.Cfg.Stats != "" {
				videos[i].Stats, in = in[0], in[1:]
			}
		}
		seq, memory := m.Visual(scope, videos)
		if memory != nil {
			return []*Node{memory}
		}
		return []*Node{seq}
	})
}

// split returns (seq, memory) from the visual tensor node.
func (g *Generator) split(vis *Node) (seq, memory *Node) {
	if g.crossAttn() {
		return nil, vis
	}
	return vis, nil
}

// prefix embeds [bos] [seq] tokens exactly as model.Model.Hidden does -> [B, T, D].
func prefix(m *model.Model, ds *gm.Scope, seq, tokens *Node) *Node {
	b := tokens.Shape().Dim(0)
	bos := Const(tokens.Graph(), [][]int32{{int32(m.BOS)}})
	parts := []*Node{BroadcastToDims(m.Dec.Embed(ds, bos), b, 1, m.Cfg.Decoder.Width)}
	if seq != nil {
		parts = append(parts, seq)
	}
	parts = append(parts, m.Dec.Embed(ds, tokens))
	return Concatenate(parts, 1)
}

// logitsAt is the float32 next-token logits [B, V] at absolute positions pos [B].
func logitsAt(m *model.Model, ds *gm.Scope, hidden, pos *Node) *Node {
	return ConvertDType(m.Dec.Logits(ds, model.AnswerState(hidden, pos)), dtypes.Float32)
}

// recomputeExec: (vis, tokens [B, L], pos [B]) -> logits [B, V] at absolute
// position pos, by running the decoder over the whole padded sequence.
func (g *Generator) recomputeExec() (*gm.Exec, error) {
	m := g.M
	return g.exec("recompute", func(scope *gm.Scope, in []*Node) []*Node {
		ds := scope.At("decoder")
		seq, memory := g.split(in[0])
		h := m.Dec.Forward(ds, prefix(m, ds, seq, in[1]), memory)
		return []*Node{logitsAt(m, ds, h, in[2])}
	})
}

// prefillExec: (vis, prompt tokens [B, P], last [B]) -> logits [B, V] at the
// absolute positions last, then K, V of every layer in caches of lmax positions.
func (g *Generator) prefillExec(lmax int) (*gm.Exec, error) {
	m := g.M
	return g.exec(fmt.Sprintf("prefill/%d", lmax), func(scope *gm.Scope, in []*Node) []*Node {
		ds := scope.At("decoder")
		seq, memory := g.split(in[0])
		x := prefix(m, ds, seq, in[1])
		b := x.Shape().Dim(0)
		start := Zeros(x.Graph(), in[2].Shape())
		h, cache := m.Dec.ForwardCached(ds, x, start, m.Dec.EmptyCache(x.Graph(), b, lmax), memory)
		return append([]*Node{logitsAt(m, ds, h, in[2])}, flattenKV(cache)...)
	})
}

// stepExec: ([memory,] token [B, 1], pos [B], caches...) -> logits [B, V] of
// the token after it, then the updated caches.
func (g *Generator) stepExec() (*gm.Exec, error) {
	m := g.M
	return g.exec("step", func(scope *gm.Scope, in []*Node) []*Node {
		ds := scope.At("decoder")
		var memory *Node
		if g.crossAttn() {
			memory, in = in[0], in[1:]
		}
		tok, pos := in[0], in[1]
		x := m.Dec.Embed(ds, tok)
		h, cache := m.Dec.ForwardCached(ds, x, pos, unflattenKV(in[2:]), memory)
		zero := Zeros(x.Graph(), pos.Shape())
		return append([]*Node{logitsAt(m, ds, h, zero)}, flattenKV(cache)...)
	})
}

func flattenKV(cache []decoder.KV) []*Node {
	out := make([]*Node, 0, 2*len(cache))
	for _, c := range cache {
		out = append(out, c.K, c.V)
	}
	return out
}

func unflattenKV(nodes []*Node) []decoder.KV {
	cache := make([]decoder.KV, len(nodes)/2)
	for i := range cache {
		cache[i] = decoder.KV{K: nodes[2*i], V: nodes[2*i+1]}
	}
	return cache
}

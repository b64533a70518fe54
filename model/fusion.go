package model

import (
	"github.com/cpllm/cpllm/model/layers"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Fusion names.
const (
	FusionConcat      = "concat"
	FusionCrossAttn   = "cross-attention"
	FusionAverage     = "average"
	FusionEarlyConcat = "early-concat"
)

// fusionSpec is one way of combining the encoder streams into visual tokens.
// The variant registry is built from fusions: everything that depends on
// the fusion reads its entry instead of comparing names.
type fusionSpec struct {
	Name string
	// Both: the fusion combines the two streams, so it needs both encoders.
	Both bool
	// Memory: the tokens are a memory the decoder reads through added
	// cross-attention layers, instead of positions in the decoder sequence.
	Memory bool
	// Tokens is the visual token count of one video from the context and
	// pixel streams' counts (0 for a stream the variant lacks).
	Tokens func(m *Model, tc, tp int) int
	// Apply fuses the streams of n videos (either stream may be nil), each
	// [n*B, T, D_enc] with video i in rows i*B..(i+1)*B, into [n*B, T_v, D].
	Apply func(m *Model, scope *gm.Scope, ctx, pix *Node, n int) *Node
}

// fusions lists every fusion; the registry pairs each with the encoder sets it admits.
var fusions = []fusionSpec{
	// Visual tokens side by side in the decoder sequence.
	{Name: FusionConcat, Tokens: sideBySideTokens, Apply: sideBySideApply},
	// The decoder reads the visual tokens through added cross-attention; a
	// learned embedding per video slot tells the two videos of a pair apart.
	{Name: FusionCrossAttn, Memory: true, Tokens: sideBySideTokens,
		Apply: func(m *Model, scope *gm.Scope, ctx, pix *Node, n int) *Node {
			return m.addVideoEmbedding(scope, sideBySideApply(m, scope, ctx, pix, n), n)
		}},
	// Aligned, projected streams averaged into one token set.
	{Name: FusionAverage, Both: true, Tokens: alignedTokens,
		Apply: func(m *Model, scope *gm.Scope, ctx, pix *Node, _ int) *Node {
			t := alignedTokens(m, ctx.Shape().Dim(1), pix.Shape().Dim(1))
			c := alignTokens(m.Project(scope, "context", ctx), t)
			p := alignTokens(m.Project(scope, "pixel", pix), t)
			return MulScalar(Add(c, p), 0.5)
		}},
	// Aligned streams concatenated on channels, one shared projector.
	{Name: FusionEarlyConcat, Both: true, Tokens: alignedTokens,
		Apply: func(m *Model, scope *gm.Scope, ctx, pix *Node, _ int) *Node {
			t := alignedTokens(m, ctx.Shape().Dim(1), pix.Shape().Dim(1))
			both := Concatenate([]*Node{alignTokens(ctx, t), alignTokens(pix, t)}, 2)
			return m.Project(scope, "shared", both)
		}},
}

func sideBySideTokens(_ *Model, tc, tp int) int { return tc + tp }

// sideBySideApply projects each stream and puts them side by side.
func sideBySideApply(m *Model, scope *gm.Scope, ctx, pix *Node, _ int) *Node {
	var parts []*Node
	if ctx != nil {
		parts = append(parts, m.Project(scope, "context", ctx))
	}
	if pix != nil {
		parts = append(parts, m.Project(scope, "pixel", pix))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, 1)
}

// alignedTokens is the common token count of two streams averaged or
// concatenated on channels: variant.fusion_tokens, else the smaller stream's.
func alignedTokens(m *Model, tc, tp int) int {
	if t := m.Cfg.Variant.FusionTokens; t > 0 {
		return t
	}
	return min(tc, tp)
}

// Visual encodes the videos (1, or 2 for pairwise) and fuses their tokens:
// it returns either seq [B, n*T_v, D] (to place in the decoder sequence) or,
// for a memory fusion, memory [B, n*T_v, D] for the decoder to attend to.
// All videos go through the encoders as one batch.
func (m *Model) Visual(scope *gm.Scope, videos []Video) (seq, memory *Node) {
	n := len(videos)
	if n == 0 {
		exceptions.Panicf("Visual: no videos")
	}
	var ctx, pix *Node
	if m.Variant.Context {
		ctx = m.EncodeContext(scope, concatVideos(videos, func(v Video) *Node { return v.Frames }))
	}
	if m.Variant.Pixel {
		pix = m.EncodePixel(scope, concatVideos(videos, func(v Video) *Node { return v.Patches }))
	}
	tokens := m.Variant.fusion.Apply(m, scope, ctx, pix, n) // [n*B, T_v, D]
	// One statistics token after each video's fused tokens.
	if m.Cfg.Stats != "" {
		st := m.statsToken(scope, concatVideos(videos, func(v Video) *Node { return v.Stats }))
		tokens = Concatenate([]*Node{tokens, st}, 1)
	}
	// [n*B, T_v, D] -> [B, n*T_v, D]: video 0's tokens, then video 1's.
	s := tokens.Shape()
	b := s.Dim(0) / n
	tokens = Reshape(TransposeAllDims(Reshape(tokens, n, b, s.Dim(1), s.Dim(2)), 1, 0, 2, 3), b, n*s.Dim(1), s.Dim(2))
	if m.Variant.Memory() {
		return nil, tokens
	}
	return tokens, nil
}

func concatVideos(videos []Video, field func(Video) *Node) *Node {
	xs := make([]*Node, len(videos))
	for i, v := range videos {
		if xs[i] = field(v); xs[i] == nil {
			exceptions.Panicf("video %d lacks an input its variant needs", i)
		}
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return Concatenate(xs, 0)
}

// alignTokens average-pools x [N, T, D] to t tokens (identity when T == t).
func alignTokens(x *Node, t int) *Node {
	if x.Shape().Dim(1) == t {
		return x
	}
	return layers.PoolTokens(x, layers.PoolMatrix1D(x.Shape().Dim(1), t))
}

// addVideoEmbedding adds a learned embedding per video slot (fusion/video_embedding
// [2, D]) so that cross-attention can tell the first video from the second;
// tokens is [n*B, T, D] with video i in rows i*B..(i+1)*B.
func (m *Model) addVideoEmbedding(scope *gm.Scope, tokens *Node, n int) *Node {
	s := tokens.Shape()
	emb := layers.Var(scope.At("fusion").At("video_embedding"), tokens.Graph(), "weight", tokens.DType(),
		layers.NormalInit(scope, 0.02), 2, s.Dim(2))
	slots := SliceAxis(emb, 0, AxisRange(0, n)) // [n, D]
	b := s.Dim(0) / n
	add := Reshape(BroadcastToDims(Reshape(slots, n, 1, 1, s.Dim(2)), n, b, 1, s.Dim(2)), n*b, 1, s.Dim(2))
	return Add(tokens, BroadcastToDims(add, s.Dim(0), s.Dim(1), s.Dim(2)))
}

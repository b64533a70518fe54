package model

import (
	"github.com/cpllm/cpllm/model/layers"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Visual encodes the videos (1, or 2 for pairwise) and fuses their tokens:
// it returns either seq [B, n*T_v, D] (to place in the decoder sequence) or,
// for cross-attention fusion, memory [B, n*T_v, D] for the decoder to attend to.
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
	tokens := m.fuse(scope, ctx, pix) // [n*B, T_v, D]
	if m.Variant.Fusion == FusionCrossAttn {
		tokens = m.addVideoEmbedding(scope, tokens, n)
	}
	// [n*B, T_v, D] -> [B, n*T_v, D]: video 0's tokens, then video 1's.
	s := tokens.Shape()
	b := s.Dim(0) / n
	tokens = Reshape(TransposeAllDims(Reshape(tokens, n, b, s.Dim(1), s.Dim(2)), 1, 0, 2, 3), b, n*s.Dim(1), s.Dim(2))
	if m.Variant.Fusion == FusionCrossAttn {
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

// fuse combines the encoder streams (either may be nil) into [N, T_v, D].
func (m *Model) fuse(scope *gm.Scope, ctx, pix *Node) *Node {
	switch m.Variant.Fusion {
	case FusionAverage:
		t := m.alignedTokens(ctx.Shape().Dim(1), pix.Shape().Dim(1))
		c := alignTokens(m.Project(scope, "context", ctx), t)
		p := alignTokens(m.Project(scope, "pixel", pix), t)
		return MulScalar(Add(c, p), 0.5)
	case FusionEarlyConcat:
		t := m.alignedTokens(ctx.Shape().Dim(1), pix.Shape().Dim(1))
		both := Concatenate([]*Node{alignTokens(ctx, t), alignTokens(pix, t)}, 2)
		return m.Project(scope, "shared", both)
	}
	// concat and cross-attention: the streams side by side.
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

package model

import (
	"github.com/cpllm/cpllm/model/layers"
	"github.com/cpllm/cpllm/model/vit"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Video is one video's visual input in a graph. A field is nil when the
// variant does not use that encoder.
type Video struct {
	Frames  *Node // uint8 [B, M, S, S, 3]: M key frames resized to S x S
	Patches *Node // uint8 [B, K, S, S, 3]: K native-resolution patches
	Stats   *Node // float32 [B, F]: the video's statistics (config stats)
}

// EncodeContext runs the context encoder over every frame:
// frames [B, M, S, S, 3] -> [B, M*T_h, D_c].
func (m *Model) EncodeContext(scope *gm.Scope, frames *Node) *Node {
	layers.AssertRank(frames, 5, "context frames")
	s := frames.Shape()
	b, f := s.Dim(0), s.Dim(1)
	x := vit.Forward(scope.At("context_encoder"), Reshape(frames, b*f, s.Dim(2), s.Dim(3), s.Dim(4)),
		m.DType(), m.Cfg.ContextEncoder)
	return Reshape(x, b, f*x.Shape().Dim(1), x.Shape().Dim(2))
}

// EncodePixel runs the pixel encoder: patches [B, K, S, S, 3] -> [B, K*T_l, D_p].
func (m *Model) EncodePixel(scope *gm.Scope, patches *Node) *Node {
	layers.AssertRank(patches, 5, "pixel patches")
	x := vit.Factorized(scope.At("pixel_encoder"), patches, m.DType(), m.Cfg.PixelEncoder)
	s := x.Shape()
	return Reshape(x, s.Dim(0), s.Dim(1)*s.Dim(2), s.Dim(3))
}

// Project maps encoder tokens [N, T, D_in] to the decoder width under
// projector/<name>: "linear" (linear) or "mlp" (fc1, GELU, fc2).
func (m *Model) Project(scope *gm.Scope, name string, x *Node) *Node {
	ps := scope.At("projector").At("%s", name)
	d := m.Cfg.Decoder.Width
	if m.Cfg.Projector.Type == "linear" {
		return layers.Linear(ps.In("linear"), x, d, true)
	}
	hidden := m.Cfg.Projector.HiddenDim
	if hidden == 0 {
		hidden = d
	}
	return layers.MLP2(ps, x, hidden, d)
}

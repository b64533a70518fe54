package vit

import (
	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Factorized is the VideoPrism-style encoder over K images per item:
// a spatial ViT within each image (scope "spatial", SigLIP layout), then a
// transformer across the K images at each token position (scope "temporal":
// position_embedding/weight [K, D], encoder/layers/N/..., post_layernorm).
//
//	images uint8 [B, K, S, S, 3] -> tokens [B, K, T, D]
//
// Pooling (PoolTokens) is applied per image after the temporal stage.
func Factorized(scope *model.Scope, images *Node, dtype dtypes.DType, c FactorizedConfig) *Node {
	layers.AssertRank(images, 5, "factorized input")
	b, k, s := images.Shape().Dim(0), images.Shape().Dim(1), images.Shape().Dim(2)
	spatialCfg := c.Config
	spatialCfg.PoolTokens = 0
	flat := Reshape(images, b*k, s, s, images.Shape().Dim(4))
	x := Forward(scope.In("spatial"), flat, dtype, spatialCfg) // [B*K, T, D]
	t, d := x.Shape().Dim(1), x.Shape().Dim(2)

	// Across images: sequences of length K, one per (item, token position).
	ts := scope.In("temporal")
	x = TransposeAllDims(Reshape(x, b, k, t, d), 0, 2, 1, 3) // [B, T, K, D]
	x = Reshape(x, b*t, k, d)
	pos := layers.Var(ts.In("position_embedding"), x.Graph(), "weight", x.DType(),
		layers.NormalInit(ts, 0.02), k, d)
	x = Add(x, ExpandLeftToRank(pos, 3))
	x = Encoder(ts.In("encoder"), x, c.TemporalLayers, c.Config)
	x = layers.LayerNorm(ts.In("post_layernorm"), x, c.LayerNormEps)
	x = TransposeAllDims(Reshape(x, b, t, k, d), 0, 2, 1, 3) // [B, K, T, D]

	x = Pool(Reshape(x, b*k, t, d), c.Config)
	return Reshape(x, b, k, x.Shape().Dim(1), d)
}

package vit

import (
	"math"

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
	var x *Node
	if c.Resize > 0 {
		// Normalise first (it is affine, so it commutes with the resize) and
		// keep the enlarged pixels in dtype.
		big := Resize(Normalize(flat, dtype, c.Config), c.Resize)
		x = forwardNormalized(scope.In("spatial"), big, spatialCfg) // [B*K, T, D]
	} else {
		x = Forward(scope.In("spatial"), flat, dtype, spatialCfg)
	}
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

// Resize enlarges images [N, S, S, C] to [N, n, n, C] bilinearly with
// half-pixel centres and clamped edges (PyTorch's bilinear interpolation,
// align_corners=False), as one constant matrix per axis.
func Resize(images *Node, n int) *Node {
	layers.AssertRank(images, 4, "resize input")
	s := images.Shape().Dim(1)
	r := ConvertDType(Const(images.Graph(), resizeMatrix(s, n)), images.DType()) // [n, s]
	x := layers.ContractEinsum("ys,bsxc->byxc", r, images)
	return layers.ContractEinsum("xs,bysc->byxc", r, x)
}

// resizeMatrix is the [n][s] linear interpolation matrix from s samples to n.
func resizeMatrix(s, n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, s)
		x := max(0, (float64(i)+0.5)*float64(s)/float64(n)-0.5)
		x0 := int(math.Floor(x))
		x1, w := min(x0+1, s-1), x-float64(x0)
		m[i][min(x0, s-1)] += 1 - w
		m[i][x1] += w
	}
	return m
}

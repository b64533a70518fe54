package vit

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cpllm/cpllm/model/layers"
)

// NSSFeatures is the number of statistics NSSStats gives per channel and
// scale: 3 moments of the MSCN map and 3 of each of its 4 neighbour products.
const NSSFeatures = 15

// nssShifts are BRISQUE's neighbour directions (dy, dx): horizontal,
// vertical, main and anti diagonal.
var nssShifts = [4][2]int{{0, 1}, {1, 0}, {1, 1}, {1, -1}}

// NSSStats are natural-scene statistics of MSCN coefficients x [N, H, W, C]
// in the spirit of BRISQUE (Mittal et al. 2012), as moments instead of
// fitted distributions: per channel, mean(x^2), mean(|x|) and mean(x^4)
// (the spread and the tail weight a GGD fit summarises), and for each of the
// 4 neighbour products p = x(i) x(i + d) over the positions where both
// exist, mean(p), mean(max(p,0)^2) and mean(min(p,0)^2) (an AGGD's mean and
// right and left variances). -> [N, C * NSSFeatures], channel-major.
func NSSStats(x *Node) *Node {
	layers.AssertRank(x, 4, "nss input")
	h, w := x.Shape().Dim(1), x.Shape().Dim(2)
	mean := func(v *Node) *Node { return ReduceMean(v, 1, 2) } // [N, C]
	g := x.Graph()
	zero := ScalarZero(g, x.DType())
	sq := Square(x)
	feats := []*Node{mean(sq), mean(Abs(x)), mean(Square(sq))}
	for _, d := range nssShifts {
		dy, dx := d[0], d[1]
		x0, x1 := max(0, -dx), max(0, dx)
		a := Slice(x, AxisRange(), AxisRange(0, h-dy), AxisRange(x0, w-x1))
		b := Slice(x, AxisRange(), AxisRange(dy, h), AxisRange(x1, w-x0))
		p := Mul(a, b)
		feats = append(feats, mean(p), mean(Square(Max(p, zero))), mean(Square(Min(p, zero))))
	}
	s := Stack(feats, -1) // [N, C, NSSFeatures]
	return Reshape(s, s.Shape().Dim(0), -1)
}

// nssEmbedding is the statistics of the MSCN map at full and half
// resolution (the half from the 2x2-averaged normalised image, normalised
// again), compressed by a signed log and projected to one width-D vector
// per image, which Embeddings adds to every patch token: the pixel encoder
// starts from the statistics that rank real images, and learns the rest.
// images [N, S, S, C] (normalised, before local normalisation) -> [N, D].
func nssEmbedding(scope *model.Scope, images, mscn *Node, c Config) *Node {
	n, sz, ch := images.Shape().Dim(0), images.Shape().Dim(1), images.Shape().Dim(3)
	half := ReduceMean(Reshape(images, n, sz/2, 2, sz/2, 2, ch), 2, 4)
	half = LocalNorm(half, c.LocalNorm, c.LocalNormEps)
	f := StopGradient(Concatenate([]*Node{NSSStats(mscn), NSSStats(half)}, -1))
	f = Mul(Sign(f), Log1P(Abs(f)))
	return layers.Linear(scope.In("nss_embedding"), f, c.Width, true)
}

package model

import (
	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// ScoreLoss is the cross-entropy between soft level targets [B, 5] (rows sum to
// 1, ordered as LevelWords) and the level logits [B, 5], averaged over B.
func ScoreLoss(levelLogits, target *Node) *Node {
	logp := LogSoftmax(levelLogits, -1)
	return Neg(ReduceAllMean(ReduceSum(Mul(ConvertDType(target, logp.DType()), logp), -1)))
}

// TargetScore is the expected score of soft level targets [B, 5] -> [B].
func TargetScore(target *Node) *Node {
	w := ConvertDType(Const(target.Graph(), LevelScores[:]), target.DType())
	return layers.Contract(target, []int{1}, nil, w, []int{0}, nil)
}

// RegressionLoss is the mean squared error between predicted and target scores [B].
func RegressionLoss(pred, target *Node) *Node {
	return ReduceAllMean(Square(Sub(pred, ConvertDType(target, pred.DType()))))
}

// L1Loss is the mean absolute error between predicted and target scores [B].
func L1Loss(pred, target *Node) *Node {
	return ReduceAllMean(Abs(Sub(pred, ConvertDType(target, pred.DType()))))
}

// LMLoss is the token cross-entropy of logits [B, L, V] against targets int [B, L],
// averaged over the positions where mask [B, L] (float, 1 = counted) is set.
func LMLoss(logits, targets, mask *Node) *Node {
	v := logits.Shape().Dim(-1)
	logp := LogSoftmax(logits, -1)
	onehot := OneHot(ConvertDType(targets, dtypes.Int32), v, logp.DType())
	nll := Neg(ReduceSum(Mul(onehot, logp), -1)) // [B, L]
	mask = ConvertDType(mask, logp.DType())
	return Div(ReduceAllSum(Mul(nll, mask)), MaxScalar(ReduceAllSum(mask), 1))
}

// PairLoss is the cross-entropy of pair logits [B, 2] ("first", "second")
// against label int [B] (0 = first is better, 1 = second).
func PairLoss(pairLogits, label *Node) *Node {
	logp := LogSoftmax(pairLogits, -1)
	onehot := OneHot(ConvertDType(label, dtypes.Int32), 2, logp.DType())
	return Neg(ReduceAllMean(ReduceSum(Mul(onehot, logp), -1)))
}

// RankLoss is the logistic (RankNet) loss on score differences: scores
// sa, sb [B] of a pair's two videos and label int [B] (0 = first is better),
// mean softplus(-RankScale * (s_better - s_worse)). A pair ordered by one
// RankScale-th of a level costs log(1 + e^-1) = 0.31; by half a level, 0.007.
func RankLoss(sa, sb, label *Node) *Node {
	sign := OneMinus(MulScalar(ConvertDType(label, sa.DType()), 2)) // +1 first better, -1 second
	d := Mul(Sub(sa, sb), sign)
	return ReduceAllMean(softplus(MulScalar(d, -RankScale)))
}

// softplus is log(1 + e^x) as max(x, 0) + log1p(e^-|x|): stable, and built
// from ops every backend has (GoMLX's Softplus uses IsFinite, which ONNX
// Runtime's backend lacks).
func softplus(x *Node) *Node {
	return Add(Max(x, ZerosLike(x)), Log1p(Exp(Neg(Abs(x)))))
}

// RankScale is the score gap (inverse, in levels) at which RankLoss stops
// pushing hard: 10 means a tenth of a level.
const RankScale = 10.0

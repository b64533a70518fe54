package model

import (
	"github.com/cpllm/cpllm/model/layers"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Hidden runs the decoder over [bos] [visual tokens of each video] tokens and
// returns its final hidden states at the text positions: [B, L, D].
// tokens is int [B, L] (prompt then answer, padded at the end; padding needs
// no mask since attention is causal and losses mask it out).
func (m *Model) Hidden(scope *gm.Scope, videos []Video, tokens *Node) *Node {
	layers.AssertRank(tokens, 2, "tokens")
	b, l := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
	if l > m.Cfg.Input.MaxTextLen {
		exceptions.Panicf("text length %d exceeds input.max_text_len %d", l, m.Cfg.Input.MaxTextLen)
	}
	g := tokens.Graph()
	ds := scope.At("decoder")
	seq, memory := m.Visual(scope, videos)
	bos := Const(g, [][]int32{{int32(m.BOS)}})
	parts := []*Node{BroadcastToDims(m.Dec.Embed(ds, bos), b, 1, m.Cfg.Decoder.Width)}
	if seq != nil {
		parts = append(parts, seq)
	}
	parts = append(parts, m.Dec.Embed(ds, tokens))
	x := Concatenate(parts, 1)
	h := m.Dec.Forward(ds, x, memory)
	return SliceAxis(h, 1, AxisRange(x.Shape().Dim(1)-l, x.Shape().Dim(1)))
}

// AnswerState picks hidden [B, L, D] at each row's answer position (int [B]):
// the position whose next-token prediction is the answer word. -> [B, D]
func AnswerState(hidden, answerPos *Node) *Node {
	layers.AssertRank(hidden, 3, "hidden")
	l := hidden.Shape().Dim(1)
	sel := OneHot(ConvertDType(answerPos, dtypes.Int32), l, hidden.DType()) // [B, L]
	return layers.Contract(sel, []int{1}, []int{0}, hidden, []int{1}, []int{0})
}

// LMLogits are the next-token logits at every text position: [B, L, V].
// Position i predicts token i+1 (teacher forcing).
func (m *Model) LMLogits(scope *gm.Scope, hidden *Node) *Node {
	return m.Dec.Logits(scope.At("decoder"), hidden)
}

// wordLogits are the logits of the given token ids at the answer state [B, D] -> [B, len(ids)].
func (m *Model) wordLogits(scope *gm.Scope, state *Node, ids []int) *Node {
	rows := m.Dec.TokenRows(scope.At("decoder"), state.Graph(), ids) // [n, D]
	return layers.Contract(state, []int{1}, nil, rows, []int{1}, nil)
}

// LevelLogits are the logits of the five level words at the answer position:
// [B, 5], ordered as LevelWords (excellent .. bad).
func (m *Model) LevelLogits(scope *gm.Scope, hidden, answerPos *Node) *Node {
	return m.wordLogits(scope, AnswerState(hidden, answerPos), m.LevelIDs[:])
}

// ScoreLogits are the level logits the score reads, in float32: LevelLogits
// plus, with heads.stats_linear, the statistics' tilt (StatsTilt) of the
// scored video's stats [B, F] (nil for a model without stats).
func (m *Model) ScoreLogits(scope *gm.Scope, hidden, answerPos, stats *Node) *Node {
	logits := toF32(m.LevelLogits(scope, hidden, answerPos))
	if !m.Cfg.Heads.StatsLinear {
		return logits
	}
	if stats == nil {
		exceptions.Panicf("heads.stats_linear: the scored video has no statistics")
	}
	if m.Cfg.Heads.LevelGate {
		logits = m.levelGate(scope, logits)
	}
	return Add(logits, m.StatsTilt(scope, stats))
}

// levelGateVar is the variable of heads.level_gate's scalar.
const levelGateVar = "/heads/level_gate/gate"

// levelGate scales the level logits [B, 5] by heads/level_gate/gate, a
// scalar that starts at 0 (a zero-initialised residual branch): at the
// start the score is the statistics' tilt alone, and the gradient that
// reaches the decoder through the score grows with the gate.
func (m *Model) levelGate(scope *gm.Scope, logits *Node) *Node {
	g := layers.Var(scope.At("heads").At("level_gate"), logits.Graph(), "gate", dtypes.Float32, layers.ZeroInit)
	return Mul(logits, g)
}

// PairLogits are the logits of "first" and "second" at the answer position: [B, 2].
func (m *Model) PairLogits(scope *gm.Scope, hidden, answerPos *Node) *Node {
	return m.wordLogits(scope, AnswerState(hidden, answerPos), m.PairIDs[:])
}

// ExpectedScore turns level logits [B, 5] into the expected score in [1, 5]:
// sum_i softmax(logits)_i * LevelScores_i. Differentiable.
func ExpectedScore(levelLogits *Node) *Node {
	layers.AssertLastDim(levelLogits, 5, "level logits")
	p := Softmax(levelLogits, -1)
	w := ConvertDType(Const(levelLogits.Graph(), LevelScores[:]), levelLogits.DType())
	return layers.Contract(p, []int{1}, nil, w, []int{0}, nil)
}

// RegressionScore is the optional linear head (heads/regression) on the answer
// state, centred at 3: [B]. It returns nil when heads.regression is off.
func (m *Model) RegressionScore(scope *gm.Scope, hidden, answerPos *Node) *Node {
	if !m.Cfg.Heads.Regression {
		return nil
	}
	state := AnswerState(hidden, answerPos)
	y := layers.Linear(scope.At("heads").At("regression"), state, 1, true)
	return AddScalar(Reshape(y, state.Shape().Dim(0)), 3)
}

// InputShapes returns the graph input shapes of one batch of b items with text
// length l: frames, patches (uint8) and tokens (int32).
func (m *Model) InputShapes(b, l int) (frames, patches, tokens shapes.Shape) {
	in := m.Cfg.Input
	frames = shapes.Make(dtypes.Uint8, b, in.Frames, in.Size, in.Size, 3)
	patches = shapes.Make(dtypes.Uint8, b, in.Patches, in.Size, in.Size, 3)
	tokens = shapes.Make(dtypes.Int32, b, l)
	return
}

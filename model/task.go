package model

import (
	"fmt"
	"github.com/gomlx/compute/dtypes"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Task is one of the three training tasks.
type Task int

const (
	TaskScore    Task = iota // level word at the answer position -> score
	TaskDescribe             // description by teacher forcing
	TaskPair                 // two videos, answer "first" / "second"
)

func (t Task) String() string {
	switch t {
	case TaskScore:
		return "score"
	case TaskDescribe:
		return "describe"
	case TaskPair:
		return "pair"
	}
	return fmt.Sprintf("Task(%d)", int(t))
}

// Batch is one host-side batch of B items for one task. Frames/Patches are
// only needed when the variant uses that encoder.
type Batch struct {
	Task              Task
	Frames, Patches   *tensors.Tensor // uint8 [B,M,S,S,3], [B,K,S,S,3]: the video (video A for pairs)
	FramesB, PatchesB *tensors.Tensor // video B (TaskPair)
	Stats, StatsB     *tensors.Tensor // float32 [B, F]: each video's statistics (config stats)
	Tokens            *tensors.Tensor // int32 [B, L]: prompt then answer, right-padded
	AnswerPos         *tensors.Tensor // int32 [B]: text position predicting the answer word (score, pair)
	Target            *tensors.Tensor // float32 [B, 5]: soft level target (score)
	Targets           *tensors.Tensor // int32 [B, L]: next-token targets (describe)
	Mask              *tensors.Tensor // float32 [B, L]: 1 where Targets count (describe)
	Label             *tensors.Tensor // int32 [B]: 0 = first better, 1 = second (pair)
}

// Inputs flattens the batch into the order TaskGraph expects: the videos'
// tensors, Tokens, then the task's AnswerPos and labels.
func (m *Model) Inputs(b *Batch) ([]any, error) { return m.flatten(b, true) }

// flatten lists the inputs; without labels it stops after AnswerPos (inference).
func (m *Model) flatten(b *Batch, labels bool) (in []any, err error) {
	add := func(name string, t *tensors.Tensor) {
		if t == nil {
			panic(fmt.Errorf("batch for task %s lacks %s", b.Task, name))
		}
		in = append(in, t)
	}
	defer func() {
		if r := recover(); r != nil {
			in, err = nil, r.(error)
		}
	}()
	m.videoInputs(add, b.Frames, b.Patches, b.Stats)
	if b.Task == TaskPair {
		m.videoInputs(add, b.FramesB, b.PatchesB, b.StatsB)
	}
	add("Tokens", b.Tokens)
	if b.Task != TaskDescribe {
		add("AnswerPos", b.AnswerPos)
	}
	if !labels {
		return in, nil
	}
	switch b.Task {
	case TaskScore:
		add("Target", b.Target)
	case TaskDescribe:
		add("Targets", b.Targets)
		add("Mask", b.Mask)
	case TaskPair:
		add("Label", b.Label)
	}
	return in, nil
}

func (m *Model) videoInputs(add func(string, *tensors.Tensor), frames, patches, stats *tensors.Tensor) {
	if m.Variant.Context {
		add("Frames", frames)
	}
	if m.Variant.Pixel {
		add("Patches", patches)
	}
	if m.Cfg.Stats != "" {
		add("Stats", stats)
	}
}

// takeVideo consumes the graph inputs of one video.
func (m *Model) takeVideo(in []*Node) (Video, []*Node) {
	var v Video
	if m.Variant.Context {
		v.Frames, in = in[0], in[1:]
	}
	if m.Variant.Pixel {
		v.Patches, in = in[0], in[1:]
	}
	if m.Cfg.Stats != "" {
		v.Stats, in = in[0], in[1:]
	}
	return v, in
}

// TaskOutputs are a task graph's results.
type TaskOutputs struct {
	Loss        *Node // scalar
	LevelLogits *Node // [B, 5] (score)
	Score       *Node // [B] expected score (score)
	Regression  *Node // [B] (score, heads.regression)
	LMLogits    *Node // [B, L, V] (describe)
	PairLogits  *Node // [B, 2] (pair)
}

// LossOptions are the optional loss terms of a training recipe.
type LossOptions struct {
	// ScoreL1 > 0 adds ScoreL1 * mean |expected score - target score| to the
	// score loss: the cross-entropy alone ignores how far off a wrong level is.
	ScoreL1 float64
	// PairRank > 0 adds PairRank * RankLoss to the pair loss: each video of
	// a pair is also scored with the score prompt, and the better one must
	// score higher. The pair answer alone trains a word, not the score that
	// `cpllm score` reports, so it does not make that score rank a ladder.
	PairRank float64
}

// TaskGraph builds the forward pass and loss of a task from graph inputs in the
// order of Inputs, with the default loss. This is the hook a trainer calls
// inside its train step.
func (m *Model) TaskGraph(scope *gm.Scope, task Task, in []*Node) TaskOutputs {
	return m.TaskGraphWith(scope, task, in, LossOptions{})
}

// TaskGraphWith is TaskGraph with optional loss terms.
func (m *Model) TaskGraphWith(scope *gm.Scope, task Task, in []*Node, opt LossOptions) TaskOutputs {
	var out TaskOutputs
	va, in := m.takeVideo(in)
	videos := []Video{va}
	if task == TaskPair {
		var vb Video
		vb, in = m.takeVideo(in)
		videos = append(videos, vb)
	}
	tokens := in[0]
	hidden := m.Hidden(scope, videos, tokens)
	f32 := toF32
	switch task {
	case TaskScore:
		answerPos, target := in[1], in[2]
		out.LevelLogits = m.ScoreLogits(scope, hidden, answerPos, va.Stats)
		out.Score = ExpectedScore(out.LevelLogits)
		out.Loss = ScoreLoss(out.LevelLogits, target)
		mos := TargetScore(target)
		if opt.ScoreL1 > 0 {
			out.Loss = Add(out.Loss, MulScalar(L1Loss(out.Score, mos), opt.ScoreL1))
		}
		if out.Regression = f32(m.RegressionScore(scope, hidden, answerPos)); out.Regression != nil {
			out.Loss = Add(out.Loss, RegressionLoss(out.Regression, mos))
		}
	case TaskDescribe:
		out.LMLogits = f32(m.LMLogits(scope, hidden))
		out.Loss = LMLoss(out.LMLogits, in[1], in[2])
	case TaskPair:
		out.PairLogits = f32(m.PairLogits(scope, hidden, in[1]))
		out.Loss = PairLoss(out.PairLogits, in[2])
		if opt.PairRank > 0 {
			sa, sb := m.PromptScore(scope, videos[0]), m.PromptScore(scope, videos[1])
			out.Loss = Add(out.Loss, MulScalar(RankLoss(sa, sb, in[2]), opt.PairRank))
		}
	}
	return out
}

// PromptScore is the expected score [B] of video v under the score prompt,
// built in the graph from ScorePrompt's layout, so it equals what Predictor
// scores for the same view.
func (m *Model) PromptScore(scope *gm.Scope, v Video) *Node {
	x := v.Frames
	if x == nil {
		x = v.Patches
	}
	b := x.Shape().Dim(0)
	rows, pos, l, err := m.ScorePrompt(b)
	if err != nil {
		panic(err)
	}
	g := x.Graph()
	hidden := m.Hidden(scope, []Video{v}, Reshape(Const(g, rows), b, l))
	return ExpectedScore(m.ScoreLogits(scope, hidden, Const(g, pos), v.Stats))
}

// ScorePrompt lays out b score-prompt rows as a score batch does (prompt, a
// level word, <eos>; the answer is read at pos, before the word): tokens
// [b*l] row-major and answer positions [b].
func (m *Model) ScorePrompt(b int) (rows, pos []int32, l int, err error) {
	toks, p, err := m.Sequence(TaskScore, LevelWords[0])
	if err != nil {
		return nil, nil, 0, err
	}
	rows = make([]int32, 0, b*len(toks))
	pos = make([]int32, b)
	for i := range b {
		for _, t := range toks {
			rows = append(rows, int32(t))
		}
		pos[i] = int32(p)
	}
	return rows, pos, len(toks), nil
}

// toF32 makes heads' outputs, and so losses and scores, float32 under
// bfloat16 compute (mixed precision); other dtypes pass through.
func toF32(x *Node) *Node {
	if x != nil && x.DType() == dtypes.BFloat16 {
		return ConvertDType(x, dtypes.Float32)
	}
	return x
}

package model

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// handExpectation is sum_i softmax(l)_i * (5, 4, 3, 2, 1)_i computed by hand.
func handExpectation(l []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range l {
		mx = math.Max(mx, v)
	}
	sum, e := 0.0, 0.0
	for i, v := range l {
		p := math.Exp(v - mx)
		sum += p
		e += p * float64(5-i)
	}
	return e / sum
}

// Acceptance 4: the score readout is in [1, 5] and equals the hand-computed expectation.
func TestExpectedScoreByHand(t *testing.T) {
	logits := [][]float64{
		{0, 0, 0, 0, 0},      // uniform -> 3
		{30, 0, 0, 0, 0},     // "excellent" -> ~5
		{0, 0, 0, 0, 30},     // "bad" -> ~1
		{1, 2, 3, -1, 0.5},   // mixed
		{-2, 0.3, 0.1, 4, 1}, // mixed
	}
	e := gm.MustNewExec(testBackend(t), gm.NewStore(), func(_ *gm.Scope, l *Node) *Node { return ExpectedScore(l) })
	got := flat(t, e.MustCall(logits)[0])
	for i, l := range logits {
		want := handExpectation(l)
		if math.Abs(got[i]-want) > 1e-12 || got[i] < 1 || got[i] > 5 {
			t.Errorf("row %d: score %.15g, hand %.15g", i, got[i], want)
		}
	}
	if math.Abs(got[0]-3) > 1e-12 {
		t.Errorf("uniform logits: %g, want 3", got[0])
	}
}

// On the tiny model: the level logits are the LM logits of the five level words
// at the answer position, and the score is their hand-computed expectation.
func TestScoreReadoutTiny(t *testing.T) {
	m, err := Build(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	const b, l = 3, 7
	batch := randomBatch(m, TaskScore, b, l, rng)
	in, err := m.Inputs(batch)
	if err != nil {
		t.Fatal(err)
	}
	// Init before building the graph, as every cpllm path does: backends
	// that embed frozen variables as constants (ONNX Runtime) need values then.
	if err := m.Init(testBackend(t)); err != nil {
		t.Fatal(err)
	}
	e, err := gm.NewExec(testBackend(t), m.Store, func(scope *gm.Scope, in []*Node) []*Node {
		video, rest := m.takeVideo(in)
		hidden := m.Hidden(scope, []Video{video}, rest[0])
		level := m.LevelLogits(scope, hidden, rest[1])
		return []*Node{level, ExpectedScore(level), m.LMLogits(scope, hidden)}
	})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 60*time.Second, "tiny score readout", func() {
		outs, err := e.Call(in...)
		if err != nil {
			t.Fatal(err)
		}
		level, score, lm := flat(t, outs[0]), flat(t, outs[1]), flat(t, outs[2])
		pos := batch.AnswerPos.Value().([]int32)
		v := m.Cfg.Decoder.VocabSize
		for i := range b {
			for k, id := range m.LevelIDs {
				fromLM := lm[(i*l+int(pos[i]))*v+id]
				if d := math.Abs(level[i*5+k] - fromLM); d > 1e-4*math.Max(1, math.Abs(fromLM)) {
					t.Errorf("row %d level %d: %g vs LM logit %g", i, k, level[i*5+k], fromLM)
				}
			}
			want := handExpectation(level[i*5 : i*5+5])
			if math.Abs(score[i]-want) > 1e-5 || score[i] < 1 || score[i] > 5 {
				t.Errorf("row %d: score %g, hand %g", i, score[i], want)
			}
		}
	})
}

func TestPredictor(t *testing.T) {
	m, err := Build(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(51, 52))
	p := NewPredictor(m, testBackend(t))
	within(t, 60*time.Second, "predictor", func() {
		b := randomBatch(m, TaskPair, 2, 5, rng)
		scores, probs, err := p.Score(b)
		if err != nil {
			t.Fatal(err)
		}
		pr := flat(t, probs)
		for i, s := range flat(t, scores) {
			if want := handExpectation(logOf(pr[i*5 : i*5+5])); math.Abs(s-want) > 1e-5 {
				t.Errorf("score %g, from probs %g", s, want)
			}
		}
		pair, err := p.Pair(b)
		if err != nil {
			t.Fatal(err)
		}
		pp := flat(t, pair)
		if math.Abs(pp[0]+pp[1]-1) > 1e-5 {
			t.Errorf("pair probs %v", pp)
		}
		logits, err := p.Logits(b)
		if err != nil {
			t.Fatal(err)
		}
		if !sameDims(logits, []int{2, 5, m.Cfg.Decoder.VocabSize}) {
			t.Errorf("logits %s", logits.Shape())
		}
	})
}

func logOf(p []float64) []float64 {
	l := make([]float64, len(p))
	for i, v := range p {
		l[i] = math.Log(v)
	}
	return l
}

// The optional L1 term: TaskGraphWith(ScoreL1: w) adds exactly
// w * mean |expected score - target score| (target from the soft levels by
// hand) to the default score loss.
func TestScoreL1Term(t *testing.T) {
	m, err := Build(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	backend := testBackend(t)
	if err := m.Init(backend); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	b := randomBatch(m, TaskScore, 3, 6, rng)
	in, err := m.Inputs(b)
	if err != nil {
		t.Fatal(err)
	}
	const w = 0.7
	run := func(opt LossOptions) []float64 {
		e := gm.MustNewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) []*Node {
			o := m.TaskGraphWith(scope, TaskScore, in, opt)
			return []*Node{o.Loss, o.Score}
		})
		outs := e.MustCall(in...)
		return append(flat(t, outs[0]), flat(t, outs[1])...)
	}
	base, withL1 := run(LossOptions{}), run(LossOptions{ScoreL1: w})
	target := flat(t, b.Target)
	l1 := 0.0
	for i, s := range base[1:] {
		ts := 0.0
		for j := range 5 {
			ts += target[i*5+j] * float64(5-j)
		}
		l1 += math.Abs(s-ts) / float64(len(base)-1)
	}
	if want := base[0] + w*l1; math.Abs(withL1[0]-want) > 1e-5*math.Max(1, want) || l1 == 0 {
		t.Fatalf("loss with L1 %.7g, want %.7g + %g * %.7g = %.7g", withL1[0], base[0], w, l1, want)
	}
}

// The optional rank term: TaskGraphWith(PairRank: w) adds exactly
// w * mean softplus(-RankScale * (s_better - s_worse)) to the pair loss,
// where s is what Predictor scores for each video under the score prompt
// (computed here by a separate score batch and by hand).
func TestPairRankTerm(t *testing.T) {
	m, err := Build(tinyConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	backend := testBackend(t)
	if err := m.Init(backend); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	const b = 4
	pair := randomBatch(m, TaskPair, b, 6, rng)
	in, err := m.Inputs(pair)
	if err != nil {
		t.Fatal(err)
	}
	const w = 0.6
	run := func(opt LossOptions) float64 {
		e := gm.MustNewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) []*Node {
			return []*Node{m.TaskGraphWith(scope, TaskPair, in, opt).Loss}
		})
		return flat(t, e.MustCall(in...)[0])[0]
	}
	base, withRank := run(LossOptions{}), run(LossOptions{PairRank: w})
	rows, pos, l, err := m.ScorePrompt(b) // the layout; what is checked is the score read from it
	if err != nil {
		t.Fatal(err)
	}
	pred := NewPredictor(m, backend)
	score := func(frames, patches *tensors.Tensor) []float64 {
		s, _, err := pred.Score(&Batch{Frames: frames, Patches: patches,
			Tokens:    tensors.FromFlatDataAndDimensions(rows, b, l),
			AnswerPos: tensors.FromFlatDataAndDimensions(pos, b)})
		if err != nil {
			t.Fatal(err)
		}
		return flat(t, s)
	}
	sa, sb := score(pair.Frames, pair.Patches), score(pair.FramesB, pair.PatchesB)
	labels := pair.Label.Value().([]int32)
	rank := 0.0
	for i := range b {
		d := sa[i] - sb[i]
		if labels[i] == 1 {
			d = -d
		}
		rank += math.Log1p(math.Exp(-RankScale*d)) / b
	}
	if want := base + w*rank; math.Abs(withRank-want) > 1e-5*math.Max(1, want) || rank == 0 {
		t.Fatalf("pair loss with rank %.7g, want %.7g + %g * %.7g = %.7g", withRank, base, w, rank, want)
	}
}

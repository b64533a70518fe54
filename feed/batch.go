package feed

import (
	"bytes"
	"fmt"
	"math"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// Usable reports whether a record has a score label.
func Usable(r *shards.Record) bool {
	return !math.IsNaN(r.MOSNorm) && !math.IsInf(r.MOSNorm, 0)
}

// pad lays out rows of token ids right-padded with the pad id to l.
func (b *Bridge) pad(rows [][]int, l int) *tensors.Tensor {
	data := make([]int32, len(rows)*l)
	for i, r := range rows {
		for j := range l {
			v := b.M.Pad
			if j < len(r) {
				v = r[j]
			}
			data[i*l+j] = int32(v)
		}
	}
	return tensors.FromFlatDataAndDimensions(data, len(rows), l)
}

// ScoreBatch builds a training score batch: the prompt answered by MOSNorm's
// level word, with its soft target (package levels). Records without a
// score must be filtered out first (Usable).
func (b *Bridge) ScoreBatch(recs []*shards.Record) (*model.Batch, error) {
	frames, patches, stats, err := b.videoInputs(clipsOf(recs), nil)
	if err != nil {
		return nil, err
	}
	rows := make([][]int, len(recs))
	pos := make([]int32, len(recs))
	target := make([]float32, 0, 5*len(recs))
	for i, r := range recs {
		if !Usable(r) {
			return nil, fmt.Errorf("feed: record %s has no score (mos_norm %v)", r.ID, r.MOSNorm)
		}
		toks, p, err := b.M.Sequence(model.TaskScore, levels.Words[levels.Index(r.MOSNorm)])
		if err != nil {
			return nil, err
		}
		rows[i], pos[i] = toks, int32(p)
		t := levels.Target(r.MOSNorm)
		target = append(target, t[:]...)
	}
	return &model.Batch{Task: model.TaskScore, Frames: frames, Patches: patches, Stats: stats,
		Tokens:    b.pad(rows, b.scoreLen),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, len(recs)),
		Target:    tensors.FromFlatDataAndDimensions(target, len(recs), 5)}, nil
}

// ScoreInputs builds an inference score batch: the prompt alone, padded to
// the training layout. The level logits are read at the last prompt token,
// and attention is causal, so the scores equal those of ScoreBatch.
func (b *Bridge) ScoreInputs(clips []Clip) (*model.Batch, error) {
	frames, patches, stats, err := b.videoInputs(clips, nil)
	if err != nil {
		return nil, err
	}
	toks, p, err := b.M.Sequence(model.TaskScore, "")
	if err != nil {
		return nil, err
	}
	rows := make([][]int, len(clips))
	pos := make([]int32, len(clips))
	for i := range clips {
		rows[i], pos[i] = toks, int32(p)
	}
	return &model.Batch{Task: model.TaskScore, Frames: frames, Patches: patches, Stats: stats,
		Tokens:    b.pad(rows, b.scoreLen),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, len(clips))}, nil
}

// DescribeBatch builds a describe batch: teacher forcing on the description
// (plus <eos> when it fits); the loss mask covers exactly the positions whose
// next token is part of the answer.
func (b *Bridge) DescribeBatch(recs []*shards.Record) (*model.Batch, error) {
	frames, patches, stats, err := b.videoInputs(clipsOf(recs), nil)
	if err != nil {
		return nil, err
	}
	l := b.descLen
	rows := make([][]int, len(recs))
	targets := make([]int32, len(recs)*l)
	mask := make([]float32, len(recs)*l)
	for i, r := range recs {
		if r.Description == "" {
			return nil, fmt.Errorf("feed: record %s has no description", r.ID)
		}
		text := r.Description
		switch b.descText {
		case "observable":
			text = describe.Observable(text, isStill(r))
		case "canonical":
			text = describe.CanonicalText(text, isStill(r))
		}
		toks, p, err := b.M.Sequence(model.TaskDescribe, text)
		if err != nil {
			return nil, err
		}
		if len(toks) < l {
			toks = append(toks, b.M.EOS)
		}
		toks = toks[:min(len(toks), l)]
		rows[i] = toks
		for j := p; j+1 < len(toks); j++ {
			targets[i*l+j] = int32(toks[j+1])
			mask[i*l+j] = 1
		}
	}
	return &model.Batch{Task: model.TaskDescribe, Frames: frames, Patches: patches, Stats: stats,
		Tokens:  b.pad(rows, l),
		Targets: tensors.FromFlatDataAndDimensions(targets, len(recs), l),
		Mask:    tensors.FromFlatDataAndDimensions(mask, len(recs), l)}, nil
}

// isStill reports a one-frame clip (an image): every stored context frame
// is the same picture.
func isStill(r *shards.Record) bool { return stillContext(r.Context, r.M) }

// stillContext reports whether the m frames of context are one picture.
func stillContext(context []byte, m int) bool {
	if m <= 1 {
		return true
	}
	n := len(context) / m
	for i := 1; i < m; i++ {
		if !bytes.Equal(context[:n], context[i*n:(i+1)*n]) {
			return false
		}
	}
	return true
}

// PairBatch builds a pair batch from (A, B, label) triples: label 0 means A
// is better and the answer is "first".
func (b *Bridge) PairBatch(as, bs []*shards.Record, labels []int) (*model.Batch, error) {
	if len(as) != len(bs) || len(as) != len(labels) {
		return nil, fmt.Errorf("feed: pair batch with %d/%d/%d items", len(as), len(bs), len(labels))
	}
	var seeds []uint64
	if b.aug != nil && b.pairViews {
		seeds = make([]uint64, len(as))
		for i := range seeds {
			seeds[i] = b.aug.Uint64()
		}
	}
	fa, pa, sa, err := b.videoInputs(clipsOf(as), seeds)
	if err != nil {
		return nil, err
	}
	fb, pb, sb, err := b.videoInputs(clipsOf(bs), seeds)
	if err != nil {
		return nil, err
	}
	rows := make([][]int, len(as))
	pos := make([]int32, len(as))
	lab := make([]int32, len(as))
	for i, y := range labels {
		if y != 0 && y != 1 {
			return nil, fmt.Errorf("feed: pair %s/%s has label %d", as[i].ID, bs[i].ID, y)
		}
		toks, p, err := b.M.Sequence(model.TaskPair, model.PairWords[y])
		if err != nil {
			return nil, err
		}
		rows[i], pos[i], lab[i] = toks, int32(p), int32(y)
	}
	return &model.Batch{Task: model.TaskPair, Frames: fa, Patches: pa, FramesB: fb, PatchesB: pb, Stats: sa, StatsB: sb,
		Tokens:    b.pad(rows, b.pairLen),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, len(as)),
		Label:     tensors.FromFlatDataAndDimensions(lab, len(as))}, nil
}

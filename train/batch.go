// Package train fine-tunes CP-LLM on shard directories: a data bridge from
// shard records to model batches, a deterministic multi-task training loop
// (AdamW, warmup + cosine schedule, global-norm gradient clipping), validation
// by SRCC/PLCC, NaN and stall guards, and atomic resumable checkpoints.
package train

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// Bridge turns shard records into model batches. Frames and patches are
// resized from the shard's frame size to the model's input size with an
// area (box) filter: each output pixel is the exact area-weighted mean of the
// source pixels it covers. For integer ratios (224 -> 32 is 7:1) this is a
// plain box average; it never aliases the way point sampling would, and it is
// exact and deterministic (no floating-point ordering differences).
type Bridge struct {
	M         *model.Model
	ShardSize int // S of the shard frames
	scoreLen  int // fixed text lengths: score and pair answers are one word
	pairLen   int
	descLen   int
	resizer   *resizer
	// aug, when set (training only), randomises the views: which of the
	// shard's frames/patches are used, where each patch is cropped, and a
	// horizontal flip. A shard stores one fixed view per video; without this
	// a small model memorises the views instead of learning quality.
	aug *rand.Rand
	// view > 0 selects a fixed alternative eval view: the augmentation drawn
	// from (view, record id), so a record's view never depends on its batch.
	view int
}

// Views returns copies of b for the model's input.eval_views views: the
// canonical view (stored patches' centres, uniform subsets) first, then
// fixed augmented views. Predictions average the scores over them.
func (b *Bridge) Views() []*Bridge {
	n := max(1, b.M.Cfg.Input.EvalViews)
	out := make([]*Bridge, n)
	for v := range n {
		c := *b
		c.aug, c.view = nil, v
		out[v] = &c
	}
	return out
}

// recordRNG reseeds the view randomness for one record (eval views only).
func (b *Bridge) recordRNG(id string, what uint64) {
	if b.view == 0 {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	b.aug = rand.New(rand.NewPCG(splitmix(h.Sum64()^uint64(b.view)), what))
}

// WithAugment returns a copy of b whose batches use seeded random views
// (see Bridge.aug); seed 0 gives the deterministic eval views.
func (b *Bridge) WithAugment(seed uint64) *Bridge {
	c := *b
	c.aug = nil
	if seed != 0 {
		c.aug = rand.New(rand.NewPCG(seed, 0x5eed))
	}
	return &c
}

// NewBridge checks the model's text layout and prepares the resizer.
// descLen is the padded describe length (0 = input.max_text_len).
func NewBridge(m *model.Model, shardSize, descLen int) (*Bridge, error) {
	if shardSize <= 0 {
		return nil, fmt.Errorf("train: shard frame size %d", shardSize)
	}
	if descLen <= 0 || descLen > m.Cfg.Input.MaxTextLen {
		descLen = m.Cfg.Input.MaxTextLen
	}
	b := &Bridge{M: m, ShardSize: shardSize, descLen: descLen,
		resizer: newResizer(shardSize, m.Cfg.Input.Size)}
	for _, task := range []model.Task{model.TaskScore, model.TaskPair} {
		answer := model.LevelWords[0]
		if task == model.TaskPair {
			answer = model.PairWords[0]
		}
		toks, _, err := m.Sequence(task, answer)
		if err != nil {
			return nil, err
		}
		if task == model.TaskScore {
			b.scoreLen = len(toks)
		} else {
			b.pairLen = len(toks)
		}
	}
	return b, nil
}

// Usable reports whether a record has a score label.
func Usable(r *shards.Record) bool {
	return !math.IsNaN(r.MOSNorm) && !math.IsInf(r.MOSNorm, 0)
}

// videos builds the uint8 [B,M,S,S,3] frames and [B,K,S,S,3] patches
// tensors (nil for an encoder the variant does not use).
func (b *Bridge) videos(recs []*shards.Record) (frames, patches *tensors.Tensor, err error) {
	in := b.M.Cfg.Input
	n := len(recs)
	img := in.Size * in.Size * 3
	if b.M.Variant.Context {
		data := make([]uint8, n*in.Frames*img)
		for i, r := range recs {
			b.recordRNG(r.ID, 1)
			if err := b.fill(data[i*in.Frames*img:(i+1)*in.Frames*img], r.Context, r.M, in.Frames, r.ID, "frames", b.resizer.resize); err != nil {
				return nil, nil, err
			}
		}
		frames = tensors.FromFlatDataAndDimensions(data, n, in.Frames, in.Size, in.Size, 3)
	}
	if b.M.Variant.Pixel {
		data := make([]uint8, n*in.Patches*img)
		for i, r := range recs {
			b.recordRNG(r.ID, 2)
			if err := b.fill(data[i*in.Patches*img:(i+1)*in.Patches*img], r.Patches, r.K, in.Patches, r.ID, "patches", b.crop); err != nil {
				return nil, nil, err
			}
		}
		patches = tensors.FromFlatDataAndDimensions(data, n, in.Patches, in.Size, in.Size, 3)
	}
	return frames, patches, nil
}

// fill converts `want` of the `have` images in src into dst with conv, taking
// a uniform subset (index i*have/want) when the shard holds more than the
// model needs.
func (b *Bridge) fill(dst, src []byte, have, want int, id, what string, conv func(out, in []byte)) error {
	if have < want {
		return fmt.Errorf("train: record %s has %d %s, the model needs %d", id, have, what, want)
	}
	si := b.ShardSize * b.ShardSize * 3
	if len(src) != have*si {
		return fmt.Errorf("train: record %s: %s hold %d bytes, want %d", id, what, len(src), have*si)
	}
	di := len(dst) / want
	var pick []int
	if b.aug != nil && have > want {
		pick = b.aug.Perm(have)[:want]
		slices.Sort(pick) // keep temporal order
	}
	for i := range want {
		j := i * have / want
		if pick != nil {
			j = pick[i]
		}
		out := dst[i*di : (i+1)*di]
		conv(out, src[j*si:(j+1)*si])
		if b.aug != nil && b.aug.IntN(2) == 1 {
			flipRows(out, b.M.Cfg.Input.Size)
		}
	}
	return nil
}

// flipRows mirrors a square RGB image of side d horizontally in place.
func flipRows(img []byte, d int) {
	for y := range d {
		row := img[y*d*3 : (y+1)*d*3]
		for l, r := 0, d-1; l < r; l, r = l+1, r-1 {
			for c := range 3 {
				row[l*3+c], row[r*3+c] = row[r*3+c], row[l*3+c]
			}
		}
	}
}

// crop copies the centre of a shard patch at the model's input size. Pixel
// patches are cut, never resized: resizing would smooth away the blocking,
// blur and noise the pixel encoder exists to see. (Context frames, which
// carry content, are resized.) A model input larger than the shard's patch
// falls back to resizing.
func (b *Bridge) crop(out, in []byte) {
	s, d := b.ShardSize, b.M.Cfg.Input.Size
	if d > s {
		b.resizer.resize(out, in)
		return
	}
	offX, offY := (s-d)/2, (s-d)/2
	if b.aug != nil {
		offX, offY = b.aug.IntN(s-d+1), b.aug.IntN(s-d+1)
	}
	for y := range d {
		src := ((y+offY)*s + offX) * 3
		copy(out[y*d*3:(y+1)*d*3], in[src:src+d*3])
	}
}

// tokens lays out rows of token ids right-padded with the pad id to l.
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

// ScoreBatch builds a score batch: the prompt answered by MOSNorm's level
// word, with its soft target (package levels). Records without a
// score must be filtered out first (Usable).
func (b *Bridge) ScoreBatch(recs []*shards.Record) (*model.Batch, error) {
	frames, patches, err := b.videos(recs)
	if err != nil {
		return nil, err
	}
	rows := make([][]int, len(recs))
	pos := make([]int32, len(recs))
	target := make([]float32, 0, 5*len(recs))
	for i, r := range recs {
		if !Usable(r) {
			return nil, fmt.Errorf("train: record %s has no score (mos_norm %v)", r.ID, r.MOSNorm)
		}
		toks, p, err := b.M.Sequence(model.TaskScore, levels.Words[levels.Index(r.MOSNorm)])
		if err != nil {
			return nil, err
		}
		rows[i], pos[i] = toks, int32(p)
		t := levels.Target(r.MOSNorm)
		target = append(target, t[:]...)
	}
	return &model.Batch{Task: model.TaskScore, Frames: frames, Patches: patches,
		Tokens:    b.pad(rows, b.scoreLen),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, len(recs)),
		Target:    tensors.FromFlatDataAndDimensions(target, len(recs), 5)}, nil
}

// DescribeBatch builds a describe batch: teacher forcing on the description
// (plus <eos> when it fits); the loss mask covers exactly the positions whose
// next token is part of the answer.
func (b *Bridge) DescribeBatch(recs []*shards.Record) (*model.Batch, error) {
	frames, patches, err := b.videos(recs)
	if err != nil {
		return nil, err
	}
	l := b.descLen
	rows := make([][]int, len(recs))
	targets := make([]int32, len(recs)*l)
	mask := make([]float32, len(recs)*l)
	for i, r := range recs {
		if r.Description == "" {
			return nil, fmt.Errorf("train: record %s has no description", r.ID)
		}
		toks, p, err := b.M.Sequence(model.TaskDescribe, r.Description)
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
	return &model.Batch{Task: model.TaskDescribe, Frames: frames, Patches: patches,
		Tokens:  b.pad(rows, l),
		Targets: tensors.FromFlatDataAndDimensions(targets, len(recs), l),
		Mask:    tensors.FromFlatDataAndDimensions(mask, len(recs), l)}, nil
}

// PairBatch builds a pair batch from (A, B, label) triples: label 0 means A
// is better and the answer is "first".
func (b *Bridge) PairBatch(as, bs []*shards.Record, labels []int) (*model.Batch, error) {
	if len(as) != len(bs) || len(as) != len(labels) {
		return nil, fmt.Errorf("train: pair batch with %d/%d/%d items", len(as), len(bs), len(labels))
	}
	fa, pa, err := b.videos(as)
	if err != nil {
		return nil, err
	}
	fb, pb, err := b.videos(bs)
	if err != nil {
		return nil, err
	}
	rows := make([][]int, len(as))
	pos := make([]int32, len(as))
	lab := make([]int32, len(as))
	for i, y := range labels {
		if y != 0 && y != 1 {
			return nil, fmt.Errorf("train: pair %s/%s has label %d", as[i].ID, bs[i].ID, y)
		}
		toks, p, err := b.M.Sequence(model.TaskPair, model.PairWords[y])
		if err != nil {
			return nil, err
		}
		rows[i], pos[i], lab[i] = toks, int32(p), int32(y)
	}
	return &model.Batch{Task: model.TaskPair, Frames: fa, Patches: pa, FramesB: fb, PatchesB: pb,
		Tokens:    b.pad(rows, b.pairLen),
		AnswerPos: tensors.FromFlatDataAndDimensions(pos, len(as)),
		Label:     tensors.FromFlatDataAndDimensions(lab, len(as))}, nil
}

// Package feed is the one path from videos to model inputs and from model
// outputs to scores, shared by training and evaluation: the views of a clip
// (a shard record's, or views sampled from a file) collated into model
// batches at the model's input size, the label encoding of the three tasks,
// and view-averaged score prediction, on a batch of clips or a whole shard
// directory.
package feed

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// Clip is one video's views at a frame size of S: M context frames and K
// pixel patches, S x S RGB bytes each. It carries no label.
type Clip struct {
	ID string
	// ViewKey, when set, replaces ID as the key of the fixed eval views:
	// the rungs of a CRF ladder share their source's, so their scores
	// differ by compression alone, never by which crops were taken.
	ViewKey string
	Context []byte
	M       int
	Patches []byte
	K       int
	// FrameStats are the statistics of the whole frames the patches were
	// cut from (data/stats order), for the frame statistics kinds; empty
	// when not measured or every frame was flat.
	FrameStats []float64
}

// ClipOf is a shard record's views (sharing its bytes).
func ClipOf(r *shards.Record) Clip {
	return Clip{ID: r.ID, Context: r.Context, M: r.M, Patches: r.Patches, K: r.K, FrameStats: r.FrameStats}
}

func clipsOf(recs []*shards.Record) []Clip {
	out := make([]Clip, len(recs))
	for i, r := range recs {
		out[i] = ClipOf(r)
	}
	return out
}

// Bridge turns clips into model batches. Frames and patches are resized from
// the clips' frame size to the model's input size with an area (box) filter:
// each output pixel is the exact area-weighted mean of the source pixels it
// covers. For integer ratios (224 -> 32 is 7:1) this is a plain box average;
// it never aliases the way point sampling would, and it is exact and
// deterministic (no floating-point ordering differences).
type Bridge struct {
	M         *model.Model
	ShardSize int // S of the clips' frames
	scoreLen  int // fixed text lengths: score and pair answers are one word
	pairLen   int
	descLen   int
	resizer   *resizer
	// aug, when set (training only), randomises the views: which of the
	// clip's frames/patches are used, where each patch is cropped, and a
	// horizontal flip. A shard stores one fixed view per video; without this
	// a small model memorises the views instead of learning quality.
	aug *rand.Rand
	// view > 0 selects a fixed alternative eval view: the augmentation drawn
	// from (view, clip id), so a clip's view never depends on its batch.
	view int
	// pairViews gives both videos of a training pair the same augmentation
	// (frame/patch subset, crop offsets, flips): with shards sampled at
	// shared positions (shards.source_views), a same-source pair then shows
	// the same pixels at two compression levels.
	pairViews bool
	cache     *statsCache // per-clip statistics (model config stats), shared by copies
	// descText rewrites the stored descriptions for the describe task:
	// "observable" drops the file facts no input shows
	// (describe.Observable), "canonical" writes their statements in one
	// fixed form (describe.CanonicalText); "" or "stored" keeps them.
	descText string
}

// NewBridge checks the model's text layout and prepares the resizer.
// descLen is the padded describe length (0 = input.max_text_len).
func NewBridge(m *model.Model, shardSize, descLen int) (*Bridge, error) {
	if shardSize <= 0 {
		return nil, fmt.Errorf("feed: frame size %d", shardSize)
	}
	if descLen <= 0 || descLen > m.Cfg.Input.MaxTextLen {
		descLen = m.Cfg.Input.MaxTextLen
	}
	b := &Bridge{M: m, ShardSize: shardSize, descLen: descLen,
		resizer: newResizer(shardSize, m.Cfg.Input.Size), cache: &statsCache{m: map[uint64]statsEntry{}}}
	score, _, err := m.Sequence(model.TaskScore, model.LevelWords[0])
	if err != nil {
		return nil, err
	}
	pair, _, err := m.Sequence(model.TaskPair, model.PairWords[0])
	if err != nil {
		return nil, err
	}
	b.scoreLen, b.pairLen = len(score), len(pair)
	return b, nil
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

// WithPairViews returns a copy of b whose pair batches draw one
// augmentation per pair, shared by its two videos (see Bridge.pairViews).
func (b *Bridge) WithPairViews(on bool) *Bridge {
	c := *b
	c.pairViews = on
	return &c
}

// WithDescribeText returns a copy of b whose describe batches rewrite the
// stored descriptions: "observable" (describe.Observable), "canonical"
// (describe.CanonicalText), or "stored" / "" (as stored).
func (b *Bridge) WithDescribeText(mode string) *Bridge {
	c := *b
	c.descText = mode
	return &c
}

// clipRNG reseeds the view randomness for one clip (eval views only).
func (b *Bridge) clipRNG(id string, what uint64) {
	if b.view == 0 {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	b.aug = rand.New(rand.NewPCG(splitmix(h.Sum64()^uint64(b.view)), what))
}

// splitmix is the splitmix64 finaliser: a well-mixed seed from any integer.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// videos builds the uint8 [B,M,S,S,3] frames and [B,K,S,S,3] patches
// tensors (nil for an encoder the variant does not use).
func (b *Bridge) videos(clips []Clip) (frames, patches *tensors.Tensor, err error) {
	return b.videosSeeded(clips, nil)
}

// videoInputs are videosSeeded's frames and patches and the clips'
// statistics (nil when the model takes none).
func (b *Bridge) videoInputs(clips []Clip, seeds []uint64) (frames, patches, stats *tensors.Tensor, err error) {
	if frames, patches, err = b.videosSeeded(clips, seeds); err != nil {
		return nil, nil, nil, err
	}
	stats, err = b.stats(clips)
	return frames, patches, stats, err
}

// videosSeeded is videos with, when seeds is set, clip i's augmentation
// drawn from seeds[i] rather than from b's stream (which it leaves as it was).
func (b *Bridge) videosSeeded(clips []Clip, seeds []uint64) (frames, patches *tensors.Tensor, err error) {
	if seeds != nil {
		stream := b.aug
		defer func() { b.aug = stream }()
	}
	reseed := func(i int, what uint64) {
		if seeds != nil {
			b.aug = rand.New(rand.NewPCG(seeds[i], what))
			return
		}
		key := clips[i].ViewKey
		if key == "" {
			key = clips[i].ID
		}
		b.clipRNG(key, what)
	}
	in := b.M.Cfg.Input
	n := len(clips)
	img := in.Size * in.Size * 3
	if b.M.Variant.Context {
		data := make([]uint8, n*in.Frames*img)
		for i, c := range clips {
			reseed(i, 1)
			if err := b.fill(data[i*in.Frames*img:(i+1)*in.Frames*img], c.Context, c.M, in.Frames, c.ID, "frames", b.resizer.resize); err != nil {
				return nil, nil, err
			}
		}
		frames = tensors.FromFlatDataAndDimensions(data, n, in.Frames, in.Size, in.Size, 3)
	}
	if b.M.Variant.Pixel {
		data := make([]uint8, n*in.Patches*img)
		for i, c := range clips {
			reseed(i, 2)
			if err := b.fill(data[i*in.Patches*img:(i+1)*in.Patches*img], c.Patches, c.K, in.Patches, c.ID, "patches", b.crop); err != nil {
				return nil, nil, err
			}
		}
		patches = tensors.FromFlatDataAndDimensions(data, n, in.Patches, in.Size, in.Size, 3)
	}
	return frames, patches, nil
}

// fill converts `want` of the `have` images in src into dst with conv, taking
// a uniform subset (index i*have/want) when the clip holds more than the
// model needs.
func (b *Bridge) fill(dst, src []byte, have, want int, id, what string, conv func(out, in []byte)) error {
	if have < want {
		return fmt.Errorf("feed: clip %s has %d %s, the model needs %d", id, have, what, want)
	}
	si := b.ShardSize * b.ShardSize * 3
	if len(src) != have*si {
		return fmt.Errorf("feed: clip %s: %s hold %d bytes, want %d", id, what, len(src), have*si)
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

// crop copies the centre of a clip's patch at the model's input size. Pixel
// patches are cut, never resized: resizing would smooth away the blocking,
// blur and noise the pixel encoder exists to see. (Context frames, which
// carry content, are resized.) A model input larger than the patch falls
// back to resizing.
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

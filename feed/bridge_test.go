package feed

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

const testShardSize = feedtest.FrameSize

func tinyModel(t testing.TB) model.Config { return feedtest.ModelConfig(t) }

// tinyBridge builds the tiny model and its bridge for testShardSize clips.
func tinyBridge(t testing.TB) (*model.Model, *Bridge) {
	t.Helper()
	m, err := model.Build(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBridge(m, testShardSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, br
}

// TestResizeBox: 4x4 -> 2x2 is the mean of each 2x2 block; 3 -> 2 weighs
// the shared middle pixel by half.
func TestResizeBox(t *testing.T) {
	in := make([]byte, 4*4*3)
	for y := range 4 {
		for x := range 4 {
			for c := range 3 {
				in[(y*4+x)*3+c] = byte(10*y + x + c)
			}
		}
	}
	out := make([]byte, 2*2*3)
	newResizer(4, 2).resize(out, in)
	// block (0,0): values y in {0,1}, x in {0,1}: mean = 5 + 0.5 = 5.5 -> 6
	if out[0] != 6 || out[3*3] != byte(math.Round(25+2.5)) {
		t.Fatalf("box resize = %v", out)
	}
	row := []byte{0, 0, 0, 90, 90, 90, 180, 180, 180}
	img := append(append(append([]byte{}, row...), row...), row...)
	out = make([]byte, 2*2*3)
	newResizer(3, 2).resize(out, img)
	// left output pixel covers [0, 1.5): (0 + 0.5*90) / 1.5 = 30
	if out[0] != 30 || out[3] != 150 {
		t.Fatalf("area resize = %v", out)
	}
}

// TestDescribeMask: targets are the next tokens of the answer only.
func TestDescribeMask(t *testing.T) {
	m, br := tinyBridge(t)
	frame := testShardSize * testShardSize * 3
	rec := &shards.Record{ID: "a", M: 4, K: 2, Context: make([]byte, 4*frame), Patches: make([]byte, 2*frame),
		Description: "good quality", MOSNorm: math.NaN()}
	b, err := br.DescribeBatch([]*shards.Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	toks, p, _ := m.Sequence(model.TaskDescribe, rec.Description)
	toks = append(toks, m.EOS)
	mask := b.Mask.Value().([][]float32)[0]
	tg := b.Targets.Value().([][]int32)[0]
	for j := range mask {
		want := j >= p && j+1 < len(toks)
		if (mask[j] == 1) != want || (want && int(tg[j]) != toks[j+1]) {
			t.Fatalf("position %d: mask %v target %d (answer from %d, %d tokens)", j, mask[j], tg[j], p, len(toks))
		}
	}
	if _, err := br.ScoreBatch([]*shards.Record{rec}); err == nil {
		t.Fatal("a NaN-MOS record made a score batch")
	}
	rec.M = 2
	rec.Context = rec.Context[:2*frame]
	if _, err := br.DescribeBatch([]*shards.Record{rec}); err == nil {
		t.Fatal("2 frames accepted for a 4-frame model")
	}
}

func TestPatchesAreCroppedNotResized(t *testing.T) {
	m, err := model.Build(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBridge(m, 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, d := 64, m.Cfg.Input.Size
	in := make([]byte, s*s*3)
	for i := range in {
		in[i] = byte(i * 7)
	}
	out := make([]byte, d*d*3)
	br.crop(out, in)
	off := (s - d) / 2
	for y := 0; y < d; y += 5 {
		for x := 0; x < d; x += 3 {
			for c := range 3 {
				if out[(y*d+x)*3+c] != in[((y+off)*s+x+off)*3+c] {
					t.Fatalf("pixel (%d,%d,%d) is not the source pixel", x, y, c)
				}
			}
		}
	}
}

// TestAugmentViews: augmented patches are exact sub-windows (possibly
// mirrored) of one of the shard's patches, the same seed gives the same
// views, and seed 0 gives the eval views.
func TestAugmentViews(t *testing.T) {
	m, err := model.Build(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	s := 64
	br, err := NewBridge(m, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := m.Cfg.Input
	k := in.Patches + 2
	pix := make([]byte, k*s*s*3)
	for i := range pix {
		pix[i] = byte(i*7 + i/191)
	}
	rec := &shards.Record{ID: "a", Patches: pix, K: k, Context: make([]byte, in.Frames*s*s*3), M: in.Frames}
	flat := func(b *Bridge) []byte {
		_, p, err := b.videos([]Clip{ClipOf(rec)})
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		p.ConstFlatData(func(f any) { out = append(out, f.([]uint8)...) })
		return out
	}
	base := flat(br)
	if !bytes.Equal(flat(br.WithAugment(0)), base) {
		t.Fatal("WithAugment(0) differs from the eval views")
	}
	a1, a2 := flat(br.WithAugment(7)), flat(br.WithAugment(7))
	if !bytes.Equal(a1, a2) {
		t.Fatal("same augment seed, different views")
	}
	if bytes.Equal(a1, base) || bytes.Equal(a1, flat(br.WithAugment(8))) {
		t.Fatal("augmentation did not change the views")
	}
	d := in.Size
	img := d * d * 3
	for i := range in.Patches {
		if !isWindow(a1[i*img:(i+1)*img], pix, k, s, d) {
			t.Fatalf("augmented patch %d is not a (mirrored) window of a shard patch", i)
		}
	}
}

// isWindow reports whether out (d x d) equals some d x d window, possibly
// mirrored, of one of the k s x s images in src.
func isWindow(out, src []byte, k, s, d int) bool {
	at := func(img []byte, x, y, c int) byte { return img[(y*d+x)*3+c] }
	for j := range k {
		p := src[j*s*s*3 : (j+1)*s*s*3]
		for oy := 0; oy <= s-d; oy++ {
			for ox := 0; ox <= s-d; ox++ {
				for _, mirror := range []bool{false, true} {
					ok := true
					for y := 0; y < d && ok; y++ {
						for x := 0; x < d && ok; x++ {
							sx := ox + x
							if mirror {
								sx = ox + d - 1 - x
							}
							for c := range 3 {
								if at(out, x, y, c) != p[((oy+y)*s+sx)*3+c] {
									ok = false
									break
								}
							}
						}
					}
					if ok {
						return true
					}
				}
			}
		}
	}
	return false
}

// TestEvalViews: view 0 is the canonical view, further views are fixed
// augmented views that depend only on (view, record id), not on the batch.
func TestEvalViews(t *testing.T) {
	mc := tinyModel(t)
	mc.Input.EvalViews = 3
	m, err := model.Build(mc)
	if err != nil {
		t.Fatal(err)
	}
	s := 64
	br, err := NewBridge(m, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := m.Cfg.Input
	mk := func(id string, seed int) *shards.Record {
		k := in.Patches + 2
		pix := make([]byte, k*s*s*3)
		ctx := make([]byte, in.Frames*s*s*3)
		for i := range pix {
			pix[i] = byte(i*seed + i/97)
		}
		for i := range ctx {
			ctx[i] = byte(i*(seed+1) + i/89)
		}
		return &shards.Record{ID: id, Patches: pix, K: k, Context: ctx, M: in.Frames}
	}
	a, b := mk("a", 3), mk("b", 5)
	flat := func(br *Bridge, recs ...*shards.Record) []byte {
		f, p, err := br.videos(clipsOf(recs))
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		f.ConstFlatData(func(x any) { out = append(out, x.([]uint8)...) })
		p.ConstFlatData(func(x any) { out = append(out, x.([]uint8)...) })
		return out
	}
	views := br.Views()
	if len(views) != 3 {
		t.Fatalf("%d views, want 3", len(views))
	}
	if !bytes.Equal(flat(views[0], a), flat(br, a)) {
		t.Fatal("view 0 is not the canonical view")
	}
	v1a := flat(views[1], a)
	if bytes.Equal(v1a, flat(views[0], a)) || bytes.Equal(v1a, flat(views[2], a)) {
		t.Fatal("views 1 and 2 must differ from each other and from view 0")
	}
	// a alone, or second in a batch after b: the same view of a
	fa, pa, _ := views[1].videos(clipsOf([]*shards.Record{b, a}))
	var frames, patches []byte
	fa.ConstFlatData(func(x any) { frames = x.([]uint8) })
	pa.ConstFlatData(func(x any) { patches = x.([]uint8) })
	nf, np := len(frames)/2, len(patches)/2
	if !bytes.Equal(append(slices.Clone(frames[nf:]), patches[np:]...), v1a) {
		t.Fatal("a record's eval view depends on its batch")
	}
}

// TestPredictionsAverageViews: with eval_views 3, ScoreShards is the mean
// of the three views' scores, each computed on its own from a training
// score batch (whose answer word and target do not change the score).
func TestPredictionsAverageViews(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	feedtest.WriteShards(t, dir, 16, 1, -1)
	mc := tinyModel(t)
	mc.Input.EvalViews = 3
	m, p := feedtest.Model(t, mc)
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBridge(m, ds.FrameSize(), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ScoreShards(context.Background(), p, ds, 8)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]*shards.Record{}
	for batch, err := range ds.Batches(context.Background(), shards.BatchOptions{BatchSize: 8}) {
		if err != nil {
			t.Fatal(err)
		}
		for i := range batch {
			recs[batch[i].ID] = &batch[i]
		}
	}
	distinct := false
	for i, id := range got.IDs[:4] {
		var sum float64
		var first float64
		for v, vb := range br.Views() {
			b, err := vb.ScoreBatch([]*shards.Record{recs[id]})
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := p.Score(b)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := Floats(s)
			if v == 0 {
				first = f[0]
			} else if math.Abs(f[0]-first) > 1e-6 {
				distinct = true
			}
			sum += f[0] / 3
		}
		if math.Abs(sum-got.Pred[i]) > 1e-5 {
			t.Fatalf("%s: ScoreShards %v, mean of the views %v", id, got.Pred[i], sum)
		}
	}
	if !distinct {
		t.Fatal("the views all scored the same: the test cannot tell them apart")
	}
}

// TestPairViews: with WithPairViews both videos of a training pair get the
// same augmentation, so two records holding the same pixels (a source and
// its re-encode sampled at shared positions) give identical tensors; the
// default draws each video's view on its own.
func TestPairViews(t *testing.T) {
	m, err := model.Build(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	s := 64
	br, err := NewBridge(m, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := m.Cfg.Input
	k, mf := in.Patches+2, in.Frames+2
	rec := func(id string, salt int) *shards.Record {
		pix := make([]byte, k*s*s*3)
		ctx := make([]byte, mf*s*s*3)
		for i := range pix {
			pix[i] = byte(i*7 + i/191 + salt)
		}
		for i := range ctx {
			ctx[i] = byte(i*3 + i/97 + salt)
		}
		return &shards.Record{ID: id, Patches: pix, K: k, Context: ctx, M: mf}
	}
	as := []*shards.Record{rec("a", 0), rec("b", 5)}
	bs := []*shards.Record{rec("a/crf30", 0), rec("b/crf30", 5)}
	bytesOf := func(x *tensors.Tensor) []byte {
		var out []byte
		x.ConstFlatData(func(f any) { out = append(out, f.([]uint8)...) })
		return out
	}
	pair := func(b *Bridge) (pa, pb, fa, fb []byte) {
		batch, err := b.PairBatch(as, bs, []int{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		return bytesOf(batch.Patches), bytesOf(batch.PatchesB), bytesOf(batch.Frames), bytesOf(batch.FramesB)
	}
	pa, pb, fa, fb := pair(br.WithAugment(7).WithPairViews(true))
	if !bytes.Equal(pa, pb) || !bytes.Equal(fa, fb) {
		t.Fatal("pair views: the two videos of a pair got different views of the same pixels")
	}
	if pa2, _, _, _ := pair(br.WithAugment(7).WithPairViews(true)); !bytes.Equal(pa, pa2) {
		t.Fatal("pair views: same seed, different views")
	}
	if pa3, _, _, _ := pair(br.WithAugment(7)); bytes.Equal(pa, pa3) {
		t.Fatal("pair views changed nothing: the first videos' views are the default stream's")
	}
	pa, pb, _, _ = pair(br.WithAugment(7))
	if bytes.Equal(pa, pb) {
		t.Fatal("without pair views the two videos still share one view")
	}
}

// TestDescribeObservableText: with observable text the describe targets are
// the stored description less its file facts, and an image is an image;
// with canonical text, the statements in the fixed form.
func TestDescribeObservableText(t *testing.T) {
	m, br := tinyBridge(t)
	frame := testShardSize * testShardSize * 3
	stored := "The clip is 960x540 at 29.97 fps. The video has vivid colours."
	moving := make([]byte, 4*frame)
	moving[2*frame] = 9 // the third frame differs
	for _, c := range []struct {
		name, mode string
		context    []byte
		want       string
	}{
		{"stored", "stored", moving, stored},
		{"observable video", "observable", moving, "The video has vivid colours."},
		{"observable image", "observable", make([]byte, 4*frame), "The image has vivid colours."},
		{"canonical", "canonical", moving, "The picture has vivid colours."},
	} {
		rec := &shards.Record{ID: "a", M: 4, K: 2, Context: c.context, Patches: make([]byte, 2*frame),
			Description: stored, MOSNorm: math.NaN()}
		b, err := br.WithDescribeText(c.mode).DescribeBatch([]*shards.Record{rec})
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := m.Sequence(model.TaskDescribe, c.want)
		got := b.Tokens.Value().([][]int32)[0]
		for j := range min(len(want), len(got)) {
			if int(got[j]) != want[j] {
				t.Fatalf("%s: token %d is %d, want %d (text %q)", c.name, j, got[j], want[j], c.want)
			}
		}
	}
}

package feed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model"
)

// TestScoreAnswerMatchesDescription: on every training record of a
// synthetic shard set whose descriptions are written as `data shards`
// writes them (describe.Describe of the record's MOSNorm), the score task's
// answer word, the level its soft target weighs most and the level word of
// the description are the same level. The MOS grid (step 0.05) crosses
// every cut point, where two definitions of a level would disagree.
func TestScoreAnswerMatchesDescription(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	const size = 32
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: size, MaxRows: 16})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 81 {
		mos := 1 + 0.05*float64(i)
		f := describe.Facts{MOS: mos, Width: 640, Height: 360, FPS: 30, Signals: describe.Signals{
			Sharpness: 400 * rng.Float64(), Noise: 8 * rng.Float64(), Blockiness: 0.9 + 0.8*rng.Float64(),
			MeanLuma: 255 * rng.Float64(), DarkFrac: rng.Float64(), BrightFrac: 0.5 * rng.Float64(),
			Contrast: 100 * rng.Float64(), Colorfulness: 120 * rng.Float64(), Frames: 8}}
		rec := shards.Record{ID: fmt.Sprintf("v%03d", i), Dataset: "test", Split: "train", SourceID: fmt.Sprintf("s%03d", i),
			MOS: mos, MOSNorm: mos, Context: make([]byte, 4*size*size*3), M: 4, Patches: make([]byte, 2*size*size*3), K: 2,
			PatchPos: []shards.PatchPos{{}, {}}, PixelW: size, PixelH: size, Description: describe.Describe(f, uint64(i)).Text}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBridge(m, size, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for recs, err := range ds.Batches(context.Background(), shards.BatchOptions{BatchSize: 8}) {
		if err != nil {
			t.Fatal(err)
		}
		ptrs := make([]*shards.Record, len(recs))
		for i := range recs {
			ptrs[i] = &recs[i]
		}
		b, err := br.ScoreBatch(ptrs)
		if err != nil {
			t.Fatal(err)
		}
		toks := b.Tokens.Value().([][]int32)
		pos := b.AnswerPos.Value().([]int32)
		target := b.Target.Value().([][]float32)
		for i, r := range recs {
			answer := m.Tok.Decode([]int{int(toks[i][pos[i]+1])})
			said := levelsIn(r.Description)
			if len(said) != 1 || said[0] != answer {
				t.Fatalf("%s (MOS %.2f): score answer %q, description names %v: %q", r.ID, r.MOSNorm, answer, said, r.Description)
			}
			most := slices.Index(target[i], slices.Max(target[i]))
			if levels.Words[most] != answer && target[i][most] != target[i][levels.Index(r.MOSNorm)] {
				t.Fatalf("%s (MOS %.2f): target %v weighs %s most, the answer is %s", r.ID, r.MOSNorm, target[i], levels.Words[most], answer)
			}
			n++
		}
	}
	if n != 81 {
		t.Fatalf("%d records checked, want 81", n)
	}
}

// levelsIn lists the level words a text uses.
func levelsIn(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r < 'a' || r > 'z' }) {
		if slices.Contains(levels.Words[:], w) {
			out = append(out, w)
		}
	}
	return out
}

// TestScoreInputsMatchScoreBatch: the unlabelled score batch gives exactly
// the scores of the training layout (the answer and padding after the
// answer position are invisible to it under causal attention).
func TestScoreInputsMatchScoreBatch(t *testing.T) {
	m, p := feedtest.Model(t, tinyModel(t))
	br, err := NewBridge(m, testShardSize, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	frame := testShardSize * testShardSize * 3
	var recs []*shards.Record
	for i := range 4 {
		r := &shards.Record{ID: fmt.Sprint(i), M: 4, K: 2, Context: make([]byte, 4*frame), Patches: make([]byte, 2*frame), MOSNorm: 1 + float64(i)*1.3}
		for j := range r.Context {
			r.Context[j] = byte(rng.IntN(256))
		}
		for j := range r.Patches {
			r.Patches[j] = byte(rng.IntN(256))
		}
		recs = append(recs, r)
	}
	lb, err := br.ScoreBatch(recs)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := br.ScoreInputs(clipsOf(recs))
	if err != nil {
		t.Fatal(err)
	}
	if ub.Target != nil || !slices.Equal(lb.Tokens.Shape().Dimensions, ub.Tokens.Shape().Dimensions) {
		t.Fatalf("inference batch: target %v, tokens %v vs %v", ub.Target, ub.Tokens.Shape(), lb.Tokens.Shape())
	}
	var got [2][]float64
	for k, b := range []*model.Batch{lb, ub} {
		s, _, err := p.Score(b)
		if err != nil {
			t.Fatal(err)
		}
		if got[k], err = Floats(s); err != nil {
			t.Fatal(err)
		}
	}
	for i := range got[0] {
		if math.Float64bits(got[0][i]) != math.Float64bits(got[1][i]) {
			t.Fatalf("clip %d: %v with the answer, %v without", i, got[0][i], got[1][i])
		}
	}
}

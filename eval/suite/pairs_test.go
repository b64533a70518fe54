package suite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/feed/feedtest"
	"github.com/cpllm/cpllm/model"
)

// writeLadderShards writes n labelled records (brightness encodes MOS) and,
// for those with MOS > 3.5, two CRF-ladder items each, darker as the CRF
// grows (as compression lowers quality), plus pairs.jsonl: the ladder pairs
// and every cross-video pair with |dMOS| > 0.5.
func writeLadderShards(t *testing.T, dir string, n int) {
	t.Helper()
	w, err := shards.NewWriter(dir, shards.WriterOptions{FrameSize: feedtest.FrameSize, MaxRows: 6})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var cands []shards.PairCandidate
	add := func(r shards.Record) {
		r.Dataset, r.Split, r.M, r.K, r.PixelW, r.PixelH = "test", "test", 4, 2, 64, 64
		r.PatchPos = []shards.PatchPos{{}, {}}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, shards.PairCandidate{ID: r.ID, SourceID: r.SourceID, CRF: r.CRF, MOSNorm: r.MOSNorm})
	}
	for i := range n {
		mos := feedtest.MOS((i*7+3)%n, n)
		add(shards.Record{ID: fmt.Sprintf("v%03d", i), SourceID: fmt.Sprintf("s%03d", i), MOS: mos, MOSNorm: mos,
			Context: feedtest.Frames(rng, 4, mos), Patches: feedtest.Frames(rng, 2, mos)})
		if mos <= 3.5 {
			continue
		}
		for l, crf := range []int{30, 45} {
			look := mos - 1.2*float64(l+1) // what the frames look like
			add(shards.Record{ID: fmt.Sprintf("v%03d/crf%d", i, crf), SourceID: fmt.Sprintf("s%03d", i), CRF: &crf,
				MOS: nan(), MOSNorm: nan(), Context: feedtest.Frames(rng, 4, look), Patches: feedtest.Frames(rng, 2, look)})
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := shards.WritePairs(filepath.Join(dir, shards.PairsName), shards.BuildPairs(cands, 0.5, -1, 5)); err != nil {
		t.Fatal(err)
	}
}

func nan() float64 { var z float64; return z / z }

// Pair accuracy on a tiny model and shard fixture: the report's counts are
// those of an independent pair-by-pair computation (each record scored
// alone, each pair's prompt run alone), a model that ranks brightness
// orders the cross-video and ladder pairs by its scores, the pair prompt's
// probabilities do not depend on the answer token the batch carries, and
// --max-pairs samples each kind.
func TestEvalPairs(t *testing.T) {
	ckpt := checkpoint(t)
	dir := filepath.Join(t.TempDir(), "ladder")
	writeLadderShards(t, dir, 12) // 5 sources with a ladder
	sc := loadScorer(t, ckpt)
	out := t.TempDir()
	rep, err := Run(context.Background(), Options{Scorers: []*Scorer{sc}, Datasets: []Dataset{{Name: "lad", Shards: dir}},
		OutDir: out, Resamples: 20, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	pr := rep.Datasets["lad"].Pairs
	if pr == nil || pr.Ladder != 5*3 || pr.Cross == 0 || len(pr.Checkpoints) != 1 || pr.Interval != PairInterval || !(pr.CrossMinDMOS > 0.5) {
		t.Fatalf("pairs report %+v", pr)
	}
	pairs, err := shards.ReadPairs(filepath.Join(dir, shards.PairsName))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := shards.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	br, err := feed.NewBridge(sc.Model, ds.FrameSize(), 0)
	if err != nil {
		t.Fatal(err)
	}
	pred := model.NewPredictor(sc.Model, sc.Backend)
	get := func(id string) *shards.Record {
		r, err := ds.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	score := func(r *shards.Record) float64 {
		p, err := feed.Predict(pred, br, []feed.Clip{feed.ClipOf(r)})
		if err != nil {
			t.Fatal(err)
		}
		return p.Scores[0]
	}
	want := map[string][2]int{} // kind -> answer, score correct
	for _, p := range pairs {
		a, b := get(p.A), get(p.B)
		probs, err := pairProbs(pred, br, []*shards.Record{a}, []*shards.Record{b})
		if err != nil {
			t.Fatal(err)
		}
		other, err := pairProbsLabel(pred, br, a, b, 1)
		if err != nil {
			t.Fatal(err)
		}
		if probs[0] != other {
			t.Fatalf("pair %s/%s: probabilities %v with answer \"first\" in the batch, %v with \"second\"", p.A, p.B, probs[0], other)
		}
		c := want[p.Kind]
		if (probs[0][0] >= probs[0][1]) == (p.Label == 0) {
			c[0]++
		}
		sa, sb := score(a), score(b)
		if (p.Label == 0 && sa > sb) || (p.Label == 1 && sb > sa) {
			c[1]++
		}
		want[p.Kind] = c
	}
	got := pr.Checkpoints[0]
	if got.LadderAnswer.K != want["ladder"][0] || got.LadderScores.K != want["ladder"][1] ||
		got.CrossAnswer.K != want["mos"][0] || got.CrossScores.K != want["mos"][1] || got.CrossScores.N != pr.Cross {
		t.Fatalf("report %+v, pair-by-pair %v", got, want)
	}
	t.Logf("ladder: answer %s, scores %s; cross: answer %s, scores %s", FormatProportion(got.LadderAnswer),
		FormatProportion(got.LadderScores), FormatProportion(got.CrossAnswer), FormatProportion(got.CrossScores))
	if got.CrossScores.Value < 0.9 || got.LadderScores.Value < 0.8 {
		t.Errorf("a model that ranks brightness orders the pairs by score: cross %v, ladder %v", got.CrossScores.Value, got.LadderScores.Value)
	}
	for _, p := range []struct{ lo, v, hi float64 }{{got.CrossScores.CILow, got.CrossScores.Value, got.CrossScores.CIHigh},
		{got.LadderAnswer.CILow, got.LadderAnswer.Value, got.LadderAnswer.CIHigh}} {
		if !(p.lo <= p.v && p.v <= p.hi && p.hi-p.lo > 0.01) {
			t.Errorf("interval [%v, %v] around %v", p.lo, p.hi, p.v)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "Pair accuracy on") || !strings.Contains(string(md), "Wilson") || !strings.Contains(string(md), "| ladder: answer |") {
		t.Fatalf("report.md:\n%s", md)
	}
	small, err := Run(context.Background(), Options{Scorers: []*Scorer{sc}, Datasets: []Dataset{{Name: "lad", Shards: dir}},
		OutDir: t.TempDir(), Resamples: 20, Batch: 4, MaxPairs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sp := small.Datasets["lad"].Pairs; sp.Ladder != 2 || sp.Cross != 2 || sp.Checkpoints[0].CrossScores.N != 2 {
		t.Fatalf("--max-pairs 2: %+v", sp)
	}
}

// pairProbsLabel is pairProbs for one pair whose batch carries label y.
func pairProbsLabel(p *model.Predictor, br *feed.Bridge, a, b *shards.Record, y int) ([2]float64, error) {
	var out [2]float64
	views := br.Views()
	for _, vb := range views {
		batch, err := vb.PairBatch([]*shards.Record{a}, []*shards.Record{b}, []int{y})
		if err != nil {
			return out, err
		}
		t, err := p.Pair(batch)
		if err != nil {
			return out, err
		}
		v, err := feed.Floats(t)
		if err != nil {
			return out, err
		}
		out[0] += v[0] / float64(len(views))
		out[1] += v[1] / float64(len(views))
	}
	return out, nil
}

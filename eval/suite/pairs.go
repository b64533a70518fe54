package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
)

// PairInterval names the interval of every pair accuracy.
const PairInterval = "wilson-95"

// PairsReport is the pair accuracy of a shard dataset's comparison pairs
// (its pairs.jsonl): same-source CRF-ladder pairs (the lower CRF is better)
// and cross-video pairs (the higher MOS is better; the shards were built
// with a minimum MOS difference, the margin).
type PairsReport struct {
	File     string `json:"file"`
	Interval string `json:"interval"` // PairInterval: 95% Wilson score interval, pairs taken as independent
	// Ladder and Cross count the evaluated pairs of each kind (all of the
	// file's, or a seeded sample of MaxPairs each).
	Ladder int `json:"ladder_pairs"`
	Cross  int `json:"cross_pairs"`
	// CrossMinDMOS is the smallest MOS difference of the cross pairs (at
	// least the shards' pair margin).
	CrossMinDMOS float64        `json:"cross_min_dmos"`
	Checkpoints  []PairAccuracy `json:"checkpoints"`
}

// PairAccuracy is one checkpoint's accuracy on each kind of pair, measured
// from the model's pair answer ("first"/"second", the more probable word at
// the pair prompt's answer position, averaged over the eval views) and from
// its scores (score(better) > score(worse); equal scores count as wrong and
// are counted in the ties).
type PairAccuracy struct {
	Checkpoint   string             `json:"checkpoint"`
	LadderAnswer metrics.Proportion `json:"ladder_answer"`
	LadderScores metrics.Proportion `json:"ladder_scores"`
	LadderTies   int                `json:"ladder_score_ties"`
	CrossAnswer  metrics.Proportion `json:"cross_answer"`
	CrossScores  metrics.Proportion `json:"cross_scores"`
	CrossTies    int                `json:"cross_score_ties"`
}

// MarshalJSON writes a NaN margin (no cross pairs) as null.
func (p PairsReport) MarshalJSON() ([]byte, error) { return metrics.MarshalNaNNull(p) }

// evalPairs measures pair accuracy on ds's pairs.jsonl (nil when the
// directory has none). scores[k] holds checkpoint k's score of each labelled
// record already scored; the others (CRF-ladder items) are scored here.
func evalPairs(ctx context.Context, o Options, ds *shards.Dataset, scores []map[string]float64) (*PairsReport, error) {
	path := filepath.Join(ds.Dir(), shards.PairsName)
	pairs, err := shards.ReadPairs(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(pairs) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ladder, cross []shards.Pair
	for _, p := range pairs {
		if p.Kind == shards.KindLadder {
			ladder = append(ladder, p)
		} else {
			cross = append(cross, p)
		}
	}
	ladder, cross = samplePairs(ladder, o.MaxPairs, o.Seed, 1), samplePairs(cross, o.MaxPairs, o.Seed, 2)
	rep := &PairsReport{File: path, Interval: PairInterval, Ladder: len(ladder), Cross: len(cross), CrossMinDMOS: math.NaN()}
	batch := o.Batch
	if batch <= 0 {
		batch = 8
	}
	bridges := make([]*feed.Bridge, len(o.Scorers))
	for k, sc := range o.Scorers {
		if bridges[k], err = feed.NewBridge(sc.Model, ds.FrameSize(), 0); err != nil {
			return nil, err
		}
	}
	if err := scoreMissing(ctx, o.Scorers, bridges, ds, append(slices.Clone(ladder), cross...), scores, batch); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	answers := make([][]int, len(o.Scorers)) // [checkpoint][pair]: 0 first, 1 second
	all := append(slices.Clone(ladder), cross...)
	for start := 0; start < len(all); start += batch {
		chunk := all[start:min(start+batch, len(all))]
		as, bs := make([]*shards.Record, batch), make([]*shards.Record, batch)
		for i := range batch {
			p := chunk[min(i, len(chunk)-1)] // pad by repeating the last pair: one graph shape
			a, err := ds.Get(p.A)
			if err != nil {
				return nil, fmt.Errorf("%s: pair (%s, %s): %w", path, p.A, p.B, err)
			}
			b, err := ds.Get(p.B)
			if err != nil {
				return nil, fmt.Errorf("%s: pair (%s, %s): %w", path, p.A, p.B, err)
			}
			as[i], bs[i] = &a, &b
			if i < len(chunk) && p.Kind == shards.KindMOS {
				rep.CrossMinDMOS = math.Min(nanInf(rep.CrossMinDMOS), math.Abs(a.MOSNorm-b.MOSNorm))
			}
		}
		for k, sc := range o.Scorers {
			probs, err := pairProbs(sc.pred, bridges[k], as, bs)
			if err != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", sc.Name, err)
			}
			for i := range chunk {
				ans := 1
				if probs[i][0] >= probs[i][1] {
					ans = 0
				}
				answers[k] = append(answers[k], ans)
			}
		}
	}
	for k, sc := range o.Scorers {
		pa := PairAccuracy{Checkpoint: sc.Name}
		var err error
		if pa.LadderAnswer, pa.LadderScores, pa.LadderTies, err = accuracy(ladder, answers[k][:len(ladder)], scores[k]); err != nil {
			return nil, err
		}
		if pa.CrossAnswer, pa.CrossScores, pa.CrossTies, err = accuracy(cross, answers[k][len(ladder):], scores[k]); err != nil {
			return nil, err
		}
		rep.Checkpoints = append(rep.Checkpoints, pa)
	}
	return rep, nil
}

func nanInf(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v
}

// samplePairs keeps at most max pairs (all when max <= 0), a uniform sample
// drawn from (seed, stream) in file order.
func samplePairs(p []shards.Pair, max int, seed, stream uint64) []shards.Pair {
	if max <= 0 || len(p) <= max {
		return p
	}
	idx := rand.New(rand.NewPCG(seed^0x70616972, stream)).Perm(len(p))[:max]
	slices.Sort(idx)
	out := make([]shards.Pair, max)
	for i, j := range idx {
		out[i] = p[j]
	}
	return out
}

// accuracy counts correct answers and correctly ordered scores.
func accuracy(pairs []shards.Pair, answers []int, score map[string]float64) (ans, sc metrics.Proportion, ties int, err error) {
	okAns, okScore := 0, 0
	for i, p := range pairs {
		if answers[i] == p.Label {
			okAns++
		}
		better, worse := score[p.A], score[p.B]
		if p.Label == 1 {
			better, worse = worse, better
		}
		switch {
		case better > worse:
			okScore++
		case better == worse:
			ties++
		}
	}
	if ans, err = metrics.Wilson(okAns, len(pairs)); err != nil {
		return
	}
	sc, err = metrics.Wilson(okScore, len(pairs))
	return
}

// pairProbs runs the pair prompt on (as[i], bs[i]) and returns P("first"),
// P("second") averaged over the eval views. The batch carries the answer
// "first" for every pair; the probabilities are read at the position that
// predicts the answer, which (causal attention) does not see it.
func pairProbs(p *model.Predictor, br *feed.Bridge, as, bs []*shards.Record) ([][2]float64, error) {
	out := make([][2]float64, len(as))
	views := br.Views()
	labels := make([]int, len(as))
	for _, vb := range views {
		b, err := vb.PairBatch(as, bs, labels)
		if err != nil {
			return nil, err
		}
		t, err := p.Pair(b)
		if err != nil {
			return nil, err
		}
		v, err := feed.Floats(t)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i][0] += v[2*i] / float64(len(views))
			out[i][1] += v[2*i+1] / float64(len(views))
		}
	}
	return out, nil
}

// scoreMissing scores, with every checkpoint, the records of the pairs that
// have no score yet (unlabelled CRF-ladder items), streaming the shards once.
func scoreMissing(ctx context.Context, scs []*Scorer, bridges []*feed.Bridge, ds *shards.Dataset, pairs []shards.Pair, scores []map[string]float64, batch int) error {
	need := map[string]bool{}
	for _, p := range pairs {
		for _, id := range []string{p.A, p.B} {
			if _, ok := scores[0][id]; !ok {
				need[id] = true
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	var pending []feed.Clip
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		clips := make([]feed.Clip, batch)
		for i := range clips {
			clips[i] = pending[min(i, len(pending)-1)]
		}
		for k, sc := range scs {
			pr, err := feed.Predict(sc.pred, bridges[k], clips)
			if err != nil {
				return fmt.Errorf("checkpoint %s: %w", sc.Name, err)
			}
			for i, c := range pending {
				scores[k][c.ID] = pr.Scores[i]
			}
		}
		pending = pending[:0]
		return nil
	}
	for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: batch}) {
		if err != nil {
			return err
		}
		for i := range recs {
			if need[recs[i].ID] {
				delete(need, recs[i].ID)
				pending = append(pending, feed.ClipOf(&recs[i]))
				if len(pending) == batch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if len(need) > 0 {
		var ids []string
		for id := range need {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return fmt.Errorf("%d ids of the pairs are not in the shards, e.g. %s", len(ids), ids[0])
	}
	return nil
}

// FormatProportion is "0.8125 (13/16) [0.5699, 0.9341]".
func FormatProportion(p metrics.Proportion) string {
	if p.N == 0 {
		return "n/a (no pairs)"
	}
	return fmt.Sprintf("%s (%d/%d) [%s, %s]", f4(p.Value), p.K, p.N, f4(p.CILow), f4(p.CIHigh))
}

func (p *PairsReport) markdown(b *bytes.Buffer) {
	fmt.Fprintf(b, "\nPair accuracy on `%s`: %d same-source CRF-ladder pairs (lower CRF is better), %d cross-video pairs "+
		"(higher MOS is better; smallest |dMOS| %s). From the answer: the model's pair prompt answered \"first\" or \"second\"; "+
		"from scores: score(better) > score(worse), equal scores counted wrong. 95%% Wilson intervals, pairs taken as independent.\n\n",
		p.File, p.Ladder, p.Cross, f4(p.CrossMinDMOS))
	b.WriteString("| checkpoint | ladder: answer | ladder: scores | cross-video: answer | cross-video: scores |\n|---|---|---|---|---|\n")
	for _, c := range p.Checkpoints {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", c.Checkpoint, FormatProportion(c.LadderAnswer), FormatProportion(c.LadderScores),
			FormatProportion(c.CrossAnswer), FormatProportion(c.CrossScores))
	}
}

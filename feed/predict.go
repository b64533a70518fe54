package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

// Prediction is the score of a batch of clips, averaged over the model's
// eval views (input.eval_views).
type Prediction struct {
	Scores []float64    // expected level score in [1, 5], per clip
	Probs  [][5]float64 // level probabilities, ordered as model.LevelWords
	// Canonical is the first (canonical) view's batch: descriptions are
	// generated from it.
	Canonical *model.Batch
	// Collate is the time spent building batches, Forward in the model.
	Collate, Forward time.Duration
}

// Predict scores clips (at br's frame size) with every eval view of br.
func Predict(p *model.Predictor, br *Bridge, clips []Clip) (Prediction, error) {
	views := br.Views()
	n := float64(len(views))
	out := Prediction{Scores: make([]float64, len(clips)), Probs: make([][5]float64, len(clips))}
	for v, vb := range views {
		t0 := time.Now()
		b, err := vb.ScoreInputs(clips)
		if err != nil {
			return out, err
		}
		if v == 0 {
			out.Canonical = b
		}
		t1 := time.Now()
		out.Collate += t1.Sub(t0)
		scores, probs, err := p.Score(b)
		if err != nil {
			return out, err
		}
		s, err := Floats(scores)
		if err != nil {
			return out, err
		}
		pr, err := Floats(probs)
		if err != nil {
			return out, err
		}
		for i := range clips {
			out.Scores[i] += s[i] / n
			for k := range 5 {
				out.Probs[i][k] += pr[5*i+k] / n
			}
		}
		out.Forward += time.Since(t1)
	}
	return out, nil
}

// Scored are a shard directory's predictions, in storage order.
type Scored struct {
	IDs  []string
	Pred []float64
	MOS  []float64 // the records' MOSNorm
}

// ScoreShards scores every record of ds with a score label (Usable) in
// storage order (no shuffling, so deterministic). Batches hold batch
// records; the last is padded by repeating its last record so every call
// has the same shape (one compiled graph).
func ScoreShards(ctx context.Context, p *model.Predictor, ds *shards.Dataset, batch int) (Scored, error) {
	sc, err := newScorer(p, ds, batch)
	if err != nil {
		return Scored{}, err
	}
	for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: batch}) {
		if err != nil {
			return sc.out, err
		}
		for i := range recs {
			if err := sc.add(&recs[i]); err != nil {
				return sc.out, err
			}
		}
	}
	return sc.out, sc.flush()
}

// ScoreIDs scores the records of ds named by ids (those with a score label),
// in the order given: a subset such as a validation holdout, read by id
// instead of by scanning the whole directory.
func ScoreIDs(ctx context.Context, p *model.Predictor, ds *shards.Dataset, ids []string, batch int) (Scored, error) {
	sc, err := newScorer(p, ds, batch)
	if err != nil {
		return Scored{}, err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return sc.out, err
		}
		r, err := ds.Get(id)
		if err != nil {
			return sc.out, err
		}
		if err := sc.add(&r); err != nil {
			return sc.out, err
		}
	}
	return sc.out, sc.flush()
}

// scorer collects usable records into fixed-size batches and scores them.
type scorer struct {
	p       *model.Predictor
	br      *Bridge
	batch   int
	pending []*shards.Record
	out     Scored
}

func newScorer(p *model.Predictor, ds *shards.Dataset, batch int) (*scorer, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("feed: batch size %d", batch)
	}
	if err := CheckShardStats(p.M.Cfg, ds); err != nil {
		return nil, err
	}
	br, err := NewBridge(p.M, ds.FrameSize(), 0)
	if err != nil {
		return nil, err
	}
	return &scorer{p: p, br: br, batch: batch}, nil
}

// add queues r (skipped without a score label), scoring a full batch.
func (s *scorer) add(r *shards.Record) error {
	if !Usable(r) {
		return nil
	}
	s.pending = append(s.pending, r)
	if len(s.pending) == s.batch {
		return s.flush()
	}
	return nil
}

func (s *scorer) flush() error {
	n := len(s.pending)
	if n == 0 {
		return nil
	}
	clips := make([]Clip, s.batch)
	for i := range clips {
		clips[i] = ClipOf(s.pending[min(i, n-1)])
	}
	pr, err := Predict(s.p, s.br, clips)
	if err != nil {
		return err
	}
	for i, r := range s.pending {
		s.out.IDs = append(s.out.IDs, r.ID)
		s.out.Pred = append(s.out.Pred, pr.Scores[i])
		s.out.MOS = append(s.out.MOS, r.MOSNorm)
	}
	s.pending = s.pending[:0]
	return nil
}

// Floats flattens a float32 or float64 tensor of any rank.
func Floats(t *tensors.Tensor) ([]float64, error) {
	var out []float64
	var err error
	t.ConstFlatData(func(f any) {
		switch v := f.(type) {
		case []float32:
			for _, x := range v {
				out = append(out, float64(x))
			}
		case []float64:
			out = append(out, v...)
		default:
			err = fmt.Errorf("feed: model output of type %T", v)
		}
	})
	return out, err
}

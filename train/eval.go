package train

import (
	"context"
	"fmt"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/model"
)

// EvalResult is a validation pass: SRCC and PLCC of the predicted scores
// against MOSNorm over the N scored records.
type EvalResult struct {
	SRCC float64 `json:"srcc"`
	PLCC float64 `json:"plcc"`
	N    int     `json:"n"`
}

// Predictions scores every usable record of ds in storage order (no
// shuffling, so deterministic) and returns the predictions, MOSNorm and ids.
// The last batch is padded by repeating its last record so every call has
// the same shape (one compiled graph).
func Predictions(ctx context.Context, p *model.Predictor, br *Bridge, ds *shards.Dataset, batch int) (pred, mos []float64, ids []string, err error) {
	var pending []*shards.Record
	views := br.Views()
	flush := func() error {
		n := len(pending)
		if n == 0 {
			return nil
		}
		for len(pending) < batch {
			pending = append(pending, pending[n-1])
		}
		vals := make([]float64, batch)
		for _, vb := range views {
			b, err := vb.ScoreBatch(pending)
			if err != nil {
				return err
			}
			scores, _, err := p.Score(b)
			if err != nil {
				return err
			}
			v, err := Floats(scores)
			if err != nil {
				return err
			}
			for i := range vals {
				vals[i] += v[i] / float64(len(views))
			}
		}
		for i := range n {
			pred = append(pred, vals[i])
			mos = append(mos, pending[i].MOSNorm)
			ids = append(ids, pending[i].ID)
		}
		pending = pending[:0]
		return nil
	}
	for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: batch}) {
		if err != nil {
			return nil, nil, nil, err
		}
		for i := range recs {
			if !Usable(&recs[i]) {
				continue
			}
			pending = append(pending, &recs[i])
			if len(pending) == batch {
				if err := flush(); err != nil {
					return nil, nil, nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, nil, nil, err
	}
	return pred, mos, ids, nil
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
			err = fmt.Errorf("train: model output of type %T", v)
		}
	})
	return out, err
}

// Evaluate computes SRCC and PLCC on ds.
func Evaluate(ctx context.Context, p *model.Predictor, br *Bridge, ds *shards.Dataset, batch int) (EvalResult, error) {
	pred, mos, _, err := Predictions(ctx, p, br, ds, batch)
	if err != nil {
		return EvalResult{}, err
	}
	srcc, err := metrics.SRCC(pred, mos)
	if err != nil {
		return EvalResult{N: len(pred)}, fmt.Errorf("train: validation SRCC on %s: %w", ds.Dir(), err)
	}
	plcc, err := metrics.PLCC(pred, mos)
	if err != nil {
		return EvalResult{N: len(pred)}, fmt.Errorf("train: validation PLCC on %s: %w", ds.Dir(), err)
	}
	return EvalResult{SRCC: srcc, PLCC: plcc, N: len(pred)}, nil
}

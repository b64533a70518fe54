package train

import (
	"context"
	"fmt"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/internal/corr"
	"github.com/cpllm/cpllm/model"
)

// EvalResult is a validation pass: SRCC and PLCC of the predicted scores
// against MOSNorm over the N scored records.
type EvalResult struct {
	SRCC float64 `json:"srcc"`
	PLCC float64 `json:"plcc"`
	N    int     `json:"n"`
	// Sources are the per-source figures of a holdout validation; SRCC and
	// PLCC are then their means (each dataset counts once, whatever its size).
	Sources map[string]EvalResult `json:"sources,omitempty"`
}

// Evaluate computes SRCC and PLCC on ds (feed.ScoreShards).
func Evaluate(ctx context.Context, p *model.Predictor, ds *shards.Dataset, batch int) (EvalResult, error) {
	s, err := feed.ScoreShards(ctx, p, ds, batch)
	if err != nil {
		return EvalResult{}, err
	}
	return correlate(s, ds.Dir())
}

func correlate(s feed.Scored, where string) (EvalResult, error) {
	srcc, err := corr.SRCC(s.Pred, s.MOS)
	if err != nil {
		return EvalResult{N: len(s.Pred)}, fmt.Errorf("train: validation SRCC on %s: %w", where, err)
	}
	plcc, err := corr.PLCC(s.Pred, s.MOS)
	if err != nil {
		return EvalResult{N: len(s.Pred)}, fmt.Errorf("train: validation PLCC on %s: %w", where, err)
	}
	return EvalResult{SRCC: srcc, PLCC: plcc, N: len(s.Pred)}, nil
}

// evaluateHoldout scores each score source's held-out records; the result's
// SRCC and PLCC are the means over sources.
func evaluateHoldout(ctx context.Context, p *model.Predictor, pl *pool, batch int) (EvalResult, error) {
	out := EvalResult{Sources: map[string]EvalResult{}}
	for i, ids := range pl.valIDs {
		if len(ids) == 0 {
			continue
		}
		s, err := feed.ScoreIDs(ctx, p, pl.ds[i], ids, batch)
		if err != nil {
			return out, err
		}
		ev, err := correlate(s, pl.srcs[i].Name+" holdout")
		if err != nil {
			return out, err
		}
		out.Sources[pl.srcs[i].Name] = ev
		out.SRCC += ev.SRCC
		out.PLCC += ev.PLCC
		out.N += ev.N
	}
	out.SRCC /= float64(len(out.Sources))
	out.PLCC /= float64(len(out.Sources))
	return out, nil
}

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
}

// Evaluate computes SRCC and PLCC on ds (feed.ScoreShards).
func Evaluate(ctx context.Context, p *model.Predictor, ds *shards.Dataset, batch int) (EvalResult, error) {
	s, err := feed.ScoreShards(ctx, p, ds, batch)
	if err != nil {
		return EvalResult{}, err
	}
	srcc, err := corr.SRCC(s.Pred, s.MOS)
	if err != nil {
		return EvalResult{N: len(s.Pred)}, fmt.Errorf("train: validation SRCC on %s: %w", ds.Dir(), err)
	}
	plcc, err := corr.PLCC(s.Pred, s.MOS)
	if err != nil {
		return EvalResult{N: len(s.Pred)}, fmt.Errorf("train: validation PLCC on %s: %w", ds.Dir(), err)
	}
	return EvalResult{SRCC: srcc, PLCC: plcc, N: len(s.Pred)}, nil
}

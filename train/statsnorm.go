package train

import (
	"context"
	"fmt"
	"iter"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
)

// fitStatsNorm sets the model's statistics standardisation (model config
// stats) from every training record of the pool: held-out records never
// contribute. A resumed run or an --init checkpoint then loads its own.
func (r *runner) fitStatsNorm(ctx context.Context) error {
	if r.m.Cfg.Stats == "" {
		return nil
	}
	batches := func(yield func([]feed.Clip, error) bool) {
		for i, ds := range r.pool.ds {
			for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: 16}) {
				if err != nil {
					yield(nil, fmt.Errorf("train: stats norm over %s: %w", ds.Dir(), err))
					return
				}
				var clips []feed.Clip
				for j := range recs {
					if !r.pool.heldOut[i][recs[j].ID] {
						clips = append(clips, feed.ClipOf(&recs[j]))
					}
				}
				if !yield(clips, nil) {
					return
				}
			}
		}
	}
	mean, std, err := r.bridge.StatsNorm(iter.Seq2[[]feed.Clip, error](batches))
	if err != nil {
		return err
	}
	fmt.Fprintf(r.opts.Log, "stats %s: standardised over the training records\n", r.m.Cfg.Stats)
	return r.m.SetStatsNorm(mean, std)
}

package suite

import (
	"context"
	"iter"
	"time"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/feed"
)

// sampled is one record's views (or why it has none).
type sampled struct {
	r    datasets.Record
	clip feed.Clip
	err  error
	secs float64
}

// prefetch samples recs, once for all scorers (sampleShared), with up to
// jobs decodes running ahead of the consumer and yields them in input order. Decoding dominates the time of a
// small model, so overlapping it with scoring keeps both cores busy; at most
// jobs views are held at once.
func prefetch(ctx context.Context, recs []datasets.Record, scs []*Scorer, jobs int) iter.Seq[sampled] {
	if jobs <= 0 {
		jobs = 2
	}
	return func(yield func(sampled) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		out := make([]chan sampled, len(recs))
		for i := range out {
			out[i] = make(chan sampled, 1) // never blocks the sampler
		}
		slots := make(chan struct{}, jobs)
		go func() {
			for i, r := range recs {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				go func() {
					t0 := time.Now()
					clip, err := sampleShared(scs, r.Path, r.ID)
					out[i] <- sampled{r: r, clip: clip, err: err, secs: time.Since(t0).Seconds()}
				}()
			}
		}()
		for i := range recs {
			var s sampled
			select {
			case s = <-out[i]:
			case <-ctx.Done():
				return
			}
			<-slots
			if !yield(s) {
				return
			}
		}
	}
}

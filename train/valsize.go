package train

import (
	"fmt"
	"math"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/corr"
)

// checkValSize fails a run whose validation set cannot give SRCC and PLCC
// (they need corr.MinSamples scored records) before its first step,
// instead of at its first evaluation. Scored records are those Evaluate
// scores: a finite MOSNorm (feed.Usable); only the labels column is read.
func checkValSize(val *shards.Dataset) error {
	cands, err := val.PairCandidates()
	if err != nil {
		return fmt.Errorf("train: validation set: %w", err)
	}
	n := 0
	for _, c := range cands {
		if !math.IsNaN(c.MOSNorm) && !math.IsInf(c.MOSNorm, 0) {
			n++
		}
	}
	if n < corr.MinSamples {
		return fmt.Errorf("train: validation shards %s hold %d scored records (%d rows; rows without a MOS are not scored); validation SRCC and PLCC need at least %d",
			val.Dir(), n, len(cands), corr.MinSamples)
	}
	return nil
}

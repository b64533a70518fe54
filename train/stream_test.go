package train

import (
	"context"
	"testing"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
)

// A stream restored at a saved position yields what the original would have.
func TestStreamRestoreExact(t *testing.T) {
	ds, _ := openShards(t, 9)
	ctx := context.Background()
	keep := func(r *shards.Record) bool { return feed.Usable(r) }
	a := newRecordStream(ds, 5, 0, keep, "score", StreamPos{}, (*feed.Bridge).ScoreBatch)
	for range 37 {
		a.Next(ctx, 4)
	}
	pos := a.pos
	b := newRecordStream(ds, 5, 0, keep, "score", pos, (*feed.Bridge).ScoreBatch)
	for i := range 20 {
		x, _ := a.Next(ctx, 4)
		y, _ := b.Next(ctx, 4)
		for j := range x {
			if x[j].ID != y[j].ID {
				t.Fatalf("batch %d item %d: %s vs %s (pos %+v)", i, j, x[j].ID, y[j].ID, pos)
			}
		}
	}
}

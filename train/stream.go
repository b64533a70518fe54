package train

import (
	"context"
	"fmt"
	"iter"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
)

// StreamPos is a stream's position: the epoch and how many items of that
// epoch's deterministic order were consumed. It is all a resume needs.
type StreamPos struct {
	Epoch    int `json:"epoch"`
	Consumed int `json:"consumed"`
	// Sub are the positions of a mixture's source streams (several data
	// sources); Consumed is then the number of batches drawn.
	Sub []StreamPos `json:"sub,omitempty"`
}

// recordStream yields records passing keep, shuffled per (seed, epoch) by
// shards.Batches, rolling over epochs; build collates them (the score and
// describe tasks).
type recordStream struct {
	ds     *shards.Dataset
	seed   uint64
	window int
	keep   func(*shards.Record) bool
	what   string
	build  func(*feed.Bridge, []*shards.Record) (*model.Batch, error)
	pos    StreamPos
	next   func() ([]shards.Record, error, bool)
	stop   func()
	buf    []shards.Record
	kept   int // items kept in the current epoch (detects an empty stream)
}

func newRecordStream(ds *shards.Dataset, seed uint64, window int, keep func(*shards.Record) bool, what string, pos StreamPos,
	build func(*feed.Bridge, []*shards.Record) (*model.Batch, error)) *recordStream {
	return &recordStream{ds: ds, seed: seed, window: window, keep: keep, what: what, pos: pos, build: build}
}

// open starts the epoch and skips the items already consumed in it.
func (s *recordStream) open(ctx context.Context) error {
	skip := s.pos.Consumed
	s.pos.Consumed = 0
	seq := s.ds.Batches(ctx, shards.BatchOptions{BatchSize: 16, Shuffle: true,
		Seed: s.seed, Epoch: s.pos.Epoch, Window: s.window})
	s.next, s.stop = iter.Pull2(seq)
	s.buf, s.kept = nil, 0
	for range skip {
		if _, err := s.take(ctx); err != nil {
			return err
		}
	}
	return nil
}

// take returns the next raw record of the epoch order (rolling over).
func (s *recordStream) take(ctx context.Context) (shards.Record, error) {
	for len(s.buf) == 0 {
		if s.next == nil {
			if err := s.open(ctx); err != nil {
				return shards.Record{}, err
			}
			continue // skipping consumed items may have left some in buf
		}
		recs, err, ok := s.next()
		if err != nil {
			return shards.Record{}, err
		}
		if !ok {
			if s.kept == 0 {
				return shards.Record{}, fmt.Errorf("train: %s has no record usable for the %s task", s.ds.Dir(), s.what)
			}
			s.Close()
			s.pos = StreamPos{Epoch: s.pos.Epoch + 1}
			continue
		}
		s.buf = recs
	}
	r := s.buf[0]
	s.buf = s.buf[1:]
	s.pos.Consumed++
	if s.keep(&r) {
		s.kept++
	}
	return r, nil
}

// Next returns n usable records.
func (s *recordStream) Next(ctx context.Context, n int) ([]*shards.Record, error) {
	out := make([]*shards.Record, 0, n)
	for len(out) < n {
		r, err := s.take(ctx)
		if err != nil {
			return nil, err
		}
		if s.keep(&r) {
			out = append(out, &r)
		}
	}
	return out, nil
}

// Batch implements taskStream.
func (s *recordStream) Batch(ctx context.Context, br *feed.Bridge, n int) (*model.Batch, error) {
	recs, err := s.Next(ctx, n)
	if err != nil {
		return nil, err
	}
	return s.build(br, recs)
}

// Pos implements taskStream.
func (s *recordStream) Pos() StreamPos { return s.pos }

// Close implements taskStream.
func (s *recordStream) Close() {
	if s.stop != nil {
		s.stop()
	}
	s.next, s.stop = nil, nil
}

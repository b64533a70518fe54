package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
)

// pairStream yields pairs from pairs.jsonl in a per-epoch seeded permutation.
// A reader goroutine fetches the records of the coming pairs ahead of the
// trainer, in the same order: a random Get decodes a whole Arrow record batch
// (4 records, ~30 ms here), which made a pair step mostly waiting on Gets.
// Prefetching changes when records are read, never which ones.
type pairStream struct {
	ds    *shards.Dataset
	pairs []shards.Pair
	seed  uint64
	pos   StreamPos // the trainer's position (what checkpoints record)
	ahead int       // pairs fetched ahead of the trainer

	ch   chan fetchedPair
	done chan struct{}
	wg   sync.WaitGroup
}

type fetchedPair struct {
	a, b  shards.Record
	label int
	err   error
}

// newPairStream reads dir/pairs.jsonl (an error when missing or empty),
// leaving out the pairs that touch a held-out record and, when kinds is not
// empty, the pairs of other kinds (ladder-adjacent: the ladder pairs of
// neighbouring rungs, after the held-out records are gone).
func newPairStream(ds *shards.Dataset, seed uint64, pos StreamPos, ahead int, held map[string]bool, kinds []string) (*pairStream, error) {
	path := filepath.Join(ds.Dir(), "pairs.jsonl")
	all, err := shards.ReadPairs(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(all) == 0) {
		return nil, fmt.Errorf("train: the pair task needs comparison pairs in %s", path)
	}
	if err != nil {
		return nil, err
	}
	var pairs, ladder []shards.Pair
	for _, p := range all {
		if held[p.A] || held[p.B] {
			continue
		}
		if len(kinds) == 0 || slices.Contains(kinds, p.Kind) {
			pairs = append(pairs, p)
		} else if p.Kind == shards.KindLadder && slices.Contains(kinds, PairLadderAdjacent) {
			ladder = append(ladder, p)
		}
	}
	pairs = append(pairs, shards.AdjacentLadder(ladder)...)
	if len(pairs) == 0 && len(kinds) > 0 {
		return nil, fmt.Errorf("train: no pair of kind %v in %s is left for training", kinds, path)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("train: every pair in %s touches a held-out (validation) record", path)
	}
	return &pairStream{ds: ds, pairs: pairs, seed: seed, pos: pos, ahead: max(ahead, 1)}, nil
}

// nextPos is the position after the pair at pos (a new epoch after the last).
func nextPos(pos StreamPos, n int) StreamPos {
	if pos.Consumed >= n {
		pos = StreamPos{Epoch: pos.Epoch + 1}
	}
	pos.Consumed++
	return pos
}

// advance returns the pair index at pos and the position after it; order is
// the permutation of pos's epoch (nil: compute it).
func (s *pairStream) advance(pos StreamPos, order []int) (int, StreamPos, []int) {
	next := nextPos(pos, len(s.pairs))
	if order == nil || next.Epoch != pos.Epoch {
		r := rand.New(rand.NewPCG(s.seed^0x5041495253, uint64(next.Epoch)))
		order = r.Perm(len(s.pairs))
	}
	return order[next.Consumed-1], next, order
}

// start launches the reader at the trainer's position.
func (s *pairStream) start() {
	s.ch = make(chan fetchedPair, s.ahead)
	s.done = make(chan struct{})
	s.wg.Add(1)
	go func(pos StreamPos) {
		defer s.wg.Done()
		defer close(s.ch)
		var order []int
		for {
			var i int
			i, pos, order = s.advance(pos, order)
			p := s.pairs[i]
			f := fetchedPair{label: p.Label}
			f.a, f.err = s.ds.Get(p.A)
			if f.err == nil {
				f.b, f.err = s.ds.Get(p.B)
			}
			select {
			case s.ch <- f:
			case <-s.done:
				return
			}
			if f.err != nil {
				return
			}
		}
	}(s.pos)
}

// Next returns n pairs of records with their labels.
func (s *pairStream) Next(n int) (as, bs []*shards.Record, labels []int, err error) {
	if s.ch == nil {
		s.start()
	}
	for range n {
		f, ok := <-s.ch
		if !ok {
			return nil, nil, nil, errors.New("train: pair reader stopped")
		}
		if f.err != nil {
			return nil, nil, nil, f.err
		}
		s.pos = nextPos(s.pos, len(s.pairs)) // the reader already chose which pair
		as, bs, labels = append(as, &f.a), append(bs, &f.b), append(labels, f.label)
	}
	return as, bs, labels, nil
}

// Batch implements taskStream.
func (s *pairStream) Batch(_ context.Context, br *feed.Bridge, n int) (*model.Batch, error) {
	as, bs, labels, err := s.Next(n)
	if err != nil {
		return nil, err
	}
	return br.PairBatch(as, bs, labels)
}

// Pos implements taskStream.
func (s *pairStream) Pos() StreamPos { return s.pos }

// Close stops the reader and waits for it.
func (s *pairStream) Close() {
	if s.done != nil {
		close(s.done)
		s.wg.Wait()
	}
	s.ch, s.done = nil, nil
}

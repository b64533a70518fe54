package shards

import (
	"context"
	"fmt"
	"iter"
)

// BatchOptions control Dataset.Batches. Zero values take the defaults.
//
// Shuffling is deterministic in (Seed, Epoch): the shard order is permuted,
// then within each shard the record-batch order and the rows of each batch,
// and the resulting stream passes through a shuffle buffer of Window rows
// (emit a random buffered row once the buffer is full). Rows from shards far
// apart in the permuted order never mix, so a Window near the shard size
// gives a near-uniform shuffle at the cost of Window rows of memory.
type BatchOptions struct {
	BatchSize int    // records per batch; default 8
	Shuffle   bool   // false: storage order
	Seed      uint64 // shuffle seed
	Epoch     int    // a different epoch gives a different order
	Window    int    // shuffle buffer, in rows; default 64
	Prefetch  int    // batches decoded ahead in a goroutine; default 2
	DropLast  bool   // drop a final batch smaller than BatchSize
}

type batchMsg struct {
	recs []Record
	err  error
}

// Batches streams the dataset as batches of records, decoded ahead by a
// producer goroutine into a bounded channel. Iteration stops at the first
// error (yielded once) or when ctx is cancelled (yielding ctx.Err()); breaking
// out of the loop stops the producer.
func (d *Dataset) Batches(ctx context.Context, opts BatchOptions) iter.Seq2[[]Record, error] {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 8
	}
	if opts.Window <= 0 {
		opts.Window = 64
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2
	}
	return func(yield func([]Record, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan batchMsg, opts.Prefetch)
		go func() {
			defer close(ch)
			d.produce(ctx, opts, ch)
		}()
		defer func() {
			cancel()
			for range ch { // let the producer see the cancel and exit
			}
		}()
		for {
			select {
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				if ctx.Err() != nil { // select picks at random when both are ready
					yield(nil, ctx.Err())
					return
				}
				if !yield(m.recs, m.err) || m.err != nil {
					return
				}
			}
		}
	}
}

// produce sends batches until the data, an error or ctx ends.
func (d *Dataset) produce(ctx context.Context, opts BatchOptions, ch chan<- batchMsg) {
	send := func(m batchMsg) bool {
		select {
		case ch <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var r *rng
	order := identity
	if opts.Shuffle {
		r = newRNG(opts.Seed, uint64(opts.Epoch))
		order = r.perm
	}
	var window []Record
	batch := make([]Record, 0, opts.BatchSize)
	emit := func(rec Record) bool {
		batch = append(batch, rec)
		if len(batch) < opts.BatchSize {
			return true
		}
		ok := send(batchMsg{recs: batch})
		batch = make([]Record, 0, opts.BatchSize)
		return ok
	}
	push := func(rec Record) bool {
		if r == nil {
			return emit(rec)
		}
		window = append(window, rec)
		if len(window) < opts.Window {
			return true
		}
		return emit(popRandom(&window, r))
	}
	for _, s := range order(len(d.man.Shards)) {
		if err := d.produceShard(ctx, s, order, push); err != nil {
			if ctx.Err() == nil {
				send(batchMsg{err: fmt.Errorf("shards: %w", err)})
			}
			return
		}
	}
	for len(window) > 0 {
		if !emit(popRandom(&window, r)) {
			return
		}
	}
	if len(batch) > 0 && !opts.DropLast {
		send(batchMsg{recs: batch})
	}
}

// produceShard pushes shard s's rows in the given batch/row order.
func (d *Dataset) produceShard(ctx context.Context, s int, order func(int) []int, push func(Record) bool) error {
	sf, err := d.openShard(s)
	if err != nil {
		return err
	}
	defer sf.close()
	rows := 0
	for _, b := range order(sf.numBatches()) {
		rec, err := sf.batch(b)
		if err != nil {
			return err
		}
		c := columns(rec)
		n := int(rec.NumRows())
		rows += n
		for _, i := range order(n) {
			if !push(c.record(i)) {
				rec.Release()
				return ctx.Err()
			}
		}
		rec.Release()
	}
	if want := d.man.Shards[s].Rows; rows != want {
		return fmt.Errorf("shard %s: %d rows, manifest says %d", d.man.Shards[s].Name, rows, want)
	}
	return nil
}

// popRandom removes and returns a random element (swap with the last).
func popRandom(w *[]Record, r *rng) Record {
	s := *w
	j := r.intn(len(s))
	rec := s[j]
	last := len(s) - 1
	s[j] = s[last]
	s[last] = Record{}
	*w = s[:last]
	return rec
}

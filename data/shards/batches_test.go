package shards

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"
)

func order(t *testing.T, ds *Dataset, o BatchOptions) []string {
	t.Helper()
	var ids []string
	for b, err := range ds.Batches(t.Context(), o) {
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > o.BatchSize {
			t.Fatalf("batch of %d > %d", len(b), o.BatchSize)
		}
		for _, r := range b {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func TestShuffleDeterministic(t *testing.T) {
	const n = 57
	dir := t.TempDir()
	writeN(t, dir, n, WriterOptions{FrameSize: testS, MaxRows: 8, BatchRows: 3, Compression: "lz4"})
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := BatchOptions{BatchSize: 4, Shuffle: true, Seed: 42, Epoch: 1, Window: 10}
	a, b := order(t, ds, o), order(t, ds, o)
	if !slices.Equal(a, b) {
		t.Fatal("same seed and epoch gave different orders")
	}
	o.Epoch = 2
	c := order(t, ds, o)
	o.Epoch, o.Seed = 1, 43
	d := order(t, ds, o)
	if slices.Equal(a, c) || slices.Equal(a, d) {
		t.Fatal("another epoch or seed gave the same order")
	}
	plain := order(t, ds, BatchOptions{BatchSize: 4})
	if slices.Equal(a, plain) {
		t.Fatal("shuffled order equals storage order")
	}
	for _, ids := range [][]string{a, c, d, plain} {
		got := slices.Sorted(slices.Values(ids))
		if len(got) != n || len(slices.Compact(got)) != n {
			t.Fatalf("epoch holds %d ids, %d distinct, want %d", len(ids), len(slices.Compact(got)), n)
		}
	}
	if got := order(t, ds, BatchOptions{BatchSize: 4, DropLast: true}); len(got) != n/4*4 {
		t.Fatalf("DropLast kept %d", len(got))
	}
}

func TestBatchesCancel(t *testing.T) {
	dir := t.TempDir()
	writeN(t, dir, 40, WriterOptions{FrameSize: testS, MaxRows: 10})
	ds, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	batches, gotErr := 0, error(nil)
	for b, err := range ds.Batches(ctx, BatchOptions{BatchSize: 2, Prefetch: 3}) {
		if err != nil {
			gotErr = err
			break
		}
		batches++
		if len(b) != 2 {
			t.Fatalf("batch of %d", len(b))
		}
		if batches == 2 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) || batches != 2 {
		t.Fatalf("after cancel: %d batches, err %v", batches, gotErr)
	}
	for range ds.Batches(t.Context(), BatchOptions{BatchSize: 2}) {
		break // an early break must stop the producer too
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("producer goroutines leaked: %d > %d", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

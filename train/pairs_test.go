package train

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cpllm/cpllm/data/shards"
)

// The prefetching pair stream yields the pairs of the per-epoch seeded
// permutation in order (a reference computed here from pairs.jsonl), across
// epoch ends, from a restored position too, and close stops its reader.
func TestPairStreamOrder(t *testing.T) {
	ds, dir := openShards(t, 9)
	pairs, err := shards.ReadPairs(filepath.Join(dir, "pairs.jsonl"))
	if err != nil || len(pairs) < 3 {
		t.Fatalf("pairs: %d, %v", len(pairs), err)
	}
	const seed = 11
	var want []shards.Pair // 3 epochs in order
	for e := range 3 {
		for _, i := range rand.New(rand.NewPCG(seed^0x5041495253, uint64(e))).Perm(len(pairs)) {
			want = append(want, pairs[i])
		}
	}
	goroutines := runtime.NumGoroutine()
	check := func(s *pairStream, from, batches, n int) {
		t.Helper()
		k := from
		for range batches {
			as, bs, labels, err := s.Next(n)
			if err != nil {
				t.Fatal(err)
			}
			for j := range as {
				w := want[k]
				if as[j].ID != w.A || bs[j].ID != w.B || labels[j] != w.Label {
					t.Fatalf("item %d: got %s/%s/%d, want %s/%s/%d", k, as[j].ID, bs[j].ID, labels[j], w.A, w.B, w.Label)
				}
				k++
			}
		}
		if got := s.pos.Epoch*len(pairs) + s.pos.Consumed; got != k {
			t.Fatalf("position %+v is item %d, want %d", s.pos, got, k)
		}
	}
	a, err := newPairStream(ds, seed, StreamPos{}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(pairs)/2 + 1 // batches straddle the epoch end
	check(a, 0, 3, n)
	pos := a.pos
	a.Close()
	b, err := newPairStream(ds, seed, pos, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(b, 3*n, 2, n)
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutines {
		t.Fatalf("%d goroutines after close, %d before", g, goroutines)
	}
}

// A record the reader cannot fetch fails the Next that reaches it.
func TestPairStreamFetchError(t *testing.T) {
	ds, dir := openShards(t, 6)
	pairs, err := shards.ReadPairs(filepath.Join(dir, "pairs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range pairs {
		pairs[i].B = "missing"
	}
	if err := shards.WritePairs(filepath.Join(dir, "pairs.jsonl"), pairs); err != nil {
		t.Fatal(err)
	}
	s, err := newPairStream(ds, 3, StreamPos{}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, _, err := s.Next(2); !errors.Is(err, shards.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

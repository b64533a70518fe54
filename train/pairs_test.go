package train

import (
	"errors"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
	a, err := newPairStream(ds, seed, StreamPos{}, 4, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(pairs)/2 + 1 // batches straddle the epoch end
	check(a, 0, 3, n)
	pos := a.pos
	a.Close()
	b, err := newPairStream(ds, seed, pos, 4, nil, nil)
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
	s, err := newPairStream(ds, 3, StreamPos{}, 4, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, _, err := s.Next(2); !errors.Is(err, shards.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

// pair_kinds keeps only the pairs of those kinds: over one epoch the stream
// yields every kept pair once and none of another kind; a filter that keeps
// nothing is an error naming the file.
func TestPairStreamKinds(t *testing.T) {
	ds, dir := openShards(t, 9)
	path := filepath.Join(dir, "pairs.jsonl")
	pairs, err := shards.ReadPairs(path)
	if err != nil || len(pairs) < 4 {
		t.Fatalf("pairs: %d, %v", len(pairs), err)
	}
	want := map[shards.Pair]int{}
	for i := range pairs {
		pairs[i].Kind = shards.KindMOS
		if i%2 == 0 {
			pairs[i].Kind = shards.KindLadder
			want[pairs[i]]++
		}
	}
	if err := shards.WritePairs(path, pairs); err != nil {
		t.Fatal(err)
	}
	s, err := newPairStream(ds, 5, StreamPos{}, 4, nil, []string{shards.KindLadder})
	if err != nil {
		t.Fatal(err)
	}
	as, bs, labels, err := s.Next(len(want))
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := map[shards.Pair]int{}
	for i := range as {
		got[shards.Pair{A: as[i].ID, B: bs[i].ID, Label: labels[i], Kind: shards.KindLadder}]++
	}
	if len(got) != len(want) {
		t.Fatalf("one epoch gave %d distinct pairs, want the %d ladder pairs", len(got), len(want))
	}
	for p, n := range got {
		if want[p] != n {
			t.Fatalf("pair %+v: %d times, want %d (not a ladder pair, or repeated)", p, n, want[p])
		}
	}
	for i := range pairs {
		pairs[i].Kind = shards.KindLadder
	}
	if err := shards.WritePairs(path, pairs); err != nil {
		t.Fatal(err)
	}
	if _, err := newPairStream(ds, 5, StreamPos{}, 4, nil, []string{shards.KindMOS}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a filter that keeps no pair: %v", err)
	}
}

// pair_kinds [ladder-adjacent]: one epoch yields the ladder pairs of
// neighbouring rungs once each (here two ladders over the fixture's records,
// ranked by position), none of the others, and none touching a held-out
// record; a held-out rung's neighbours become adjacent.
func TestPairStreamLadderAdjacent(t *testing.T) {
	ds, dir := openShards(t, 9)
	path := filepath.Join(dir, "pairs.jsonl")
	fixture, err := shards.ReadPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range fixture {
		ids[p.A], ids[p.B] = true, true
	}
	recs := slices.Sorted(maps.Keys(ids))
	if len(recs) < 7 {
		t.Fatalf("fixture pairs touch %d records, want >= 7", len(recs))
	}
	ladders := [][]string{recs[:4], recs[4:7]} // best first
	var pairs []shards.Pair
	for _, l := range ladders {
		for i := range l {
			for j := i + 1; j < len(l); j++ {
				pairs = append(pairs, shards.Pair{A: l[j], B: l[i], Label: 1, Kind: shards.KindLadder})
			}
		}
	}
	pairs = append(pairs, shards.Pair{A: recs[0], B: recs[6], Label: 0, Kind: shards.KindMOS})
	if err := shards.WritePairs(path, pairs); err != nil {
		t.Fatal(err)
	}
	epoch := func(held map[string]bool, n int) map[[2]string]int {
		t.Helper()
		s, err := newPairStream(ds, 3, StreamPos{}, 4, held, []string{PairLadderAdjacent})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		as, bs, labels, err := s.Next(n)
		if err != nil {
			t.Fatal(err)
		}
		got := map[[2]string]int{}
		for i := range as {
			better, worse := as[i].ID, bs[i].ID
			if labels[i] == 1 {
				better, worse = worse, better
			}
			got[[2]string{better, worse}]++
		}
		return got
	}
	want := map[[2]string]int{{recs[0], recs[1]}: 1, {recs[1], recs[2]}: 1, {recs[2], recs[3]}: 1, {recs[4], recs[5]}: 1, {recs[5], recs[6]}: 1}
	if got := epoch(nil, len(want)); !maps.Equal(got, want) {
		t.Errorf("one epoch: %v, want %v", got, want)
	}
	want = map[[2]string]int{{recs[0], recs[2]}: 1, {recs[2], recs[3]}: 1, {recs[4], recs[5]}: 1, {recs[5], recs[6]}: 1}
	if got := epoch(map[string]bool{recs[1]: true}, len(want)); !maps.Equal(got, want) {
		t.Errorf("one epoch with %s held out: %v, want %v", recs[1], got, want)
	}
}

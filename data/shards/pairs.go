package shards

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// Pair kinds.
const (
	KindLadder = "ladder" // same source, different CRF: lower CRF is better
	KindMOS    = "mos"    // different sources whose MOS differ by more than a margin
)

// Pair is one comparison item: Label 0 means A is better, 1 means B is.
type Pair struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Label int    `json:"label"`
	Kind  string `json:"kind"`
}

// PairCandidate carries the fields pairing needs from a record.
type PairCandidate struct {
	ID       string
	SourceID string
	CRF      *int // nil: the uncompressed source, better than any CRF
	MOSNorm  float64
}

// BuildPairs returns ladder pairs (every two items of one source with
// different CRF) followed by cross-video pairs (items of different sources
// whose MOSNorm differ by more than margin; a uniform sample of at most
// maxCross of them, all if maxCross < 0, none if 0; NaN MOS is skipped).
// Which item is A is drawn at random so labels are balanced. The result
// depends only on the set of candidates and the seed, not their order.
func BuildPairs(recs []PairCandidate, margin float64, maxCross int, seed uint64) []Pair {
	c := slices.Clone(recs)
	slices.SortFunc(c, func(a, b PairCandidate) int { return cmp.Compare(a.ID, b.ID) })
	c = slices.CompactFunc(c, func(a, b PairCandidate) bool { return a.ID == b.ID })
	r := newRNG(seed, 0x9a125)
	pairs := ladderPairs(c, r)
	return append(pairs, crossPairs(c, margin, maxCross, r)...)
}

// orient returns better/worse as a pair with a random side for the better.
func orient(better, worse, kind string, r *rng) Pair {
	if r.intn(2) == 0 {
		return Pair{A: better, B: worse, Label: 0, Kind: kind}
	}
	return Pair{A: worse, B: better, Label: 1, Kind: kind}
}

func crfRank(c *int) int {
	if c == nil {
		return math.MinInt
	}
	return *c
}

func ladderPairs(c []PairCandidate, r *rng) []Pair {
	groups := map[string][]PairCandidate{}
	var sources []string
	for _, p := range c {
		if p.SourceID == "" {
			continue
		}
		if _, ok := groups[p.SourceID]; !ok {
			sources = append(sources, p.SourceID)
		}
		groups[p.SourceID] = append(groups[p.SourceID], p)
	}
	sort.Strings(sources)
	var out []Pair
	for _, s := range sources {
		g := groups[s]
		slices.SortStableFunc(g, func(a, b PairCandidate) int { return cmp.Compare(crfRank(a.CRF), crfRank(b.CRF)) })
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				if crfRank(g[i].CRF) != crfRank(g[j].CRF) {
					out = append(out, orient(g[i].ID, g[j].ID, KindLadder, r))
				}
			}
		}
	}
	return out
}

// AdjacentLadder returns the ladder pairs of pairs whose two items are
// neighbours on their source's ladder: no other item of that source lies
// between them. Ladder pairs cover every two items of a source (BuildPairs),
// so an item's rank on its ladder is the number of pairs it wins, and
// neighbours differ by exactly one win. These are the hard comparisons
// (CRF 15 against 23, not against 53) that a ranking loss saturates on
// last. Other kinds are dropped; the order of pairs is kept.
func AdjacentLadder(pairs []Pair) []Pair {
	wins := map[string]int{}
	for _, p := range pairs {
		if p.Kind != KindLadder {
			continue
		}
		better := p.A
		if p.Label == 1 {
			better = p.B
		}
		wins[better]++
	}
	var out []Pair
	for _, p := range pairs {
		if p.Kind == KindLadder && abs(wins[p.A]-wins[p.B]) == 1 {
			out = append(out, p)
		}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// crossPairs sorts by MOS so the partners of item i that beat it by more
// than margin are a suffix [lo[i], n); pair k of the implied list is found
// by prefix sums, which lets a large candidate set be sampled without
// enumerating it. Same-source draws are rejected, keeping the sample uniform.
func crossPairs(all []PairCandidate, margin float64, maxCross int, r *rng) []Pair {
	if maxCross == 0 {
		return nil
	}
	margin = max(margin, 0) // keeps every partner after its item in MOS order
	var c []PairCandidate
	for _, p := range all {
		if !math.IsNaN(p.MOSNorm) {
			c = append(c, p)
		}
	}
	slices.SortStableFunc(c, func(a, b PairCandidate) int { return cmp.Compare(a.MOSNorm, b.MOSNorm) })
	n := len(c)
	prefix := make([]int, n+1) // prefix[i]: pairs whose worse item is before i
	lo := make([]int, n)
	for i := range c {
		lo[i] = sort.Search(n, func(j int) bool { return c[j].MOSNorm-c[i].MOSNorm > margin })
		prefix[i+1] = prefix[i] + n - lo[i]
	}
	total := prefix[n]
	pair := func(k int) (worse, better int) {
		i := sort.Search(n, func(i int) bool { return prefix[i+1] > k })
		return i, lo[i] + k - prefix[i]
	}
	var picked []int
	if maxCross < 0 || total <= 4*maxCross {
		for k := range total {
			if w, b := pair(k); c[w].SourceID != c[b].SourceID || c[w].SourceID == "" {
				picked = append(picked, k)
			}
		}
		if maxCross >= 0 && len(picked) > maxCross {
			for i := range maxCross { // partial Fisher-Yates
				j := i + r.intn(len(picked)-i)
				picked[i], picked[j] = picked[j], picked[i]
			}
			picked = picked[:maxCross]
		}
	} else {
		seen := map[int]bool{}
		for tries := 0; len(picked) < maxCross && tries < 50*maxCross; tries++ {
			k := r.intn(total)
			if w, b := pair(k); seen[k] || (c[w].SourceID == c[b].SourceID && c[w].SourceID != "") {
				continue
			}
			seen[k] = true
			picked = append(picked, k)
		}
	}
	out := make([]Pair, 0, len(picked))
	for _, k := range picked {
		w, b := pair(k)
		out = append(out, orient(c[b].ID, c[w].ID, KindMOS, r))
	}
	return out
}

// WritePairs writes pairs as JSON lines (ids only), atomically.
func WritePairs(path string, pairs []Pair) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, p := range pairs {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// ReadPairs reads a pairs.jsonl; errors name file:line.
func ReadPairs(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []Pair
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var p Pair
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		switch {
		case p.A == "" || p.B == "" || p.A == p.B:
			return nil, fmt.Errorf("%s:%d: bad ids %q, %q", path, line, p.A, p.B)
		case p.Label != 0 && p.Label != 1:
			return nil, fmt.Errorf("%s:%d: label %d, want 0 or 1", path, line, p.Label)
		case p.Kind != KindLadder && p.Kind != KindMOS:
			return nil, fmt.Errorf("%s:%d: kind %q, want %q or %q", path, line, p.Kind, KindLadder, KindMOS)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

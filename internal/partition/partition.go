// Package partition splits work deterministically across machines: a
// "--shard i/N" flag selects partition i of N (0-based). Records are assigned
// by the FNV-1a hash of a key (stable whatever else is in the input), lists
// of jobs by index (balanced).
package partition

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Spec is partition I of N; the zero value (N = 0) means "everything".
type Spec struct{ I, N int }

// Parse reads "i/N" with 0 <= i < N; "" gives the zero Spec.
func Parse(s string) (Spec, error) {
	if s == "" {
		return Spec{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Spec{}, fmt.Errorf("--shard %q: want i/N with 0 <= i < N (e.g. 0/4)", s)
	}
	return Spec{I: i, N: n}, nil
}

// All reports whether the spec selects everything (no flag, or 0/1).
func (s Spec) All() bool { return s.N <= 1 }

// String is "i/N", or "all".
func (s Spec) String() string {
	if s.N == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Of returns the partition a key belongs to among n: FNV-1a 64 of the key
// mod n.
func Of(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// HasKey reports whether key falls in this partition.
func (s Spec) HasKey(key string) bool { return s.All() || Of(key, s.N) == s.I }

// HasIndex reports whether the j-th item of an ordered list falls in this
// partition (j mod N == i).
func (s Spec) HasIndex(j int) bool { return s.All() || j%s.N == s.I }

// Filter keeps the items whose key is in the partition, in order.
func Filter[T any](s Spec, items []T, key func(T) string) []T {
	if s.All() {
		return items
	}
	var out []T
	for _, it := range items {
		if s.HasKey(key(it)) {
			out = append(out, it)
		}
	}
	return out
}

package partition

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	for _, s := range []string{"0/1", "1/2", " 3 / 4"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"2/2", "-1/2", "1", "a/b", "0/0", "1/-3"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if s, _ := Parse(""); !s.All() || s.String() != "all" {
		t.Fatalf("empty: %+v", s)
	}
}

// Partitions are disjoint, cover everything, and do not depend on the
// other items (a key's partition is a function of the key alone).
func TestDisjointCover(t *testing.T) {
	var keys []string
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("video-%03d", i))
	}
	for _, n := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		for i := range n {
			s := Spec{I: i, N: n}
			for _, k := range Filter(s, keys, func(k string) string { return k }) {
				seen[k]++
			}
			for j := range 10 {
				if s.HasIndex(j) != (j%n == i) {
					t.Fatalf("index %d in %v", j, s)
				}
			}
		}
		if len(seen) != len(keys) {
			t.Fatalf("n=%d: %d of %d keys covered", n, len(seen), len(keys))
		}
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: %s in %d partitions", n, k, c)
			}
		}
	}
	// FNV-1a 64 of "video-000" is fixed: a changed hash would silently move
	// records between machines of one run.
	if got := Of("video-000", 1000); got != Of("video-000", 1000) || Of("", 7) != int(14695981039346656037%7) {
		t.Fatalf("hash changed: %d", got)
	}
}

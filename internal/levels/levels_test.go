package levels

import (
	"math"
	"testing"
)

func TestWord(t *testing.T) {
	cases := map[float64]string{0.5: "bad", 1: "bad", 1.49: "bad", 1.5: "poor", 2.49: "poor", 2.5: "fair",
		3.49: "fair", 3.5: "good", 4.49: "good", 4.5: "excellent", 5: "excellent", 7: "excellent", math.NaN(): ""}
	for mos, want := range cases {
		if got := Word(mos); got != want {
			t.Errorf("Word(%g) = %q, want %q", mos, got, want)
		}
	}
	for i, s := range Scores {
		if Index(s) != i {
			t.Errorf("the anchor %g of %s is in level %d", s, Words[i], Index(s))
		}
	}
}

// TestTarget: a target sums to 1, its expectation is the (clamped) MOS, and
// the level it weighs most is the MOS's level (at a tie, the one Index picks
// carries half).
func TestTarget(t *testing.T) {
	for mos := 0.0; mos <= 6; mos += 0.01 {
		tg := Target(mos)
		sum, exp, best := 0.0, 0.0, 0
		for i, p := range tg {
			sum += float64(p)
			exp += float64(p) * Scores[i]
			if p > tg[best] {
				best = i
			}
		}
		if math.Abs(sum-1) > 1e-6 || math.Abs(exp-clamp(mos)) > 1e-6 {
			t.Fatalf("Target(%v) = %v: sum %v, expectation %v", mos, tg, sum, exp)
		}
		if i := Index(mos); i != best && tg[i] != tg[best] {
			t.Fatalf("Target(%v) = %v weighs %s most, the level is %s", mos, tg, Words[best], Words[i])
		}
	}
}

// Package levels is the one definition of CP-LLM's five quality levels: the
// words, the score each stands for, which level a MOS on the 1..5 scale
// falls in, and the soft score target. Training targets, the descriptions'
// level word and the scorer's level all come from here.
//
// A level is anchored at its score (bad 1 .. excellent 5): the score head
// predicts the expectation of those anchors, and Target spreads a MOS over
// its two neighbouring anchors. So the level of a MOS is its nearest anchor
// (cut points at 1.5, 2.5, 3.5 and 4.5, a tie going up), which is also the
// level its target weighs most. Equal-width bins of the 1..5 range
// (0.8 wide) would name 4.3 "excellent" while its target puts 70% on "good".
package levels

import "math"

// Words are the five levels, best first (the order of the model's level
// logits and probabilities).
var Words = [5]string{"excellent", "good", "fair", "poor", "bad"}

// Scores are the anchors of Words on the 1..5 scale.
var Scores = [5]float64{5, 4, 3, 2, 1}

// clamp limits a MOS to the scale.
func clamp(mos float64) float64 { return math.Max(1, math.Min(5, mos)) }

// Index is the index in Words of mos's level: its nearest anchor (a tie
// goes to the better level); values outside [1, 5] take the end level.
// NaN has no level: -1.
func Index(mos float64) int {
	if math.IsNaN(mos) {
		return -1
	}
	return 5 - int(math.Round(clamp(mos)))
}

// Word is the word of mos's level ("" for NaN).
func Word(mos float64) string {
	if i := Index(mos); i >= 0 {
		return Words[i]
	}
	return ""
}

// Target spreads mos (clamped to [1, 5]) over its two neighbouring levels so
// that the expected score of the target equals it exactly.
func Target(mos float64) [5]float32 {
	var t [5]float32
	s := clamp(mos)
	lo := math.Floor(s)
	frac := s - lo
	t[5-int(lo)] = float32(1 - frac)
	if frac > 0 {
		t[5-int(lo)-1] = float32(frac)
	}
	return t
}

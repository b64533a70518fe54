package describe

import "math"

// Kind names what a Statement is about.
type Kind string

const (
	KindQuality    Kind = "quality"    // overall level word from the MOS
	KindFormat     Kind = "format"     // resolution and frame rate
	KindEncoding   Kind = "encoding"   // known re-encoding (CRF ladder items)
	KindSharpness  Kind = "sharpness"  // Signals.Sharpness
	KindNoise      Kind = "noise"      // Signals.Noise
	KindBlocking   Kind = "blocking"   // Signals.Blockiness
	KindExposure   Kind = "exposure"   // Signals.MeanLuma
	KindShadows    Kind = "shadows"    // Signals.DarkFrac
	KindHighlights Kind = "highlights" // Signals.BrightFrac
	KindContrast   Kind = "contrast"   // Signals.Contrast
	KindColour     Kind = "colour"     // Signals.Colorfulness
)

// Band gives Word to values below Upper (and at or above the previous band's Upper).
// A Silent band is not worth saying (e.g. "no crushed shadows"): no statement.
type Band struct {
	Upper  float64
	Word   string
	Silent bool
}

// Scale maps one signal to words.
type Scale struct {
	Kind  Kind
	Value func(Signals) float64
	Bands []Band // ascending Upper; the last is +Inf
}

var inf = math.Inf(1)

// Scales is the one threshold table. The cut points are heuristics set on
// native-resolution frames of the real clips in ../shared/realdata and on
// blurred, noised and CRF 20-51 re-encodes of one of them:
//   - sharpness: Gaussian blur sigma 2 gives ~40, sigma 5 ~7; clean clips 80-800.
//   - noise: compressed UGC measures 0.1-1.6; added noise of strength 20 gives ~7.
//   - blockiness: CRF 20-35 stays below 1.15, CRF 45 ~1.34, CRF 51 ~1.40.
//   - exposure, shadows, highlights: mean luma and the fractions below 16 / above 240.
//   - colour: Hasler & Suesstrunk's own scale (15 slightly, 33 moderately, 59 quite colourful).
var Scales = []Scale{
	{KindSharpness, func(s Signals) float64 { return s.Sharpness }, []Band{
		{25, "blurry", false}, {100, "slightly soft", false}, {inf, "sharp", false}}},
	{KindNoise, func(s Signals) float64 { return s.Noise }, []Band{
		{2, "clean", false}, {4, "slightly noisy", false}, {inf, "noisy", false}}},
	{KindBlocking, func(s Signals) float64 { return s.Blockiness }, []Band{
		{1.2, "no visible compression artifacts", false}, {1.35, "mild blocking", false}, {inf, "strong blocking", false}}},
	{KindExposure, func(s Signals) float64 { return s.MeanLuma }, []Band{
		{55, "dark", false}, {180, "well exposed", false}, {inf, "overexposed", false}}},
	{KindShadows, func(s Signals) float64 { return s.DarkFrac }, []Band{
		{0.15, "", true}, {0.4, "some crushed shadows", false}, {inf, "large crushed black areas", false}}},
	{KindHighlights, func(s Signals) float64 { return s.BrightFrac }, []Band{
		{0.05, "", true}, {0.2, "some blown highlights", false}, {inf, "large blown-out areas", false}}},
	{KindContrast, func(s Signals) float64 { return s.Contrast }, []Band{
		{30, "low contrast", false}, {60, "moderate contrast", false}, {inf, "high contrast", false}}},
	{KindColour, func(s Signals) float64 { return s.Colorfulness }, []Band{
		{15, "almost no colour", false}, {33, "muted colours", false}, {59, "natural colours", false}, {inf, "vivid colours", false}}},
}

// Band returns the band v falls in.
func (s Scale) Band(v float64) Band {
	for _, b := range s.Bands {
		if v < b.Upper {
			return b
		}
	}
	return s.Bands[len(s.Bands)-1] // NaN
}

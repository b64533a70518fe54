package synth

import "math"

// Pseudo-MOS mapping: SSIM in decibels, -10·log10(1-SSIM), mapped linearly
// from [dBLow, dBHigh] to [1, 5] and clamped. It is fixed and strictly
// increasing in SSIM between the ends, so an item's score orders exactly as
// its SSIM does. SSIM 0.5 (3 dB) and below is 1 ("bad"); 0.9937 (22 dB) and
// above is 5 ("excellent").
const (
	dBLow  = 3.0
	dBHigh = 22.0
)

// PseudoMOS maps a full-reference SSIM to a score in [1, 5].
func PseudoMOS(ssim float64) float64 {
	if ssim >= 1 {
		return 5
	}
	db := -10 * math.Log10(1-ssim)
	return 1 + 4*math.Min(1, math.Max(0, (db-dBLow)/(dBHigh-dBLow)))
}

// Package x264 holds the libx264 settings cpllm's config and its encoder
// both check: the speed presets and the CRF level specs. It imports nothing
// of FFmpeg, so config can validate without linking it.
package x264

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Presets are libx264's speed presets, fastest first.
var Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

// MaxCRF is the largest CRF libx264 accepts (8-bit builds clamp above 51).
const MaxCRF = 63

// CRFWant says what a CRF spec must be.
const CRFWant = "lo:hi:step with lo <= hi and step > 0, or a list like 15,23,31; every level in 0..63"

// ParseCRFs reads a CRF spec: "lo:hi:step" (inclusive) or a comma list
// "15,23,31", every level in 0..MaxCRF; the levels come back sorted without
// duplicates.
func ParseCRFs(spec string) ([]int, error) {
	spec = strings.TrimSpace(spec)
	var out []int
	if parts := strings.Split(spec, ":"); len(parts) == 3 {
		var v [3]int
		for i, p := range parts {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("crf spec %q: %q is not an integer (want %s)", spec, p, CRFWant)
			}
			v[i] = n
		}
		if v[2] <= 0 || v[0] > v[1] {
			return nil, fmt.Errorf("crf spec %q: the range is empty (want lo <= hi and step > 0)", spec)
		}
		for c := v[0]; c <= v[1]; c += v[2] {
			out = append(out, c)
		}
	} else {
		for _, p := range strings.Split(spec, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("crf spec %q: %q is not an integer (want %s)", spec, p, CRFWant)
			}
			out = append(out, n)
		}
	}
	for _, c := range out {
		if c < 0 || c > MaxCRF {
			return nil, fmt.Errorf("crf spec %q: level %d is outside 0..%d", spec, c, MaxCRF)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

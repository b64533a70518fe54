package nss

import "fmt"

// PatchStats are a clip's statistics from its stored native-resolution
// patches: FrameNSS of each patch's luma, averaged over the patches that are
// not degenerate (a flat patch, such as a black bar, has no statistics).
// patches holds k RGB patches of s x s, row-major. ok is false when every
// patch is degenerate; the caller then has no statistics for the clip.
func PatchStats(patches []byte, k, s int) (feats []float64, ok bool, err error) {
	if k <= 0 || s <= 0 || len(patches) != k*s*s*3 {
		return nil, false, fmt.Errorf("nss: %d bytes for %d patches of %dx%d RGB", len(patches), k, s, s)
	}
	sum := make([]float64, len(NSSNames))
	n := 0
	for i := range k {
		p := patches[i*s*s*3 : (i+1)*s*s*3]
		v, err := FrameNSS(Grey(p, s, s), s, s)
		if err != nil {
			continue // degenerate patch: left out of the mean
		}
		for j := range sum {
			sum[j] += v[j]
		}
		n++
	}
	if n == 0 {
		return nil, false, nil
	}
	for j := range sum {
		sum[j] /= float64(n)
	}
	return sum, true, nil
}

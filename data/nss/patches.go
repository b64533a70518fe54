package nss

import "fmt"

// PatchStats are a clip's statistics from its stored native-resolution
// patches: FramesNSS of the k patches. patches holds k RGB patches of
// s x s, row-major. ok is false when every patch is degenerate; the caller
// then has no statistics for the clip.
func PatchStats(patches []byte, k, s int) (feats []float64, ok bool, err error) {
	if k <= 0 || s <= 0 || len(patches) != k*s*s*3 {
		return nil, false, fmt.Errorf("nss: %d bytes for %d patches of %dx%d RGB", len(patches), k, s, s)
	}
	frames := make([][]byte, k)
	for i := range frames {
		frames[i] = patches[i*s*s*3 : (i+1)*s*s*3]
	}
	feats, ok = FramesNSS(frames, s, s)
	return feats, ok, nil
}

// FramesNSS averages FrameNSS of packed RGB24 w x h frames' luma over the
// frames that are not degenerate (a flat frame or patch, such as a black
// bar, has no statistics). ok is false when every frame is degenerate.
func FramesNSS(frames [][]byte, w, h int) (feats []float64, ok bool) {
	sum := make([]float64, len(NSSNames))
	n := 0
	for _, f := range frames {
		v, err := FrameNSS(Grey(f, w, h), w, h)
		if err != nil {
			continue // degenerate: left out of the mean
		}
		for j := range sum {
			sum[j] += v[j]
		}
		n++
	}
	if n == 0 {
		return nil, false
	}
	for j := range sum {
		sum[j] /= float64(n)
	}
	return sum, true
}

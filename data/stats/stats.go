// Package stats computes the statistics vector a model's statistics token
// is built from: the natural-scene statistics of data/nss averaged over
// frames, then the tone and artifact signals of data/describe. The feed
// measures a clip's stored patches with it; data prep and the video scorer
// measure the whole pixel-view frames the patches are cut from, which hold
// about ten times the pixels of 8 patches of 224 x 224 at 960 x 540.
package stats

import (
	"fmt"
	"slices"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
)

// Names name Of's entries: nss.NSSNames, then describe.SignalNames.
var Names = slices.Concat(nss.NSSNames, describe.SignalNames)

// Of returns the statistics of packed RGB24 w x h frames: nss.FramesNSS,
// then describe.Measure's signals over all of them, raw (noise not on a log
// scale). ok is false when every frame is degenerate: the clip has no
// statistics.
func Of(frames [][]byte, w, h int) (feats []float64, ok bool) {
	feats, ok = nss.FramesNSS(frames, w, h)
	if !ok {
		return nil, false
	}
	return append(feats, describe.Measure(frames, w, h).Values()...), true
}

// Split cuts k packed RGB24 s x s patches, stored one after another, into
// k frames for Of (sharing patches' bytes).
func Split(patches []byte, k, s int) ([][]byte, error) {
	if k <= 0 || s <= 0 || len(patches) != k*s*s*3 {
		return nil, fmt.Errorf("stats: %d bytes for %d patches of %dx%d RGB", len(patches), k, s, s)
	}
	out := make([][]byte, k)
	for i := range out {
		out[i] = patches[i*s*s*3 : (i+1)*s*s*3]
	}
	return out, nil
}

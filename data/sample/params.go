// Package sample builds CP-LLM's two input views of a video: the context view
// (M frames squashed to Size x Size for the semantic encoder) and the pixel
// view (K native-detail Size x Size patches for the quality encoder), decoding
// the clip once and holding only the frames it needs.
package sample

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Params size the two views. The defaults follow the paper.
type Params struct {
	M        int // context frames
	K        int // pixel-view patches
	Size     int // side of a context frame and of a patch
	MaxLong  int // pixel view: longest side at most this (no upscaling) ...
	MaxShort int // ... and shortest side at most this
	MinSide  int // pixel view: short side enlarged to at least this, so patches fit
}

// DefaultParams are 8 context frames, 8 patches of 224x224, pixel frames
// fitted to 1080x540 (540x1080 portrait) with a 224 minimum side.
func DefaultParams() Params {
	return Params{M: 8, K: 8, Size: 224, MaxLong: 1080, MaxShort: 540, MinSide: 224}
}

// Validate reports parameters that cannot produce the views.
func (p Params) Validate() error {
	switch {
	case p.M <= 0 || p.K <= 0 || p.Size <= 0:
		return fmt.Errorf("sample params: M, K and Size must be positive (M=%d K=%d Size=%d)", p.M, p.K, p.Size)
	case p.MinSide < p.Size:
		return fmt.Errorf("sample params: MinSide %d is below the patch size %d", p.MinSide, p.Size)
	case p.MaxShort < p.MinSide || p.MaxLong < p.MaxShort:
		return fmt.Errorf("sample params: need MinSide <= MaxShort <= MaxLong (got %d, %d, %d)", p.MinSide, p.MaxShort, p.MaxLong)
	}
	return nil
}

// Mode selects deterministic (evaluation) or seeded random (training) sampling.
type Mode int

const (
	Eval  Mode = iota // fixed layout, no seed
	Train             // random frames and patch positions from (seed, id)
)

func (m Mode) String() string {
	switch m {
	case Eval:
		return "eval"
	case Train:
		return "train"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Patch is one pixel-view patch: the source frame index (decode order, from
// 0) and its top-left corner in the resized PixelW x PixelH frame.
type Patch struct {
	Frame int `json:"frame"`
	X     int `json:"x"`
	Y     int `json:"y"`
}

// Views are the sampled inputs of one clip. Pixels are packed RGB24.
type Views struct {
	Size       int     // side of every context frame and patch
	ContextIdx []int   // M frame indices, ascending, repeated when the clip is shorter than M
	Context    []byte  // M*Size*Size*3: frame ContextIdx[i] squashed to Size x Size
	Patches    []Patch // K patches, grouped by ascending frame
	PatchPix   []byte  // K*Size*Size*3: crop of Patches[i] from its resized frame
	PixelW     int     // pixel-view frame size the patches were cut from
	PixelH     int
	SrcW, SrcH int      // displayed size of the source (coded size turned by its display rotation)
	Frames     int      // frames in the clip: the container count, or the decoded count when fewer decode
	FPS        float64  // the source's frame rate (from the probe Sample already does); 0 for a still image
	Native     [][]byte // SampleNative only: some context frames as SrcW x SrcH RGB24
	// PixelFrames (Options.PixelFrames only) are the distinct frames the
	// patches were cut from, whole, as PixelW x PixelH RGB24.
	PixelFrames [][]byte
}

// ContextFrame returns the i-th context frame's pixels.
func (v *Views) ContextFrame(i int) []byte {
	n := v.Size * v.Size * 3
	return v.Context[i*n : (i+1)*n]
}

// PatchFrame returns the i-th patch's pixels.
func (v *Views) PatchFrame(i int) []byte {
	n := v.Size * v.Size * 3
	return v.PatchPix[i*n : (i+1)*n]
}

// NewRand is the training generator for a clip: PCG seeded with the run seed
// and the FNV-1a 64 hash of the video id, so every clip gets its own
// reproducible stream independent of the order clips are visited.
func NewRand(seed uint64, id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

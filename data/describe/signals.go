// Package describe turns measurements of a video into grounded natural-language
// quality descriptions for training CP-LLM's decoder (the paper's descriptions
// are not released): every adjective in a description is backed by a number
// measured on the frames and the threshold table in thresholds.go.
package describe

import (
	"fmt"
	"math"
)

// Signals are per-video low-level measurements, averaged over frames. Luma is
// BT.601 Y' = 0.299R + 0.587G + 0.114B on 0..255 RGB.
type Signals struct {
	Sharpness    float64 `json:"sharpness"`       // variance of the 4-neighbour Laplacian of luma (interior pixels)
	Noise        float64 `json:"noise_sigma"`     // Immerkaer (1996) fast noise estimate: sigma in luma levels
	Blockiness   float64 `json:"blockiness"`      // luma step across 8x8 block edges / step inside blocks; ~1 = no blocking
	MeanLuma     float64 `json:"mean_luma"`       // exposure: mean luma
	DarkFrac     float64 `json:"dark_fraction"`   // fraction of pixels with luma < DarkLuma
	BrightFrac   float64 `json:"bright_fraction"` // fraction of pixels with luma > BrightLuma
	Contrast     float64 `json:"contrast"`        // luma standard deviation
	Colorfulness float64 `json:"colorfulness"`    // Hasler & Suesstrunk (2003) M
	Frames       int     `json:"frames"`          // frames measured
}

const (
	DarkLuma   = 16  // near-black: luma below this
	BrightLuma = 240 // near-white: luma above this
	// blockEps (one luma level) keeps the blockiness ratio finite and near 1
	// on flat content, where both steps are close to 0.
	blockEps = 1.0
)

// SignalNames name Values' entries: the signals a model's statistics token
// can take (model stats kind nss-signals). Sharpness is left out: the NSS
// have the Laplacian's log-variance already.
var SignalNames = []string{"mean_luma", "contrast", "dark_fraction", "bright_fraction", "colorfulness", "noise_sigma", "blockiness"}

// Values are the signals in SignalNames order.
func (s Signals) Values() []float64 {
	return []float64{s.MeanLuma, s.Contrast, s.DarkFrac, s.BrightFrac, s.Colorfulness, s.Noise, s.Blockiness}
}

// Measure averages the signals of packed RGB24 w x h frames. It panics when a
// frame's length is not w*h*3 (a caller bug, not a data error).
func Measure(frames [][]byte, w, h int) Signals {
	var s Signals
	if len(frames) == 0 || w <= 0 || h <= 0 {
		return s
	}
	y := make([]float64, w*h)
	for i, f := range frames {
		if len(f) != w*h*3 {
			panic(fmt.Sprintf("describe.Measure: frame %d has %d bytes, want %dx%dx3", i, len(f), w, h))
		}
		luma(y, f)
		fs := Signals{
			Sharpness:    laplacianVar(y, w, h),
			Noise:        immerkaer(y, w, h),
			Blockiness:   blockiness(y, w, h),
			Colorfulness: colorfulness(f),
		}
		fs.MeanLuma, fs.Contrast, fs.DarkFrac, fs.BrightFrac = exposure(y)
		s.add(fs)
	}
	s.scale(1 / float64(len(frames)))
	s.Frames = len(frames)
	return s
}

func (s *Signals) add(o Signals) {
	s.Sharpness += o.Sharpness
	s.Noise += o.Noise
	s.Blockiness += o.Blockiness
	s.MeanLuma += o.MeanLuma
	s.DarkFrac += o.DarkFrac
	s.BrightFrac += o.BrightFrac
	s.Contrast += o.Contrast
	s.Colorfulness += o.Colorfulness
}

func (s *Signals) scale(k float64) {
	s.Sharpness *= k
	s.Noise *= k
	s.Blockiness *= k
	s.MeanLuma *= k
	s.DarkFrac *= k
	s.BrightFrac *= k
	s.Contrast *= k
	s.Colorfulness *= k
}

func luma(y []float64, rgb []byte) {
	for i := range y {
		p := rgb[3*i : 3*i+3 : 3*i+3]
		y[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
}

// laplacianVar is the variance of Y(x±1,y)+Y(x,y±1)-4Y(x,y) over pixels with
// all four neighbours (no border padding); 0 below 3x3.
func laplacianVar(y []float64, w, h int) float64 {
	if w < 3 || h < 3 {
		return 0
	}
	var sum, sq float64
	for r := 1; r < h-1; r++ {
		row := y[r*w : (r+1)*w]
		up, dn := y[(r-1)*w:r*w], y[(r+1)*w:(r+2)*w]
		for c := 1; c < w-1; c++ {
			l := row[c-1] + row[c+1] + up[c] + dn[c] - 4*row[c]
			sum += l
			sq += l * l
		}
	}
	n := float64((w - 2) * (h - 2))
	m := sum / n
	return max(sq/n-m*m, 0)
}

// immerkaer is sigma = sqrt(pi/2) / (6 (W-2)(H-2)) * sum |Y * N| with the
// mask N = [1 -2 1; -2 4 -2; 1 -2 1], which cancels (locally linear) image
// structure and keeps the noise; 0 below 3x3.
func immerkaer(y []float64, w, h int) float64 {
	if w < 3 || h < 3 {
		return 0
	}
	var sum float64
	for r := 1; r < h-1; r++ {
		up, row, dn := y[(r-1)*w:r*w], y[r*w:(r+1)*w], y[(r+1)*w:(r+2)*w]
		for c := 1; c < w-1; c++ {
			v := up[c-1] - 2*up[c] + up[c+1] -
				2*row[c-1] + 4*row[c] - 2*row[c+1] +
				dn[c-1] - 2*dn[c] + dn[c+1]
			sum += math.Abs(v)
		}
	}
	return math.Sqrt(math.Pi/2) * sum / (6 * float64((w-2)*(h-2)))
}

// blockiness compares the mean absolute luma step between neighbours that
// straddle an 8x8 block edge (columns/rows 8k-1 and 8k, grid anchored at the
// top-left like a codec's) with the mean step between neighbours inside a
// block, horizontally and vertically pooled: (edge+eps)/(inside+eps).
// Measure on native-resolution frames: resizing moves the codec grid.
func blockiness(y []float64, w, h int) float64 {
	var edge, inside float64
	var ne, ni int
	for r := range h {
		row := y[r*w : (r+1)*w]
		for c := 0; c+1 < w; c++ {
			d := math.Abs(row[c+1] - row[c])
			if (c+1)%8 == 0 {
				edge += d
				ne++
			} else {
				inside += d
				ni++
			}
		}
	}
	for r := 0; r+1 < h; r++ {
		row, dn := y[r*w:(r+1)*w], y[(r+1)*w:(r+2)*w]
		onEdge := (r+1)%8 == 0
		for c := range w {
			d := math.Abs(dn[c] - row[c])
			if onEdge {
				edge += d
				ne++
			} else {
				inside += d
				ni++
			}
		}
	}
	if ne == 0 || ni == 0 {
		return 1
	}
	return (edge/float64(ne) + blockEps) / (inside/float64(ni) + blockEps)
}

// exposure returns the mean and standard deviation of luma and the fractions
// of near-black and near-white pixels.
func exposure(y []float64) (mean, std, dark, bright float64) {
	var sum, sq float64
	var nd, nb int
	for _, v := range y {
		sum += v
		if v < DarkLuma {
			nd++
		} else if v > BrightLuma {
			nb++
		}
	}
	n := float64(len(y))
	mean = sum / n
	for _, v := range y { // second pass: exact 0 on flat frames
		sq += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sq / n), float64(nd) / n, float64(nb) / n
}

// colorfulness is Hasler & Suesstrunk's M = sigma_rgyb + 0.3 mu_rgyb with
// rg = R-G and yb = (R+G)/2 - B: 0 for any grey image.
func colorfulness(rgb []byte) float64 {
	var srg, syb, qrg, qyb float64
	n := len(rgb) / 3
	if n == 0 {
		return 0
	}
	// Sums are taken about the first pixel's values (shifted data), so the
	// one-pass variance stays exact on uniform frames.
	krg, kyb := rgyb(rgb)
	for i := range n {
		rg, yb := rgyb(rgb[3*i:])
		rg, yb = rg-krg, yb-kyb
		srg += rg
		syb += yb
		qrg += rg * rg
		qyb += yb * yb
	}
	fn := float64(n)
	mrg, myb := srg/fn, syb/fn
	vrg, vyb := max(qrg/fn-mrg*mrg, 0), max(qyb/fn-myb*myb, 0)
	mrg, myb = mrg+krg, myb+kyb
	return math.Sqrt(vrg+vyb) + 0.3*math.Sqrt(mrg*mrg+myb*myb)
}

func rgyb(p []byte) (rg, yb float64) {
	r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
	return r - g, (r+g)/2 - b
}

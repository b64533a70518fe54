// Package nss computes BRISQUE-style natural-scene statistics of a grey
// image (Mittal, Moorthy, Bovik 2012, "No-Reference Image Quality Assessment
// in the Spatial Domain") and two simple sharpness statistics: the features
// of the classic baselines (eval/baseline) and of the model's statistics
// token (model config stats), computed once here for both.
package nss

import (
	"fmt"
	"math"
	"sync"
)

// NSS conventions. Where the paper leaves a detail open we follow the
// authors' released MATLAB code, and say so:
//   - window: 7x7 circular Gaussian, sigma 7/6, normalised to sum 1;
//   - borders: zero padding (the code's filter2 'same');
//   - C = 1 on 0-255 luma;
//   - pairwise products over valid neighbours only, as the paper defines
//     them (the code wraps around with circshift);
//   - second scale: 2x2 box average (the paper says "downsampled by a factor
//     of 2"; the code's bicubic imresize is not specified there);
//   - |I - mu| below flatTol is exactly 0: in a flat window it is 0 but for
//     rounding (~1e-13), and the AGGD's split into negative and positive
//     samples would otherwise count rounding noise (black bars, clipped sky).
const (
	flatTol     = 1e-8
	gaussRadius = 3
	gaussSigma  = 7.0 / 6.0
	mscnC       = 1.0
)

// NSSNames are the per-frame NSS features in FrameNSS order: per scale the
// GGD fit (shape, variance) of the MSCN map and the AGGD fit (shape, mean,
// left variance, right variance) of its four pairwise products, then the
// MSCN variance and the log-variance of the Laplacian at native scale.
var NSSNames = nssNames()

// BRISQUENames are the 36 BRISQUE features (the first 36 of NSSNames).
var BRISQUENames = NSSNames[:36]

// SharpnessNames are the two sharpness statistics (the last 2 of NSSNames).
var SharpnessNames = NSSNames[36:]

func nssNames() []string {
	var n []string
	for _, s := range []string{"s1", "s2"} {
		n = append(n, s+"_ggd_shape", s+"_ggd_var")
		for _, o := range []string{"h", "v", "d1", "d2"} {
			n = append(n, s+"_"+o+"_shape", s+"_"+o+"_mean", s+"_"+o+"_lvar", s+"_"+o+"_rvar")
		}
	}
	return append(n, "mscn_var", "lap_logvar")
}

// Grey converts packed RGB24 to luma with ITU-R BT.601 weights (MATLAB's
// rgb2gray, which BRISQUE's code applies), on the 0-255 scale C assumes.
func Grey(rgb []byte, w, h int) []float64 {
	g := make([]float64, w*h)
	for i := range g {
		p := rgb[3*i : 3*i+3]
		g[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	return g
}

// FrameNSS returns the len(NSSNames) features of one grey frame (w x h,
// row-major, 0-255). An error means the frame is degenerate (flat, or too
// small): its statistics are undefined, not zero.
func FrameNSS(grey []float64, w, h int) ([]float64, error) {
	if len(grey) != w*h {
		return nil, fmt.Errorf("nss: %d pixels for %dx%d", len(grey), w, h)
	}
	if w < 2*gaussRadius+2 || h < 2*gaussRadius+2 {
		return nil, fmt.Errorf("nss: frame %dx%d is too small (need two scales of at least %dx%d)", w, h, gaussRadius+1, gaussRadius+1)
	}
	m1 := MSCN(grey, w, h)
	out := scaleFeatures(m1, w, h)
	hw, hh := w/2, h/2
	m2 := MSCN(halve(grey, w, h), hw, hh)
	out = append(out, scaleFeatures(m2, hw, hh)...)
	_, v := MeanVar(m1)
	out = append(out, v, math.Log(laplacianVar(grey, w, h)))
	for i, x := range out {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("nss: %s is %v (flat or degenerate frame)", NSSNames[i], x)
		}
	}
	return out, nil
}

// MSCN returns the mean-subtracted contrast-normalised coefficients
// (I - mu) / (sigma + C), mu and sigma the local Gaussian-weighted mean and
// standard deviation.
func MSCN(img []float64, w, h int) []float64 {
	k := gaussKernel()
	mu := blur(img, w, h, k)
	sq := make([]float64, len(img))
	for i, x := range img {
		sq[i] = x * x
	}
	s2 := blur(sq, w, h, k)
	out := make([]float64, len(img))
	for i, x := range img {
		// E[I^2] - mu^2 equals the paper's sum w (I - mu)^2 because the
		// weights, zero padding included, sum to 1; abs() absorbs rounding.
		sigma := math.Sqrt(math.Abs(s2[i] - mu[i]*mu[i]))
		if d := x - mu[i]; math.Abs(d) >= flatTol {
			out[i] = d / (sigma + mscnC)
		}
	}
	return out
}

// gaussKernel is the 1-D factor of the separable 7x7 window, sum 1.
func gaussKernel() []float64 {
	k := make([]float64, 2*gaussRadius+1)
	s := 0.0
	for i := range k {
		x := float64(i - gaussRadius)
		k[i] = math.Exp(-x * x / (2 * gaussSigma * gaussSigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	return k
}

// blur correlates img with k (x) k, zero outside the image. Two 1-D passes
// equal the 2-D window exactly in arithmetic since it is separable.
func blur(img []float64, w, h int, k []float64) []float64 {
	r := len(k) / 2
	tmp := make([]float64, len(img))
	for y := range h {
		row := img[y*w : (y+1)*w]
		for x := range w {
			s := 0.0
			for j := max(0, r-x); j < len(k) && x+j-r < w; j++ {
				s += k[j] * row[x+j-r]
			}
			tmp[y*w+x] = s
		}
	}
	out := make([]float64, len(img))
	for y := range h {
		for x := range w {
			s := 0.0
			for j := max(0, r-y); j < len(k) && y+j-r < h; j++ {
				s += k[j] * tmp[(y+j-r)*w+x]
			}
			out[y*w+x] = s
		}
	}
	return out
}

// halve averages 2x2 blocks; an odd last row or column is dropped.
func halve(img []float64, w, h int) []float64 {
	hw, hh := w/2, h/2
	out := make([]float64, hw*hh)
	for y := range hh {
		for x := range hw {
			i := 2*y*w + 2*x
			out[y*hw+x] = (img[i] + img[i+1] + img[i+w] + img[i+w+1]) / 4
		}
	}
	return out
}

// scaleFeatures is the 18 BRISQUE features of one MSCN map.
func scaleFeatures(m []float64, w, h int) []float64 {
	shape, variance := FitGGD(m)
	out := []float64{shape, variance}
	// Neighbour offsets (dy, dx): horizontal, vertical, main diagonal,
	// anti-diagonal, each pair counted once where both pixels exist.
	for _, d := range [4][2]int{{0, 1}, {1, 0}, {1, 1}, {1, -1}} {
		p := make([]float64, 0, w*h)
		for y := 0; y+d[0] < h; y++ {
			for x := max(0, -d[1]); x < w && x+d[1] < w; x++ {
				p = append(p, m[y*w+x]*m[(y+d[0])*w+x+d[1]])
			}
		}
		a := FitAGGD(p)
		out = append(out, a.Shape, a.Mean, a.LeftVar, a.RightVar)
	}
	return out
}

// The moment-matching lookup: shapes 0.2, 0.201, ..., 10 and their
// moment ratios, as in the BRISQUE code.
var (
	lutOnce  sync.Once
	lutShape []float64
	lutGGD   []float64 // Gamma(1/a) Gamma(3/a) / Gamma(2/a)^2 = E[x^2] / E[|x|]^2
	lutAGGD  []float64 // its inverse, Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))
)

func lut() {
	lutOnce.Do(func() {
		for i := 0; i <= 9800; i++ {
			a := 0.2 + float64(i)*0.001
			r := math.Gamma(1/a) * math.Gamma(3/a) / (math.Gamma(2/a) * math.Gamma(2/a))
			lutShape = append(lutShape, a)
			lutGGD = append(lutGGD, r)
			lutAGGD = append(lutAGGD, 1/r)
		}
	})
}

// nearest returns the shape whose tabulated ratio is closest to r (the
// first on ties); NaN when r is NaN.
func nearest(tab []float64, r float64) float64 {
	if math.IsNaN(r) {
		return math.NaN()
	}
	best, bi := math.Inf(1), 0
	for i, t := range tab {
		if d := math.Abs(t - r); d < best {
			best, bi = d, i
		}
	}
	return lutShape[bi]
}

// FitGGD fits a zero-mean generalised Gaussian by moment matching and
// returns its shape and variance (the mean square).
func FitGGD(v []float64) (shape, variance float64) {
	lut()
	sq, ab := 0.0, 0.0
	for _, x := range v {
		sq += x * x
		ab += math.Abs(x)
	}
	n := float64(len(v))
	variance = sq / n
	ab /= n
	return nearest(lutGGD, variance/(ab*ab)), variance
}

// AGGD is an asymmetric generalised Gaussian fit.
type AGGD struct{ Shape, Mean, LeftVar, RightVar float64 }

// FitAGGD fits an asymmetric generalised Gaussian by the moment matching of
// Lasmar et al. used in BRISQUE: left/right scales from the mean squares of
// the negative and positive samples, the shape from the corrected ratio
// E[|x|]^2 / E[x^2], and the mean eta = (br - bl) Gamma(2/a) / Gamma(1/a).
func FitAGGD(v []float64) AGGD {
	lut()
	var lsq, rsq, ab, sq float64
	var nl, nr int
	for _, x := range v {
		switch {
		case x < 0:
			lsq += x * x
			nl++
		case x > 0:
			rsq += x * x
			nr++
		}
		ab += math.Abs(x)
		sq += x * x
	}
	n := float64(len(v))
	lstd, rstd := math.Sqrt(lsq/float64(nl)), math.Sqrt(rsq/float64(nr))
	if nl == 0 {
		lstd = 0 // no negative samples: a one-sided fit, left scale 0
	}
	g := lstd / rstd
	rhat := (ab / n) * (ab / n) / (sq / n)
	rnorm := rhat * (g*g*g + 1) * (g + 1) / ((g*g + 1) * (g*g + 1))
	a := nearest(lutAGGD, rnorm)
	k := math.Sqrt(math.Gamma(1/a) / math.Gamma(3/a))
	mean := (rstd*k - lstd*k) * math.Gamma(2/a) / math.Gamma(1/a)
	return AGGD{Shape: a, Mean: mean, LeftVar: lstd * lstd, RightVar: rstd * rstd}
}

// MeanVar is the mean and population variance of v.
func MeanVar(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v))
}

// laplacianVar is the variance of the 4-neighbour Laplacian over the
// interior pixels (no padding): a classic focus/sharpness measure.
func laplacianVar(img []float64, w, h int) float64 {
	l := make([]float64, 0, (w-2)*(h-2))
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			l = append(l, img[i-w]+img[i+w]+img[i-1]+img[i+1]-4*img[i])
		}
	}
	_, v := MeanVar(l)
	return v
}

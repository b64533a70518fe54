// Package fr holds full-reference quality measurements (distorted vs
// pristine), used to give synthetic clips a pseudo-MOS.
package fr

import (
	"errors"
	"fmt"
	"io"

	"github.com/cpllm/cpllm/data/video"
)

// SSIM constants for 8-bit samples, scaled to sums over 64 pixels (8x8 windows).
// (FFmpeg rounds them to integers: 416 and 235963.)
const (
	ssimC1 = 416.0    // round(.01² · 255² · 64)
	ssimC2 = 235963.0 // round(.03² · 255² · 64 · 63)
)

// blockStats are the sums over one 4x4 block: a, b, a²+b², a·b.
type blockStats [4]int64

// SSIMPlane is the SSIM of two equally sized 8-bit planes with the fast
// approximation of x264 and FFmpeg's ssim filter: 8x8 windows of summed 4x4
// blocks at a stride of 4 pixels, without Gaussian weights.
func SSIMPlane(a, b video.Plane) (float64, error) {
	if a.W != b.W || a.H != b.H || len(a.Pix) < a.W*a.H || len(b.Pix) < b.W*b.H {
		return 0, fmt.Errorf("ssim: planes differ in size: %dx%d vs %dx%d", a.W, a.H, b.W, b.H)
	}
	bw, bh := a.W/4, a.H/4
	if bw < 2 || bh < 2 {
		return 0, fmt.Errorf("ssim: plane %dx%d smaller than one 8x8 window", a.W, a.H)
	}
	prev, cur := make([]blockStats, bw), make([]blockStats, bw)
	rowStats(a, b, 0, prev)
	total := 0.0
	for by := 1; by < bh; by++ {
		rowStats(a, b, by, cur)
		for bx := 0; bx+1 < bw; bx++ {
			var s blockStats
			for k := range s {
				s[k] = prev[bx][k] + prev[bx+1][k] + cur[bx][k] + cur[bx+1][k]
			}
			total += window(s)
		}
		prev, cur = cur, prev
	}
	return total / float64((bh-1)*(bw-1)), nil
}

func rowStats(a, b video.Plane, by int, out []blockStats) {
	for bx := range out {
		var s blockStats
		for y := 4 * by; y < 4*by+4; y++ {
			ra, rb := a.Pix[y*a.W+4*bx:], b.Pix[y*b.W+4*bx:]
			for x := 0; x < 4; x++ {
				p, q := int64(ra[x]), int64(rb[x])
				s[0] += p
				s[1] += q
				s[2] += p*p + q*q
				s[3] += p * q
			}
		}
		out[bx] = s
	}
}

// window is the SSIM of one 8x8 window from its sums.
func window(s blockStats) float64 {
	s1, s2 := float64(s[0]), float64(s[1])
	vars := float64(s[2])*64 - s1*s1 - s2*s2
	covar := float64(s[3])*64 - s1*s2
	return (2*s1*s2 + ssimC1) * (2*covar + ssimC2) / ((s1*s1 + s2*s2 + ssimC1) * (vars + ssimC2))
}

// SSIMFrame averages the planes' SSIM weighted by plane area (FFmpeg's "All").
func SSIMFrame(a, b []video.Plane) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, errors.New("ssim: frames have different plane counts")
	}
	total, area := 0.0, 0.0
	for i := range a {
		s, err := SSIMPlane(a[i], b[i])
		if err != nil {
			return 0, err
		}
		n := float64(a[i].W * a[i].H)
		total += s * n
		area += n
	}
	return total / area, nil
}

// SSIMFiles decodes a distorted clip and its reference in lockstep and
// returns the mean per-frame SSIM. Both must have the same size and frame count.
func SSIMFiles(distorted, reference string) (float64, error) {
	v, err := SSIMMany(reference, []string{distorted})
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// SSIMMany is SSIMFiles for several distorted clips of one reference,
// decoding the reference once and all clips in lockstep.
func SSIMMany(reference string, distorted []string) ([]float64, error) {
	rd, err := video.OpenDecoder(reference)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	decs := make([]*video.Decoder, len(distorted))
	for i, p := range distorted {
		if decs[i], err = video.OpenDecoder(p); err != nil {
			for _, d := range decs[:i] {
				d.Close()
			}
			return nil, err
		}
	}
	defer func() {
		for _, d := range decs {
			d.Close()
		}
	}()
	sums := make([]float64, len(distorted))
	n := 0
	for ; ; n++ {
		fr, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		pr, err := video.Planes(fr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", reference, err)
		}
		for i, d := range decs {
			f, err := d.Next()
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("ssim: %s ends at frame %d, before its reference %s", distorted[i], n, reference)
			}
			if err != nil {
				return nil, err
			}
			pd, err := video.Planes(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", distorted[i], err)
			}
			s, err := SSIMFrame(pd, pr)
			if err != nil {
				return nil, fmt.Errorf("ssim of %s at frame %d: %w", distorted[i], n, err)
			}
			sums[i] += s
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("ssim: reference %s has no frames", reference)
	}
	for i, d := range decs {
		if _, err := d.Next(); !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("ssim: %s has more frames than its reference %s (%d)", distorted[i], reference, n)
		}
		sums[i] /= float64(n)
	}
	return sums, nil
}

package describe

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// Reference measurements written directly from their definitions with 2-D
// indexing and two-pass statistics, to check the single-pass implementations.

func refLuma(img []byte, w, x, y int) float64 {
	i := 3 * (y*w + x)
	return 0.299*float64(img[i]) + 0.587*float64(img[i+1]) + 0.114*float64(img[i+2])
}

func refVar(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v))
}

func refSharpness(img []byte, w, h int) float64 {
	var l []float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			l = append(l, refLuma(img, w, x-1, y)+refLuma(img, w, x+1, y)+refLuma(img, w, x, y-1)+refLuma(img, w, x, y+1)-4*refLuma(img, w, x, y))
		}
	}
	_, v := refVar(l)
	return v
}

func refNoise(img []byte, w, h int) float64 {
	k := [3][3]float64{{1, -2, 1}, {-2, 4, -2}, {1, -2, 1}}
	var sum float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			var c float64
			for j := -1; j <= 1; j++ {
				for i := -1; i <= 1; i++ {
					c += k[j+1][i+1] * refLuma(img, w, x+i, y+j)
				}
			}
			sum += math.Abs(c)
		}
	}
	return math.Sqrt(math.Pi/2) / (6 * float64(w-2) * float64(h-2)) * sum
}

func refBlockiness(img []byte, w, h int) float64 {
	var edge, inside []float64
	for y := range h {
		for x := range w {
			if x+1 < w {
				d := math.Abs(refLuma(img, w, x+1, y) - refLuma(img, w, x, y))
				if x/8 != (x+1)/8 {
					edge = append(edge, d)
				} else {
					inside = append(inside, d)
				}
			}
			if y+1 < h {
				d := math.Abs(refLuma(img, w, x, y+1) - refLuma(img, w, x, y))
				if y/8 != (y+1)/8 {
					edge = append(edge, d)
				} else {
					inside = append(inside, d)
				}
			}
		}
	}
	me, _ := refVar(edge)
	mi, _ := refVar(inside)
	return (me + 1) / (mi + 1)
}

func refExposure(img []byte, w, h int) (mean, std, dark, bright float64) {
	var y []float64
	for j := range h {
		for i := range w {
			v := refLuma(img, w, i, j)
			y = append(y, v)
			if v < 16 {
				dark++
			}
			if v > 240 {
				bright++
			}
		}
	}
	mean, v := refVar(y)
	n := float64(w * h)
	return mean, math.Sqrt(v), dark / n, bright / n
}

func refColorfulness(img []byte) float64 {
	var rg, yb []float64
	for i := 0; i < len(img); i += 3 {
		r, g, b := float64(img[i]), float64(img[i+1]), float64(img[i+2])
		rg = append(rg, r-g)
		yb = append(yb, 0.5*(r+g)-b)
	}
	mrg, vrg := refVar(rg)
	myb, vyb := refVar(yb)
	return math.Sqrt(vrg+vyb) + 0.3*math.Sqrt(mrg*mrg+myb*myb)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// Test images: random, a colour gradient, a dark checkerboard with clipped
// highlights, a flat grey; sizes not multiples of 8.
func testImages() (imgs [][]byte, w, h int) {
	w, h = 37, 29
	rng := rand.New(rand.NewPCG(1, 2))
	random, grad, check, grey := make([]byte, w*h*3), make([]byte, w*h*3), make([]byte, w*h*3), make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			for c := range 3 {
				random[i+c] = byte(rng.IntN(256))
				grey[i+c] = 128
			}
			grad[i], grad[i+1], grad[i+2] = byte(7*x), byte(9*y), byte(3*(x+y))
			v := byte(5)
			if (x/3+y/3)%2 == 0 {
				v = 250
			}
			check[i], check[i+1], check[i+2] = v, v, v/2
		}
	}
	return [][]byte{random, grad, check, grey}, w, h
}

func TestMeasureMatchesReference(t *testing.T) {
	imgs, w, h := testImages()
	for k, img := range imgs {
		s := Measure([][]byte{img}, w, h)
		mean, std, dark, bright := refExposure(img, w, h)
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"sharpness", s.Sharpness, refSharpness(img, w, h)},
			{"noise", s.Noise, refNoise(img, w, h)},
			{"blockiness", s.Blockiness, refBlockiness(img, w, h)},
			{"mean luma", s.MeanLuma, mean},
			{"contrast", s.Contrast, std},
			{"dark fraction", s.DarkFrac, dark},
			{"bright fraction", s.BrightFrac, bright},
			{"colorfulness", s.Colorfulness, refColorfulness(img)},
		} {
			if !near(c.got, c.want) {
				t.Errorf("image %d %s = %.12g, reference %.12g", k, c.name, c.got, c.want)
			}
		}
		if s.Frames != 1 {
			t.Errorf("image %d: Frames = %d", k, s.Frames)
		}
	}
	// Several frames average field by field.
	all := Measure(imgs, w, h)
	var sum Signals
	for _, img := range imgs {
		sum.add(Measure([][]byte{img}, w, h))
	}
	sum.scale(1 / float64(len(imgs)))
	sum.Frames = len(imgs)
	if !near(all.Sharpness, sum.Sharpness) || !near(all.Colorfulness, sum.Colorfulness) || !near(all.DarkFrac, sum.DarkFrac) || all.Frames != 4 {
		t.Errorf("Measure of 4 frames %+v, mean of singles %+v", all, sum)
	}
}

// texture is a smooth but detailed grey image.
func texture(w, h int) []byte {
	img := make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			v := 128 + 60*math.Sin(float64(x)/3.1)*math.Cos(float64(y)/4.7) + 30*math.Sin(float64(x+2*y)/1.7)
			for c := range 3 {
				img[3*(y*w+x)+c] = byte(v)
			}
		}
	}
	return img
}

func clampByte(v float64) byte { return byte(math.Max(0, math.Min(255, math.Round(v)))) }

func TestMeasureSanity(t *testing.T) {
	const w, h = 128, 96
	base := texture(w, h)
	s0 := Measure([][]byte{base}, w, h)

	// A 5x5 box blur lowers sharpness.
	blur := make([]byte, len(base))
	for y := range h {
		for x := range w {
			var sum, n float64
			for j := max(0, y-2); j <= min(h-1, y+2); j++ {
				for i := max(0, x-2); i <= min(w-1, x+2); i++ {
					sum += float64(base[3*(j*w+i)])
					n++
				}
			}
			for c := range 3 {
				blur[3*(y*w+x)+c] = clampByte(sum / n)
			}
		}
	}
	if sb := Measure([][]byte{blur}, w, h); sb.Sharpness >= s0.Sharpness/4 {
		t.Errorf("blur: sharpness %.1f, original %.1f", sb.Sharpness, s0.Sharpness)
	}

	// Gaussian noise of sigma 8 on a flat grey frame is estimated near 8,
	// and added to the texture raises the estimate.
	rng := rand.New(rand.NewPCG(3, 4))
	flat, noisy := make([]byte, len(base)), make([]byte, len(base))
	for i := 0; i < len(base); i += 3 {
		n := 8 * rng.NormFloat64()
		for c := range 3 {
			flat[i+c] = clampByte(128 + n)
			noisy[i+c] = clampByte(float64(base[i+c]) + n)
		}
	}
	if sf := Measure([][]byte{flat}, w, h); math.Abs(sf.Noise-8) > 0.8 {
		t.Errorf("noise sigma 8 on flat grey estimated as %.2f", sf.Noise)
	}
	if sn := Measure([][]byte{noisy}, w, h); sn.Noise < s0.Noise+4 {
		t.Errorf("noise: estimate %.2f, original %.2f", sn.Noise, s0.Noise)
	}

	// Averaging 8x8 blocks (what a starved codec does) raises blockiness well above 1.
	block := make([]byte, len(base))
	for by := 0; by < h; by += 8 {
		for bx := 0; bx < w; bx += 8 {
			var sum float64
			for y := by; y < by+8; y++ {
				for x := bx; x < bx+8; x++ {
					sum += float64(base[3*(y*w+x)])
				}
			}
			for y := by; y < by+8; y++ {
				for x := bx; x < bx+8; x++ {
					for c := range 3 {
						block[3*(y*w+x)+c] = clampByte(sum / 64)
					}
				}
			}
		}
	}
	if s0.Blockiness > 1.2 {
		t.Errorf("unblocked texture has blockiness %.2f", s0.Blockiness)
	}
	if sbk := Measure([][]byte{block}, w, h); sbk.Blockiness < 3 {
		t.Errorf("8x8 block averaging: blockiness %.2f, original %.2f", sbk.Blockiness, s0.Blockiness)
	}

	// Grey has no colour, and a flat frame no contrast.
	grey := make([]byte, len(base))
	for i := range grey {
		grey[i] = 77
	}
	if sg := Measure([][]byte{grey, base}, w, h); sg.Colorfulness != 0 {
		t.Errorf("grey frames: colourfulness %g", sg.Colorfulness)
	}
	if sg := Measure([][]byte{grey}, w, h); sg.Contrast != 0 || sg.Sharpness != 0 || sg.Noise != 0 || sg.Blockiness != 1 {
		t.Errorf("flat grey: %+v", sg)
	}
}

func TestMeasureWrongSizePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a short frame")
		}
	}()
	Measure([][]byte{make([]byte, 10)}, 4, 4)
}

// Values follow SignalNames, which are the signals' JSON names.
func TestSignalValuesNamed(t *testing.T) {
	s := Signals{Sharpness: 1, Noise: 2, Blockiness: 3, MeanLuma: 4, DarkFrac: 5, BrightFrac: 6, Contrast: 7, Colorfulness: 8, Frames: 9}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var byName map[string]float64
	if err := json.Unmarshal(raw, &byName); err != nil {
		t.Fatal(err)
	}
	v := s.Values()
	if len(v) != len(SignalNames) {
		t.Fatalf("%d values, %d names", len(v), len(SignalNames))
	}
	for i, n := range SignalNames {
		if w, ok := byName[n]; !ok || w != v[i] {
			t.Errorf("Values()[%d] = %g, JSON field %q = %g (present %v)", i, v[i], n, w, ok)
		}
	}
}

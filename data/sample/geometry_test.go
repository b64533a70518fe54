package sample

import (
	"testing"
)

func TestPixelSize(t *testing.T) {
	p := DefaultParams()
	cases := []struct{ w, h, pw, ph int }{
		{1280, 720, 960, 540},   // landscape 16:9, short side limits
		{960, 540, 960, 540},    // already fits: untouched
		{1920, 1080, 960, 540},  // full HD
		{3840, 2160, 960, 540},  // 4K
		{406, 720, 406, 720},    // portrait that fits 540x1080: untouched
		{1080, 1920, 540, 960},  // portrait full HD
		{2160, 3840, 540, 960},  // portrait 4K
		{192, 144, 299, 224},    // tiny: enlarged to the 224 minimum (298.67 rounds up)
		{144, 192, 224, 299},    // tiny portrait
		{640, 480, 640, 480},    // 4:3 fits
		{1440, 1080, 720, 540},  // 4:3 too big
		{2560, 1080, 1080, 456}, // ultra-wide: long side limits (455.6)
		{1000, 1000, 540, 540},  // square
		{224, 224, 224, 224},    // exactly the minimum
		{200, 200, 224, 224},    // square below the minimum
		{4000, 300, 2987, 224},  // extreme aspect: MinSide wins over MaxLong
	}
	for _, c := range cases {
		w, h := PixelSize(c.w, c.h, p)
		if w != c.pw || h != c.ph {
			t.Errorf("PixelSize(%d, %d) = %dx%d, want %dx%d", c.w, c.h, w, h, c.pw, c.ph)
		}
	}
	if w, h := PixelSize(0, 10, p); w != 0 || h != 0 {
		t.Errorf("PixelSize(0, 10) = %dx%d", w, h)
	}
}

// The rules hold for every size: aspect kept (within rounding), limits
// respected unless the minimum side forces otherwise, no enlargement beyond it.
func TestPixelSizeInvariants(t *testing.T) {
	p := DefaultParams()
	for w := 16; w <= 4096; w += 37 {
		for h := 16; h <= 4096; h += 41 {
			pw, ph := PixelSize(w, h, p)
			long, short := max(pw, ph), min(pw, ph)
			if (pw >= ph) != (w >= h) && pw != ph {
				t.Fatalf("%dx%d -> %dx%d: orientation changed", w, h, pw, ph)
			}
			if short < p.MinSide {
				t.Fatalf("%dx%d -> %dx%d: short side below %d", w, h, pw, ph, p.MinSide)
			}
			if short > p.MaxShort || (long > p.MaxLong && short != p.MinSide) {
				t.Fatalf("%dx%d -> %dx%d: exceeds %dx%d", w, h, pw, ph, p.MaxLong, p.MaxShort)
			}
			if min(w, h) >= p.MinSide && (pw > w || ph > h) {
				t.Fatalf("%dx%d -> %dx%d: upscaled", w, h, pw, ph)
			}
			// Aspect: the rounded side is within half a pixel of exact.
			if d := float64(pw)*float64(h) - float64(ph)*float64(w); d*d > float64(max(w, h)*max(w, h)) {
				t.Fatalf("%dx%d -> %dx%d: aspect not kept", w, h, pw, ph)
			}
		}
	}
}

func TestCapacity(t *testing.T) {
	for _, c := range []struct{ w, h, n int }{{960, 540, 8}, {299, 224, 1}, {540, 960, 8}, {223, 500, 0}, {448, 448, 4}} {
		if got := Capacity(c.w, c.h, 224); got != c.n {
			t.Errorf("Capacity(%d, %d) = %d, want %d", c.w, c.h, got, c.n)
		}
	}
}

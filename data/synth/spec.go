// Package synth generates cpllm's own labelled corpus: procedural source
// clips from FFmpeg's lavfi generators, seeded distortion chains (H.264 CRF,
// blur, noise, down-up scaling and combinations), and a pseudo-MOS from the
// SSIM of each distorted clip against its pristine source.
package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Options bound the random choices; every choice flows from Seed.
type Options struct {
	Videos               int
	Seed                 uint64
	MinHeight, MaxHeight int     // short side of the frame, from {360, 480, 540, 720, 1080}
	MinFPS, MaxFPS       int     // from {24, 25, 30, 50, 60}
	MinSeconds           float64 // clip length, drawn in 0.5 s steps
	MaxSeconds           float64
	PortraitFraction     float64
	LadderCRFs           []int  // CRF levels every source is re-encoded at (the ladder items)
	Variants             int    // further distortion chains per source
	Preset               string // x264 preset for all synth encodes
	Jobs                 int
	TrainFrac, ValFrac   float64 // by source; the rest is test
}

// DefaultOptions are the ranges: 360p-1080p, 24-60 fps, 2-8 s.
func DefaultOptions() Options {
	return Options{Videos: 24, Seed: 1, MinHeight: 360, MaxHeight: 1080, MinFPS: 24, MaxFPS: 60,
		MinSeconds: 2, MaxSeconds: 8, PortraitFraction: 0.25, LadderCRFs: []int{15, 27, 39, 51},
		Variants: 4, Preset: "veryfast", Jobs: 1, TrainFrac: 0.7, ValFrac: 0.15}
}

// Validate checks the ranges before any work.
func (o Options) Validate() error {
	switch {
	case o.Videos < 3:
		return fmt.Errorf("synth: videos %d: need at least 3 (one source per split)", o.Videos)
	case len(pick(heights, o.MinHeight, o.MaxHeight)) == 0:
		return fmt.Errorf("synth: no height of %v within [%d, %d]", heights, o.MinHeight, o.MaxHeight)
	case len(pick(rates, o.MinFPS, o.MaxFPS)) == 0:
		return fmt.Errorf("synth: no frame rate of %v within [%d, %d]", rates, o.MinFPS, o.MaxFPS)
	case o.MinSeconds < 0.5 || o.MaxSeconds < o.MinSeconds:
		return fmt.Errorf("synth: seconds [%g, %g]: need 0.5 <= min <= max", o.MinSeconds, o.MaxSeconds)
	case o.TrainFrac <= 0 || o.ValFrac < 0 || o.TrainFrac+o.ValFrac >= 1:
		return fmt.Errorf("synth: split fractions train %g val %g: need train > 0 and train+val < 1", o.TrainFrac, o.ValFrac)
	}
	return nil
}

var (
	heights = []int{360, 480, 540, 720, 1080}
	rates   = []int{24, 25, 30, 50, 60}
)

func pick(vals []int, lo, hi int) []int {
	var out []int
	for _, v := range vals {
		if v >= lo && v <= hi {
			out = append(out, v)
		}
	}
	return out
}

// Source is one procedural pristine clip.
type Source struct {
	ID        string  `json:"id"`
	Generator string  `json:"generator"`
	Graph     string  `json:"graph"` // the lavfi graph that draws it
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	FPS       int     `json:"fps"`
	Frames    int     `json:"frames"`
	Seconds   float64 `json:"seconds"`
	Split     string  `json:"split"`
}

// generators draw a W x H clip at R fps; s is a per-source random stream.
var generators = map[string]func(w, h, r int, s *rand.Rand) string{
	"testsrc2": func(w, h, r int, s *rand.Rand) string {
		return fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", w, h, r)
	},
	"mandelbrot": func(w, h, r int, s *rand.Rand) string {
		return fmt.Sprintf("mandelbrot=size=%dx%d:rate=%d:maxiter=256:start_x=%.4f:start_y=%.4f:start_scale=%.2f:end_scale=%.3f",
			w, h, r, -0.75+0.1*s.Float64(), 0.1*s.Float64(), 2+s.Float64(), 0.05+0.3*s.Float64())
	},
	"life": func(w, h, r int, s *rand.Rand) string {
		return fmt.Sprintf("life=size=%dx%d:rate=%d:seed=%d:ratio=%.2f:mold=%d:life_color=#%06x:death_color=#%06x",
			w/2, h/2, r, s.IntN(1<<30), 0.05+0.3*s.Float64(), s.IntN(40), s.IntN(1<<24), s.IntN(1<<24)) +
			fmt.Sprintf(",scale=%d:%d:flags=neighbor", w, h)
	},
	"cellauto": func(w, h, r int, s *rand.Rand) string {
		return fmt.Sprintf("cellauto=size=%dx%d:rate=%d:seed=%d:rule=%d:random_fill_ratio=%.2f,scale=%d:%d:flags=neighbor",
			w/2, h/2, r, s.IntN(1<<30), []int{18, 30, 90, 110, 150}[s.IntN(5)], 0.2+0.6*s.Float64(), w, h)
	},
	"gradients": func(w, h, r int, s *rand.Rand) string {
		// Its seed does not pin positions and colours: give them all explicitly.
		n := 2 + s.IntN(4)
		spec := fmt.Sprintf("gradients=size=%dx%d:rate=%d:seed=%d:speed=%.3f:nb_colors=%d:x0=%d:y0=%d:x1=%d:y1=%d",
			w, h, r, s.IntN(1<<30), 0.005+0.03*s.Float64(), n, s.IntN(w), s.IntN(h), s.IntN(w), s.IntN(h))
		for i := range n {
			spec += fmt.Sprintf(":c%d=0x%06x", i, s.IntN(1<<24))
		}
		return spec
	},
	"bars-overlay": func(w, h, r int, s *rand.Rand) string { // static bars, a moving test card
		return fmt.Sprintf("smptehdbars=size=%dx%d:rate=%d[bg];testsrc2=size=%dx%d:rate=%d[fg];"+
			"[bg][fg]overlay=x='(W-w)*abs(sin(t*%.2f))':y='(H-h)*abs(cos(t*%.2f))'",
			w, h, r, w/3/2*2, h/3/2*2, r, 0.3+s.Float64(), 0.2+s.Float64())
	},
	"texture": func(w, h, r int, s *rand.Rand) string { // geq ripples under temporal noise
		return fmt.Sprintf("nullsrc=size=%dx%d:rate=%d,geq=lum='128+90*sin(X/%.1f+T*%.2f)*cos(Y/%.1f-T*%.2f)':cb='128+40*sin(X/%.1f)':cr='128+40*cos(Y/%.1f)',"+
			"noise=alls=%d:allf=t:all_seed=%d",
			w, h, r, 6+30*s.Float64(), 1+3*s.Float64(), 6+30*s.Float64(), 1+3*s.Float64(), 20+80*s.Float64(), 20+80*s.Float64(),
			2+s.IntN(10), s.IntN(1<<30))
	},
}

// GeneratorNames lists the generators in a fixed order.
func GeneratorNames() []string {
	names := make([]string, 0, len(generators))
	for n := range generators {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// rng is the random stream for one purpose of one item: same seed, same stream.
func rng(seed uint64, parts ...uint64) *rand.Rand {
	h := seed
	for _, p := range parts {
		h = h*0x9E3779B97F4A7C15 + p + 1
	}
	return rand.New(rand.NewPCG(seed, h))
}

// Sources draws the pristine clips and assigns splits by source.
func Sources(o Options) []Source {
	names := GeneratorNames()
	hs, rs := pick(heights, o.MinHeight, o.MaxHeight), pick(rates, o.MinFPS, o.MaxFPS)
	out := make([]Source, o.Videos)
	for i := range out {
		s := rng(o.Seed, 1, uint64(i))
		gen := names[i%len(names)] // cycle so every generator appears
		short := hs[s.IntN(len(hs))]
		long := (short*16/9 + 1) / 2 * 2
		w, h := long, short
		if s.Float64() < o.PortraitFraction {
			w, h = short, long
		}
		r := rs[s.IntN(len(rs))]
		steps := int((o.MaxSeconds-o.MinSeconds)/0.5) + 1
		secs := o.MinSeconds + 0.5*float64(s.IntN(steps))
		frames := int(secs * float64(r))
		graph := generators[gen](w, h, r, s) + fmt.Sprintf(",trim=end_frame=%d,setsar=1,format=yuv420p", frames)
		out[i] = Source{ID: fmt.Sprintf("s%03d-%s", i, gen), Generator: gen, Graph: graph, Width: w, Height: h,
			FPS: r, Frames: frames, Seconds: secs}
	}
	assignSplits(out, o)
	return out
}

// assignSplits shuffles sources with the seed and cuts train/val/test, at
// least one source in each, so no source spans two splits.
func assignSplits(srcs []Source, o Options) {
	idx := rng(o.Seed, 2).Perm(len(srcs))
	n := len(srcs)
	nVal := max(1, int(o.ValFrac*float64(n)+0.5))
	nTest := max(1, int((1-o.TrainFrac-o.ValFrac)*float64(n)+0.5))
	for rank, i := range idx {
		switch {
		case rank < nTest:
			srcs[i].Split = "test"
		case rank < nTest+nVal:
			srcs[i].Split = "val"
		default:
			srcs[i].Split = "train"
		}
	}
}

// Item is one clip of the corpus: the pristine source, a ladder level, or a
// distortion chain (optionally followed by a ladder CRF).
type Item struct {
	ID       string   `json:"id"`
	SourceID string   `json:"source_id"`
	Kind     string   `json:"kind"`       // pristine | ladder | blur | noise | scale | combo
	Chain    string   `json:"chain"`      // the lavfi filters applied before encoding ("" for none)
	CRF      *int     `json:"crf"`        // the ladder CRF; nil for pristine and unladdered chains
	Params   []string `json:"params"`     // human-readable distortion parameters
	EncCRF   int      `json:"encode_crf"` // the CRF actually used to store the clip
	SSIM     float64  `json:"ssim"`       // vs the pristine source
	MOS      float64  `json:"mos"`        // pseudo-MOS in [1, 5] from SSIM
	Path     string   `json:"path"`       // relative to the corpus root
	Split    string   `json:"split"`
}

// hqCRF stores pristine (lossless) and non-ladder chains (near-lossless)
// so the stored clip carries the chain's distortion, not the encoder's.
const (
	pristineCRF = 0
	hqCRF       = 8
)

// Items plans a source's clips: pristine, one per ladder CRF, and Variants chains.
func Items(src Source, o Options, index int) []Item {
	items := []Item{{ID: src.ID + "-pristine", SourceID: src.ID, Kind: "pristine", EncCRF: pristineCRF}}
	for _, c := range o.LadderCRFs {
		crf := c
		items = append(items, Item{ID: fmt.Sprintf("%s-crf%02d", src.ID, c), SourceID: src.ID, Kind: "ladder",
			CRF: &crf, EncCRF: c, Params: []string{fmt.Sprintf("crf=%d", c)}})
	}
	for v := range o.Variants {
		s := rng(o.Seed, 3, uint64(index), uint64(v))
		kinds := []string{"blur", "noise", "scale", "combo"}
		kind := kinds[s.IntN(len(kinds))]
		var filters, params []string
		add := func(k string) {
			f, p := chain(k, src, s)
			filters, params = append(filters, f), append(params, p)
		}
		if kind == "combo" {
			ks := []string{"blur", "noise", "scale"}
			first := s.IntN(3)
			add(ks[first])
			add(ks[(first+1+s.IntN(2))%3])
		} else {
			add(kind)
		}
		it := Item{ID: fmt.Sprintf("%s-v%d-%s", src.ID, v, kind), SourceID: src.ID, Kind: kind,
			Chain: strings.Join(filters, ","), EncCRF: hqCRF, Params: params}
		if len(o.LadderCRFs) > 0 && s.IntN(2) == 0 { // half the chains are also compressed
			crf := o.LadderCRFs[s.IntN(len(o.LadderCRFs))]
			it.CRF, it.EncCRF = &crf, crf
			it.Params = append(it.Params, fmt.Sprintf("crf=%d", crf))
		}
		items = append(items, it)
	}
	for i := range items {
		items[i].Split = src.Split
		items[i].Path = src.ID + "/" + items[i].ID + ".mp4"
	}
	return items
}

func chain(kind string, src Source, s *rand.Rand) (filter, param string) {
	switch kind {
	case "blur":
		sigma := 0.5 + 4*s.Float64()
		return fmt.Sprintf("gblur=sigma=%.2f", sigma), fmt.Sprintf("blur sigma=%.2f", sigma)
	case "noise":
		a := 3 + s.IntN(45)
		return fmt.Sprintf("noise=alls=%d:allf=t:all_seed=%d", a, s.IntN(1<<30)), fmt.Sprintf("noise strength=%d", a)
	default: // scale: down by f, back up bilinearly
		f := 1.5 + 4.5*s.Float64()
		w, h := max(16, int(float64(src.Width)/f)/2*2), max(16, int(float64(src.Height)/f)/2*2)
		return fmt.Sprintf("scale=%d:%d:flags=area,scale=%d:%d:flags=bilinear", w, h, src.Width, src.Height),
			fmt.Sprintf("down-up scale factor=%.2f", f)
	}
}

package synth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/internal/testutil"
)

// small keeps the corpus tiny for tests: 360p, 24-25 fps, 0.5-1 s.
func small(videos int) Options {
	o := DefaultOptions()
	o.Videos, o.MaxHeight, o.MaxFPS, o.MinSeconds, o.MaxSeconds = videos, 360, 25, 0.5, 1
	o.LadderCRFs, o.Variants, o.Preset, o.Jobs = []int{15, 33, 51}, 3, "ultrafast", 2
	return o
}

func treeBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			out[rel] = b
		}
		return nil
	})
	return out
}

// Acceptance 4.1: same seed twice gives byte-identical manifests and clips;
// pseudo-MOS is monotone in CRF for every source's ladder; splits by source.
func TestSynthDeterministicMonotoneSplits(t *testing.T) {
	testutil.RequireFFmpeg(t)
	o := small(24)
	if testing.Short() {
		o.Videos = 7
	}
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		sum, err := Run(context.Background(), dir, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := o.Videos * (1 + len(o.LadderCRFs) + o.Variants); sum.Items != want {
			t.Fatalf("%d items, want %d", sum.Items, want)
		}
	}
	ta, tb := treeBytes(t, a), treeBytes(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d files vs %d", len(ta), len(tb))
	}
	for name, data := range ta {
		if !bytes.Equal(data, tb[name]) {
			t.Fatalf("%s differs between two runs with the same seed", name)
		}
	}
	recs, err := datasets.Load("manifest", datasets.Options{Root: a})
	if err != nil {
		t.Fatal(err)
	}
	ladder := map[string]map[int]float64{}
	pristine := map[string]float64{}
	splitOf := map[string]string{}
	splits := map[string]int{}
	for _, r := range recs {
		if s, ok := splitOf[r.SourceID]; ok && s != r.Split {
			t.Fatalf("source %s in splits %s and %s", r.SourceID, s, r.Split)
		}
		splitOf[r.SourceID] = r.Split
		splits[r.Split]++
		if _, err := os.Stat(r.Path); err != nil {
			t.Fatal(err)
		}
		if r.MOS < 1 || r.MOS > 5 {
			t.Fatalf("%s: mos %v outside [1,5]", r.ID, r.MOS)
		}
		switch {
		case r.ID == r.SourceID+"-pristine":
			pristine[r.SourceID] = r.MOS
		case r.CRF != nil && r.ID == r.SourceID+"-crf"+twoDigits(*r.CRF):
			if ladder[r.SourceID] == nil {
				ladder[r.SourceID] = map[int]float64{}
			}
			ladder[r.SourceID][*r.CRF] = r.MOS
		}
	}
	if splits["train"] == 0 || splits["val"] == 0 || splits["test"] == 0 {
		t.Fatalf("splits %v", splits)
	}
	for src, l := range ladder {
		prev := pristine[src]
		for _, c := range o.LadderCRFs {
			if l[c] > prev {
				t.Errorf("%s: mos at crf %d = %.3f above the previous level %.3f", src, c, l[c], prev)
			}
			prev = l[c]
		}
	}
	// Resume: a removed sidecar makes only that source render again, with the same bytes.
	victim := recs[0]
	os.Remove(filepath.Join(a, victim.SourceID, victim.ID+".mp4.json"))
	sum, err := Run(context.Background(), a, o, nil)
	if err != nil || sum.Reused != o.Videos-1 {
		t.Fatalf("resume: %+v %v", sum, err)
	}
	for name, data := range treeBytes(t, a) {
		if !bytes.Equal(data, tb[name]) {
			t.Fatalf("%s differs after resume", name)
		}
	}
}

func twoDigits(n int) string {
	s := "0" + itoa(n)
	return s[len(s)-2:]
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestPseudoMOSMonotone(t *testing.T) {
	prev := 0.0
	for s := 0.0; s <= 1.0001; s += 0.001 {
		m := PseudoMOS(s)
		if m < prev || m < 1 || m > 5 {
			t.Fatalf("PseudoMOS(%v)=%v after %v", s, m, prev)
		}
		prev = m
	}
	if PseudoMOS(1) != 5 || PseudoMOS(0.2) != 1 {
		t.Fatal("ends")
	}
}

func TestSourcesCoverRanges(t *testing.T) {
	o := DefaultOptions()
	o.Videos = 40
	srcs := Sources(o)
	gens := map[string]bool{}
	portrait := 0
	for _, s := range srcs {
		gens[s.Generator] = true
		if s.Height > s.Width {
			portrait++
		}
		short := min(s.Width, s.Height)
		if short < 360 || short > 1080 || s.FPS < 24 || s.FPS > 60 || s.Seconds < 2 || s.Seconds > 8 {
			t.Errorf("%+v out of range", s)
		}
	}
	if len(gens) != len(GeneratorNames()) || portrait == 0 || portrait == len(srcs) {
		t.Fatalf("generators %v, portrait %d/%d", gens, portrait, len(srcs))
	}
}

package baseline

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FitGGD/FitAGGD recover the shape of known distributions: Gaussian 2,
// Laplacian 1, and an asymmetric Gaussian's two scales.
func TestFitsRecoverKnownShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 200000
	gauss, lap, asym := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		gauss[i] = 2 * r.NormFloat64()
		lap[i] = r.ExpFloat64() * float64(1-2*r.IntN(2))
		// An AGGD of shape 2: a side's mass is proportional to its scale.
		if z := math.Abs(r.NormFloat64()); r.Float64() < 0.5/(0.5+1.5) {
			asym[i] = -0.5 * z
		} else {
			asym[i] = 1.5 * z
		}
	}
	if a, v := FitGGD(gauss); math.Abs(a-2) > 0.05 || math.Abs(v-4) > 0.1 {
		t.Errorf("Gaussian: shape %.3f variance %.3f, want 2 and 4", a, v)
	}
	if a, _ := FitGGD(lap); math.Abs(a-1) > 0.05 {
		t.Errorf("Laplacian: shape %.3f, want 1", a)
	}
	g := FitAGGD(asym)
	if math.Abs(g.Shape-2) > 0.05 || math.Abs(g.LeftVar-0.25) > 0.01 || math.Abs(g.RightVar-2.25) > 0.05 {
		t.Errorf("asymmetric Gaussian: %+v, want shape 2, variances 0.25 and 2.25", g)
	}
	// Its mean (1.5 - 0.5) * sqrt(2/pi) = 0.798.
	if math.Abs(g.Mean-0.798) > 0.02 {
		t.Errorf("asymmetric Gaussian mean %.3f, want 0.798", g.Mean)
	}
}

func TestFrameNSSRejectsFlatAndTiny(t *testing.T) {
	flat := make([]float64, 40*30)
	for i := range flat {
		flat[i] = 77
	}
	if _, err := FrameNSS(flat, 40, 30); err == nil || !strings.Contains(err.Error(), "flat") {
		t.Errorf("flat frame: err %v, want a degenerate-frame error", err)
	}
	if _, err := FrameNSS(make([]float64, 6*6), 6, 6); err == nil {
		t.Error("6x6 frame: want an error")
	}
}

func TestFoldsBalancedAndSeeded(t *testing.T) {
	f := Folds(63, 5, 1)
	sizes := make([]int, 5)
	for _, k := range f {
		sizes[k]++
	}
	if slices.Min(sizes) < 12 || slices.Max(sizes) > 13 {
		t.Errorf("fold sizes %v, want 12-13 each", sizes)
	}
	if !slices.Equal(f, Folds(63, 5, 1)) {
		t.Error("same seed, different folds")
	}
	if slices.Equal(f, Folds(63, 5, 2)) {
		t.Error("seeds 1 and 2 gave the same folds")
	}
}

// synthSet: MOS = x0 - 0.5 x1 + noise; x2 is pure noise.
func synthSet(r *rand.Rand, n int) Set {
	s := Set{}
	for i := range n {
		x := []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		s.IDs = append(s.IDs, string(rune('a'+i%26))+string(rune('0'+i/26)))
		s.X = append(s.X, x)
		s.MOS = append(s.MOS, 3+x[0]-0.5*x[1]+0.3*r.NormFloat64())
	}
	return s
}

func TestProtocols(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	names := []string{"a", "b", "c"}
	train, test := synthSet(r, 60), synthSet(r, 20)
	o := Options{Resamples: 200, Seed: 3}
	ridge := Baseline{Name: "ridge", Kind: KindRidge, Features: names}
	res, err := TrainTest(ridge, names, train, test, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.SRCC.Value < 0.8 || !(res.SRCC.CILow <= res.SRCC.Value && res.SRCC.Value <= res.SRCC.CIHigh) {
		t.Errorf("ridge train-test SRCC %+v, want >= 0.8 inside its CI", res.SRCC)
	}
	if len(res.Fits) != 1 || !slices.Contains(DefaultLambdas, res.Fits[0].Lambda) {
		t.Errorf("fits %+v: want one lambda from the grid", res.Fits)
	}
	// No leak: the test MOS never reaches the fit.
	shuffled := test
	shuffled.MOS = slices.Clone(test.MOS)
	slices.Reverse(shuffled.MOS)
	res2, _ := TrainTest(ridge, names, train, shuffled, o)
	if !slices.Equal(res.Pred, res2.Pred) {
		t.Error("test predictions depend on the test MOS")
	}

	cv, err := CrossVal(ridge, names, train, 5, o)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Protocol != "cv" || cv.Folds != 5 || len(cv.Fits) != 5 || len(cv.FoldOf) != 60 || cv.N != 60 {
		t.Errorf("cv result: protocol %q folds %d fits %d fold_of %d n %d", cv.Protocol, cv.Folds, len(cv.Fits), len(cv.FoldOf), cv.N)
	}
	for _, f := range cv.Fits {
		if f.NTrain != 48 {
			t.Errorf("cv fold trained on %d rows, want 48", f.NTrain)
		}
	}
	loo, err := CrossVal(ridge, names, train, 1000, o)
	if err != nil {
		t.Fatal(err)
	}
	if loo.Protocol != "loo" || len(loo.Fits) != 60 || loo.Fits[0].NTrain != 59 {
		t.Errorf("loo: protocol %q, %d fits of %d rows", loo.Protocol, len(loo.Fits), loo.Fits[0].NTrain)
	}
	// A negatively related feature alone gets sign -1 and a positive SRCC.
	single := Baseline{Name: "b", Kind: KindSingle, Features: []string{"b"}}
	s, err := CrossVal(single, names, train, 5, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Fits {
		if f.Sign != -1 {
			t.Errorf("feature b: sign %d, want -1", f.Sign)
		}
	}
	if s.SRCC.Value <= 0 {
		t.Errorf("feature b: SRCC %.3f, want positive after the sign fix", s.SRCC.Value)
	}
	all, err := Evaluate(train, test, names, 5, true, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * len(Baselines(names)); len(all) != want {
		t.Errorf("Evaluate: %d results, want %d", len(all), want)
	}
}

func TestBaselinesNeedTheirFeatures(t *testing.T) {
	bs := Baselines(append(append([]string{}, BitrateNames...), NSSNames...))
	var ridges []string
	for _, b := range bs {
		if b.Kind == KindRidge {
			ridges = append(ridges, b.Name)
		}
	}
	if !slices.Equal(ridges, []string{"ridge_brisque", "ridge_nss", "ridge_all"}) || len(bs) != 3+40 {
		t.Errorf("full feature set: ridges %v, %d baselines", ridges, len(bs))
	}
	for _, b := range Baselines(NSSNames[:10]) {
		if b.Kind == KindRidge && b.Name != "ridge_all" {
			t.Errorf("%s offered without its features", b.Name)
		}
	}
}

func TestCacheResumesAndInvalidates(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "v.mp4")
	if err := os.WriteFile(clip, []byte("not a video, only stat'ed"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(clip)
	path := filepath.Join(dir, "features.jsonl")
	c, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	cf := ClipFeatures{Version: FeatureVersion, ID: "v", Path: clip, SizeBytes: st.Size(), ModTimeNS: st.ModTime().UnixNano(),
		Frames: 8, Features: map[string]float64{"mscn_var": 0.5}}
	if err := c.Put(cf); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves a torn line: dropped on reopen.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	f.WriteString(`{"version":1,"id":"w","pa`)
	f.Close()
	c, err = OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get("v", clip, 8); !ok || got.Features["mscn_var"] != 0.5 {
		t.Errorf("reopened cache: %+v %v", got, ok)
	}
	if c.Len() != 1 {
		t.Errorf("cache has %d entries, want 1 (torn line dropped)", c.Len())
	}
	if _, ok := c.Get("v", clip, 4); ok {
		t.Error("entry reused for a different frame count")
	}
	os.WriteFile(clip, []byte("changed content"), 0o644)
	if _, ok := c.Get("v", clip, 8); ok {
		t.Error("entry reused after the file changed")
	}
	// A malformed complete line is an error naming file and line.
	os.WriteFile(path, []byte("{\"id\":\"a\"}\nnot json\n{\"id\":\"b\"}\n"), 0o644)
	if _, err := OpenCache(path); err == nil || !strings.Contains(err.Error(), "features.jsonl:2") {
		t.Errorf("malformed line: err %v, want it to name features.jsonl:2", err)
	}
}

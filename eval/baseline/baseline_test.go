package baseline

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/mobilenet"
)

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
	full := slices.Concat(BitrateNames, nss.NSSNames, describe.SignalNames)
	bs := Baselines(full)
	ridges := map[string][]string{}
	var order []string
	for _, b := range bs {
		if b.Kind == KindRidge {
			ridges[b.Name] = b.Features
			order = append(order, b.Name)
		}
	}
	if !slices.Equal(order, []string{"ridge_brisque", "ridge_nss", "ridge_all", "ridge_signals"}) || len(bs) != 5+len(full) {
		t.Errorf("full feature set: ridges %v, %d baselines", order, len(bs))
	}
	// krr_signals: the kernel fit of ridge_signals' features.
	if i := slices.IndexFunc(bs, func(b Baseline) bool { return b.Name == "krr_signals" }); i < 0 || bs[i].Kind != KindKRR || !slices.Equal(bs[i].Features, full) {
		t.Errorf("krr_signals missing or not on ridge_signals' features")
	}
	// ridge_all keeps its meaning (bit rate and NSS); ridge_signals adds the signals.
	if got, want := ridges["ridge_all"], slices.Concat(BitrateNames, nss.NSSNames); !slices.Equal(got, want) {
		t.Errorf("ridge_all reads %v, want %v", got, want)
	}
	if got := ridges["ridge_signals"]; !slices.Equal(got, full) {
		t.Errorf("ridge_signals reads %v, want %v", got, full)
	}
	for _, b := range Baselines(slices.Concat(BitrateNames, nss.NSSNames)) {
		if b.Name == "ridge_signals" || b.Name == "krr_signals" {
			t.Errorf("%s offered without the signals", b.Name)
		}
	}
	for _, b := range Baselines(nss.NSSNames[:10]) {
		if b.Kind != KindSingle && b.Name != "ridge_all" {
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
	if got, ok := c.Get("v", clip, 8, ""); !ok || got.Features["mscn_var"] != 0.5 {
		t.Errorf("reopened cache: %+v %v", got, ok)
	}
	if c.Len() != 1 {
		t.Errorf("cache has %d entries, want 1 (torn line dropped)", c.Len())
	}
	if _, ok := c.Get("v", clip, 4, ""); ok {
		t.Error("entry reused for a different frame count")
	}
	if _, ok := c.Get("v", clip, 8, "mobilenetv2"); ok {
		t.Error("an entry without pretrained features reused when they are asked for")
	}
	os.WriteFile(clip, []byte("changed content"), 0o644)
	if _, ok := c.Get("v", clip, 8, ""); ok {
		t.Error("entry reused after the file changed")
	}
	// A malformed complete line is an error naming file and line.
	os.WriteFile(path, []byte("{\"id\":\"a\"}\nnot json\n{\"id\":\"b\"}\n"), 0o644)
	if _, err := OpenCache(path); err == nil || !strings.Contains(err.Error(), "features.jsonl:2") {
		t.Errorf("malformed line: err %v, want it to name features.jsonl:2", err)
	}
}

// With pretrained features among the names, three more ridges read them
// (all, the middle stages' channel means, those plus ridge_signals'), a
// kernel ridge the last of those, and no pretrained feature is a single-feature baseline.
func TestBaselinesWithDeep(t *testing.T) {
	classic := slices.Concat(BitrateNames, nss.NSSNames, describe.SignalNames)
	deep := mobilenet.FeatureNames()
	bs := Baselines(slices.Concat(classic, deep))
	ridges := map[string][]string{}
	var order []string
	for _, b := range bs {
		if b.Kind != KindSingle {
			ridges[b.Name], order = b.Features, append(order, b.Name)
		} else if slices.Contains(deep, b.Features[0]) {
			t.Fatalf("pretrained feature %s offered alone", b.Features[0])
		}
	}
	want := []string{"ridge_brisque", "ridge_nss", "ridge_all", "ridge_signals", "ridge_mnv2", "ridge_mnv2mid", "ridge_mnv2mid_signals", "krr_signals", "krr_mnv2mid_signals"}
	if !slices.Equal(order, want) || len(bs) != len(want)+len(classic) {
		t.Fatalf("ridges %v (want %v), %d baselines", order, want, len(bs))
	}
	if !slices.Equal(ridges["ridge_mnv2"], deep) || !slices.Equal(ridges["ridge_signals"], classic) {
		t.Fatal("ridge_mnv2 must read every pretrained feature and ridge_signals none")
	}
	mid := ridges["ridge_mnv2mid"]
	if len(mid) != len(model.MNV2Mid()) || !slices.Equal(ridges["ridge_mnv2mid_signals"], slices.Concat(classic, mid)) {
		t.Fatalf("ridge_mnv2mid reads %d features, want %d; ridge_mnv2mid_signals must be ridge_signals' then those", len(mid), len(model.MNV2Mid()))
	}
	if !slices.Equal(ridges["krr_mnv2mid_signals"], ridges["ridge_mnv2mid_signals"]) {
		t.Fatal("krr_mnv2mid_signals must read ridge_mnv2mid_signals' features")
	}
}

// ExtractDeep hands the extractor the very frames the NSS were measured on
// (RGB, native size) and stores its features by name; an extractor's error
// names the file.
func TestExtractDeep(t *testing.T) {
	testutil.RequireFFmpeg(t)
	clip := testutil.Clip(t, t.TempDir(), "c.mp4", "testsrc2=size=96x64:rate=10:duration=1")
	var seen int
	d := &Deep{Name: "standin", Names: []string{"d_frames", "d_mean"}, Fn: func(frames [][]byte, w, h int) ([]float64, error) {
		seen = len(frames)
		m := 0.0
		for _, f := range frames {
			if len(f) != w*h*3 || w != 96 || h != 64 {
				return nil, fmt.Errorf("frame of %d bytes at %dx%d", len(f), w, h)
			}
			for _, b := range f {
				m += float64(b)
			}
		}
		return []float64{float64(len(frames)), m / float64(len(frames)*w*h*3)}, nil
	}}
	cf, err := ExtractDeep("c", clip, 4, d)
	if err != nil {
		t.Fatal(err)
	}
	if cf.Deep != "standin" || seen != len(cf.Indices) || cf.Features["d_frames"] != float64(len(cf.Indices)) || !(cf.Features["d_mean"] > 1) {
		t.Fatalf("deep %q, extractor saw %d frames of %d decoded, features %v / %v", cf.Deep, seen, len(cf.Indices), cf.Features["d_frames"], cf.Features["d_mean"])
	}
	d.Fn = func([][]byte, int, int) ([]float64, error) { return nil, errors.New("boom") }
	if _, err := ExtractDeep("c", clip, 4, d); err == nil || !strings.Contains(err.Error(), clip) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("a failing extractor: %v", err)
	}
}

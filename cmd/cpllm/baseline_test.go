package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/testutil"
)

// baselineReport is the part of report.json the tests read.
type baselineReport struct {
	NTrain     int `json:"n_train"`
	NTest      int `json:"n_test"`
	Seed       uint64
	Features   []string
	LambdaGrid []float64 `json:"lambda_grid"`
	Results    []struct {
		Baseline, Kind, Protocol string
		N, Folds                 int
		Seed                     uint64
		RawSRCC                  map[string]any `json:"srcc"`
		IDs                      []string
		MOS, Pred                []float64
		Fits                     []struct {
			Lambda, Gamma float64
			Sign          int
		}
	}
}

func readBaselineReport(t *testing.T, out string) baselineReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r baselineReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return r
}

// A manifest of generated clips of falling quality (rising CRF): all three
// protocols run, the report names n, protocol, seed and lambda per
// baseline, and a rerun takes every clip from the features cache.
func TestBaselineCLI(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	var lines, train, test []string
	for i, crf := range []int{8, 14, 20, 26, 30, 34, 38, 42, 46, 50} {
		id := fmt.Sprintf("c%02d", i)
		testutil.Clip(t, dir, id+".mp4", "testsrc2=size=128x96:rate=10:duration=1",
			"-c:v", "libx264", "-preset", "veryfast", "-crf", fmt.Sprint(crf), "-pix_fmt", "yuv420p")
		lines = append(lines, fmt.Sprintf("%s,%s.mp4,%.2f", id, id, 5-float64(crf)/13))
		if i%3 == 2 {
			test = append(test, id)
		} else {
			train = append(train, id)
		}
	}
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos\n"+strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "train.txt"), []byte(strings.Join(train, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "test.txt"), []byte(strings.Join(test, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "out")
	args := []string{"baseline", "--dataset", "manifest", "--root", dir, "--ids", filepath.Join(dir, "train.txt"),
		"--test-ids", filepath.Join(dir, "test.txt"), "--cv", "3", "--loo", "--frames", "2", "--seed", "4",
		"--resamples", "100", "--out", out}
	stdout, err := run(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	rep := readBaselineReport(t, out)
	if rep.NTrain != len(train) || rep.NTest != len(test) || rep.Seed != 4 || len(rep.Features) != 47 || len(rep.LambdaGrid) == 0 {
		t.Fatalf("report: n_train %d n_test %d seed %d, %d features, grid %v", rep.NTrain, rep.NTest, rep.Seed, len(rep.Features), rep.LambdaGrid)
	}
	count := map[string]int{}
	for _, r := range rep.Results {
		count[r.Protocol]++
		wantN := map[string]int{"train-test": len(test), "cv": len(train), "loo": len(train)}[r.Protocol]
		// The test clips have no near-black or near-white pixels: a single
		// clipping fraction is constant and its SRCC undefined (null).
		clipped := r.Kind == "single" && (r.Baseline == "dark_fraction" || r.Baseline == "bright_fraction")
		if r.N != wantN || r.Seed != 4 || (r.RawSRCC["ci_low"] == nil && !clipped) {
			t.Errorf("%s %s: n %d (want %d), seed %d, srcc %v", r.Baseline, r.Protocol, r.N, wantN, r.Seed, r.RawSRCC)
		}
		if r.Protocol == "cv" && (r.Folds != 3 || len(r.Fits) != 3) {
			t.Errorf("%s cv: %d folds, %d fits", r.Baseline, r.Folds, len(r.Fits))
		}
		for _, f := range r.Fits {
			if (r.Kind != "single") != (f.Lambda > 0) || (r.Kind == "krr") != (f.Gamma > 0) || (r.Kind == "single") != (f.Sign != 0) {
				t.Errorf("%s %s: fit %+v", r.Baseline, r.Protocol, f)
			}
		}
	}
	if count["train-test"] != 52 || count["cv"] != 52 || count["loo"] != 52 {
		t.Errorf("results per protocol: %v, want 52 each (4 ridge + 1 krr + 47 single: 2 bit rate, 38 NSS, 7 signals)", count)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, want := range []string{"## Train -> test", "## 3-fold cross-validation", "## Leave-one-out", "| ridge_brisque | ridge |", "seed 4"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, f := range []string{"scatter_ridge_all_loo.png", "scatter_krr_signals_cv.png", "predictions/krr_signals.train-test.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// predictions/<ridge>.<protocol>.csv: the report's predictions, MOS on [1, 5]
	rows, err := predictions.Read(filepath.Join(out, "predictions", "ridge_all.train-test.csv"))
	if err != nil || len(rows) != len(test) {
		t.Fatalf("ridge_all train-test predictions: %d rows, %v", len(rows), err)
	}
	for _, r := range rep.Results {
		if r.Baseline == "ridge_all" && r.Protocol == "train-test" {
			for i, row := range rows {
				if row.ID != r.IDs[i] || row.Pred != r.Pred[i] || math.Abs(row.MOS-r.MOS[i]) > 1e-12 {
					t.Fatalf("row %d %+v, report %s %v %v", i, row, r.IDs[i], r.Pred[i], r.MOS[i])
				}
			}
		}
	}
	cache, _ := os.ReadFile(filepath.Join(out, "features.jsonl"))
	if n := strings.Count(string(cache), "\n"); n != len(lines) {
		t.Errorf("features.jsonl has %d lines, want %d", n, len(lines))
	}
	// A rerun extracts nothing: the cache file does not grow.
	if _, err := run(t, args...); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "features.jsonl")); string(again) != string(cache) {
		t.Error("rerun re-extracted cached clips")
	}
}

func TestBaselineCLIInputErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos\na,a.mp4,3\nb,b.mp4,4\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ids.txt"), []byte("a\nb\n"), 0o644)
	base := []string{"baseline", "--dataset", "manifest", "--root", dir, "--out", filepath.Join(dir, "out")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cv", "0"}, "nothing to evaluate"},
		{[]string{"--cv", "1"}, "--cv must be"},
		{[]string{"--frames", "0"}, "--frames must be positive"},
		{[]string{"--ids", filepath.Join(dir, "ids.txt"), "--test-ids", filepath.Join(dir, "ids.txt")}, `id "a" is in both`},
		{nil, "manifest.csv:2: id \"a\": file"},
	} {
		if _, err := run(t, append(base, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
}

// On real KoNViD-1k clips (a few of each split file, whatever is on disk)
// the CLI runs train -> test and CV end to end.
func TestBaselineCLIRealKoNViD(t *testing.T) {
	root := testutil.RealData(t)
	labels := filepath.Join(root, "labels/VIDEVAL/features/KONVID_1K_metadata.csv")
	dir := t.TempDir()
	pick := func(split string, n int) string {
		b, err := os.ReadFile(filepath.Join(root, "splits", split))
		if err != nil {
			t.Skipf("no split: %v", err)
		}
		var ids []string
		for _, id := range strings.Fields(string(b)) {
			if _, err := os.Stat(filepath.Join(root, "KoNViD-1k/KoNViD_1k_videos", id+".mp4")); err == nil && len(ids) < n {
				ids = append(ids, id)
			}
		}
		if len(ids) < n {
			t.Skipf("fewer than %d clips of %s on disk", n, split)
		}
		p := filepath.Join(dir, split)
		os.WriteFile(p, []byte(strings.Join(ids, "\n")+"\n"), 0o644)
		return p
	}
	out := filepath.Join(dir, "out")
	stdout, err := run(t, "baseline", "--dataset", "konvid1k", "--root", filepath.Join(root, "KoNViD-1k"), "--labels", labels,
		"--ids", pick("konvid1k-train.txt", 6), "--test-ids", pick("konvid1k-dev.txt", 3), "--cv", "3", "--frames", "1",
		"--resamples", "50", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	rep := readBaselineReport(t, out)
	if rep.NTrain != 6 || rep.NTest != 3 || len(rep.Features) != 47 {
		t.Errorf("report: %d train, %d test, %d features", rep.NTrain, rep.NTest, len(rep.Features))
	}
}

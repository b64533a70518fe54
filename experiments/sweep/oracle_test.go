package sweep

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/testutil"
)

type oracleTest struct {
	Stat, P, Holm float64
}

type oracleMetric struct {
	PerSeed   []float64 `json:"per_seed"`
	Mean, Std float64
	CI95      [2]float64 `json:"ci95"`
	SeedMean  float64    `json:"seed_mean"`
	Tests     map[string]oracleTest
}

type oracle struct {
	Seeds    []int
	Videos   int
	Baseline string
	Variants map[string]map[string]oracleMetric
}

func readOracle(t *testing.T, path string) oracle {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return o
}

// fixtureReport builds the report of testdata/report's per-seed predictions
// (written by testdata/gen_report_oracle.py).
func fixtureReport(t *testing.T, from string) *Report {
	t.Helper()
	spec := reportSpec{Name: "oracle", Baseline: "base", Alpha: 0.05, Seeds: []int{1, 2, 3, 4, 5},
		Sets: []string{"test"}, Variants: []string{"base", "better", "same"}}
	read := func(set, variant string, seed int) ([]predictions.Row, error) {
		return predictions.Read(filepath.Join(from, filepath.FromSlash(seedRel(set, variant, seed))))
	}
	rep, err := buildReport(spec, read, ReportOptions{Resamples: 300, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func closeTo(got num, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// Every number of the report that scipy computes: per-seed SRCC/PLCC, their
// mean, std and t interval, the metric of the seed-mean predictions, the
// paired t-test and Wilcoxon over seeds, Williams and Steiger on the
// seed-mean predictions, and the Holm adjustments.
func TestReportAgainstScipy(t *testing.T) {
	want := readOracle(t, "testdata/report_oracle.json")
	rep := fixtureReport(t, "testdata/report")
	er := rep.Eval[0]
	if er.Videos != want.Videos || er.Seeds != len(want.Seeds) {
		t.Fatalf("%d videos, %d seeds; oracle %d, %d", er.Videos, er.Seeds, want.Videos, len(want.Seeds))
	}
	checked := 0
	for _, v := range er.Variants {
		for _, metric := range []string{"srcc", "plcc"} {
			w := want.Variants[v.Name][metric]
			got := v.SRCC
			if metric == "plcc" {
				got = v.PLCC
			}
			for i, x := range w.PerSeed {
				if !closeTo(got.PerSeed[i], x) {
					t.Errorf("%s %s seed %d: %v, scipy %v", v.Name, metric, i+1, got.PerSeed[i], x)
				}
			}
			for _, c := range []struct {
				what string
				got  num
				want float64
			}{{"mean", num(got.Summary.Mean), w.Mean}, {"std", num(got.Summary.Std), w.Std}, {"ci low", got.CI95[0], w.CI95[0]},
				{"ci high", got.CI95[1], w.CI95[1]}, {"seed-mean metric", got.SeedMean, w.SeedMean}} {
				if !closeTo(c.got, c.want) {
					t.Errorf("%s %s %s: %v, scipy %v", v.Name, metric, c.what, c.got, c.want)
				}
			}
			for name, wt := range w.Tests {
				tt := find(v, name, metric)
				if tt.Error != "" || !closeTo(tt.Stat, wt.Stat) || !closeTo(tt.P, wt.P) || !closeTo(tt.Holm, wt.Holm) {
					t.Errorf("%s %s %s: stat %v p %v holm %v (%s); scipy %+v", v.Name, metric, name, tt.Stat, tt.P, tt.Holm, tt.Error, wt)
				}
				checked++
			}
		}
	}
	if checked != 2*2*4 {
		t.Fatalf("%d tests compared with scipy, want 16", checked)
	}
}

// The report of the fixture: every test of the design on both metrics for
// each non-baseline variant, a clear win for "better" on every test that has
// the power for it, files that re-render to the same bytes, and Markdown
// that names the tests, the videos and the seeds.
func TestReportFixture(t *testing.T) {
	rep := fixtureReport(t, "testdata/report")
	er := rep.Eval[0]
	better := er.Variants[1]
	if len(better.Tests) != 2*len(Methods) {
		t.Fatalf("better: %d tests, want %d", len(better.Tests), 2*len(Methods))
	}
	for _, tt := range better.Tests {
		if tt.Videos != 40 || tt.Seeds != 5 {
			t.Errorf("%s %s: %d videos %d seeds", tt.Name, tt.Metric, tt.Videos, tt.Seeds)
		}
		// five seeds give the exact Wilcoxon p at least 1/16
		if tt.Name != "wilcoxon" && (tt.P > 0.05 || float64(tt.Estimate) <= 0) {
			t.Errorf("better vs base %s %s: p %v estimate %v", tt.Name, tt.Metric, tt.P, tt.Estimate)
		}
		if strings.HasPrefix(tt.Name, "bootstrap") && (tt.CI95 == nil || !(tt.CI95[0] > 0 && tt.CI95[0] < tt.CI95[1])) {
			t.Errorf("%s %s: interval %v", tt.Name, tt.Metric, tt.CI95)
		}
	}
	dir := t.TempDir()
	if err := WriteReport(dir, rep); err != nil {
		t.Fatal(err)
	}
	again := fixtureReport(t, dir) // from the copies the report wrote
	if err := WriteReport(filepath.Join(dir, "again"), again); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "again", "report.json"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("the report re-rendered from its own per-seed copies differs")
	}
	mean, err := predictions.Read(filepath.Join(dir, "mean", "test", "better.csv"))
	if err != nil || len(mean) != 40 {
		t.Fatalf("seed-mean file: %v (%d rows)", err, len(mean))
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, s := range []string{"## test (40 videos, 5 seeds)", "**bootstrap-hierarchical** (per-seed predictions)",
		"**williams** (seed-mean predictions)", "p-values on SRCC", "p-values on PLCC", "| better |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if strings.Contains(string(md)+string(a), "pooled") {
		t.Error("the report mentions pooled predictions")
	}
}

// The committed fixture and oracle are what the generator writes.
func TestReportOracleRegenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	py := testutil.RequireScipy(t, "1.10.")
	dir := t.TempDir()
	if b, err := exec.Command(py, "testdata/gen_report_oracle.py", dir).CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	n := 0
	for rel, want := range tree(t, "testdata") {
		if !strings.HasPrefix(rel, "report/") {
			continue
		}
		n++
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: regenerated file differs (%v)", rel, err)
		}
	}
	if n != 15 {
		t.Errorf("%d committed prediction files, want 3 variants x 5 seeds", n)
	}
	// scipy's last bits may differ between CPUs: compare the oracle's numbers
	got, want := readOracle(t, filepath.Join(dir, "report_oracle.json")), readOracle(t, "testdata/report_oracle.json")
	gj, _ := json.Marshal(got)
	for v, ms := range want.Variants {
		for m, w := range ms {
			g := got.Variants[v][m]
			vals := func(o oracleMetric) []float64 {
				out := append([]float64{o.Mean, o.Std, o.SeedMean, o.CI95[0], o.CI95[1]}, o.PerSeed...)
				for _, name := range []string{"t-test", "wilcoxon", "williams", "steiger"} {
					out = append(out, o.Tests[name].Stat, o.Tests[name].P, o.Tests[name].Holm)
				}
				return out
			}
			a, b := vals(g), vals(w)
			for i := range b {
				if !closeTo(num(a[i]), b[i]) {
					t.Errorf("%s %s value %d: regenerated %v, committed %v\n%s", v, m, i, a[i], b[i], gj)
				}
			}
		}
	}
}

package nightly

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/eval/suite"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Night 1 (good checkpoint) passes; night 2 (a checkpoint trained on
// inverted labels) regresses with the dataset and p-value named; night 3
// crashes mid-run and leaves every summary byte-identical; night 4 runs
// again, cleans the crash's leftovers and compares with the baseline too.
func TestNightly(t *testing.T) {
	dir := t.TempDir()
	good := evaltest.Train(t, filepath.Join(dir, "good"), evaltest.TrainOptions{})
	bad := evaltest.Train(t, filepath.Join(dir, "bad"), evaltest.TrainOptions{Invert: true})
	a, b := filepath.Join(dir, "eval-a"), filepath.Join(dir, "eval-b")
	evaltest.WriteShards(t, a, 20, 5, false)
	evaltest.WriteShards(t, b, 16, 6, false)
	out := filepath.Join(dir, "nightly")
	cfg := Config{Checkpoint: good, Out: out, MaxDrop: 0.02, Alpha: 0.05, Test: "bootstrap", Resamples: 200,
		Datasets: []suite.Dataset{{Name: "synth-a", Shards: a}, {Name: "synth-b", Shards: b}}}
	night := func(date string, c Config, hook func(string) error) (*Result, error) {
		return Run(context.Background(), Options{Config: c, Date: date, Params: evaltest.Params(), Seed: 1, AfterDataset: hook})
	}

	r1, err := night("2026-01-01", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Previous != "" || len(r1.Comparisons) != 0 || len(r1.Regressions()) != 0 || r1.Report.Datasets["synth-a"].Metrics.SRCC.Value < 0.9 {
		t.Fatalf("night 1: %+v", r1)
	}

	cfgBad := cfg
	cfgBad.Checkpoint = bad
	r2, err := night("2026-01-02", cfgBad, nil)
	if err != nil {
		t.Fatal(err)
	}
	regs := r2.Regressions()
	if r2.Previous != filepath.Join(out, "2026-01-01") || len(regs) != 2 || regs[0].Dataset != "synth-a" || regs[0].N != 20 {
		t.Fatalf("night 2: previous %q regressions %+v", r2.Previous, regs)
	}
	if regs[0].Delta.Value > -1 || regs[0].P >= 0.05 || regs[0].Williams.P >= 0.05 || regs[0].Steiger.P >= 0.05 {
		t.Fatalf("night 2: a drop from ~1 to ~-1 must be significant: %+v", regs[0])
	}
	sum2 := read(t, filepath.Join(out, "summary.md"))
	run2 := read(t, filepath.Join(out, "2026-01-02", "summary.md"))
	line := RegressionLine(regs[0], "bootstrap", 200)
	for _, s := range []string{"**REGRESSION** " + line, "synth-a", "p<0.005", "2026-01-02/trend-synth-a.png"} {
		if !strings.Contains(string(sum2), s) {
			t.Errorf("summary.md lacks %q:\n%s", s, sum2)
		}
	}
	if !strings.Contains(string(run2), "](trend-synth-b.png)") {
		t.Errorf("run summary links:\n%s", run2)
	}
	for _, f := range []string{"report.json", "report.md", "compare.json", "predictions/synth-a.csv", "plots/synth-b.png", "trend-synth-a.png"} {
		if _, err := os.Stat(filepath.Join(out, "2026-01-02", f)); err != nil {
			t.Errorf("run 2 lacks %s", f)
		}
	}

	// Night 3 crashes after its first dataset.
	before := listDir(t, out)
	boom := errors.New("injected crash")
	_, err = night("2026-01-03", cfg, func(name string) error {
		if name == "synth-a" {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("night 3: %v", err)
	}
	if !slices.Equal(read(t, filepath.Join(out, "summary.md")), sum2) || !slices.Equal(read(t, filepath.Join(out, "2026-01-02", "summary.md")), run2) {
		t.Fatal("a failed run changed a summary")
	}
	if after := listDir(t, out); !slices.Equal(after, before) {
		t.Fatalf("a failed run left %v (before %v)", after, before)
	}
	// A kill -9 leaves its temp directory; the next run removes it.
	os.MkdirAll(filepath.Join(out, ".2026-01-03.tmp-123", "predictions"), 0o755)

	cfg.Baseline = filepath.Join(out, "2026-01-01")
	r4, err := night("2026-01-03", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r4.Regressions()) != 0 || len(r4.Comparisons) != 4 {
		t.Fatalf("night 4: %+v", r4.Comparisons)
	}
	for _, c := range r4.Comparisons {
		if c.Against == "baseline" && (c.Delta.Value != 0 || c.Regressed) {
			t.Errorf("same checkpoint as the baseline: %+v", c)
		}
	}
	if got := listDir(t, out); !slices.Equal(got, []string{".lock", "2026-01-01", "2026-01-02", "2026-01-03", "summary.md"}) {
		t.Fatalf("runs dir: %v", got)
	}
	if runs, _ := Runs(out); len(runs) != 3 {
		t.Fatalf("runs %v", runs)
	}
}

func TestLockAndConfig(t *testing.T) {
	out := t.TempDir()
	unlock, err := lock(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock(out); err == nil || !strings.Contains(err.Error(), "another run holds") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	if _, err := lock(out); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	c, err := LoadConfig(evaltest.RepoFile("configs", "nightly.yaml"))
	if err != nil {
		t.Fatalf("configs/nightly.yaml: %v", err)
	}
	if c.Alpha != 0.05 || c.Test != "bootstrap" || len(c.Datasets) == 0 {
		t.Fatalf("%+v", c)
	}
	bad := filepath.Join(t.TempDir(), "n.yaml")
	os.WriteFile(bad, []byte("checkpoint: x\nalpah: 0.1\n"), 0o644)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "n.yaml:2: unknown key \"alpah\"") {
		t.Fatalf("typo: %v", err)
	}
}

func writePreds(t *testing.T, dir, name string, rows []predictions.Row) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "predictions"), 0o755)
	var buf bytes.Buffer
	if err := predictions.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "predictions", name+".csv"), buf.Bytes(), 0o644)
}

// compareRuns on hand-made files: id matching, empty files, each test.
func TestCompareRuns(t *testing.T) {
	oldDir, newDir := t.TempDir(), t.TempDir()
	var old, cur []predictions.Row
	for i := range 30 {
		mos := 1 + float64(i)/10
		old = append(old, predictions.Row{ID: fmt.Sprint("v", i), Pred: mos + 0.05*float64(i%3), MOS: mos})
		cur = append(cur, predictions.Row{ID: fmt.Sprint("v", i), Pred: 5 - mos, MOS: mos}) // ranks reversed
	}
	cur[0].MOS = 9                                                 // a changed label: left out
	cur = append(cur, predictions.Row{ID: "new", Pred: 1, MOS: 1}) // only in the new run
	writePreds(t, oldDir, "d", old)
	writePreds(t, newDir, "d", cur)
	for _, test := range Tests {
		c := Config{MaxDrop: 0.02, Alpha: 0.05, Test: test, Resamples: 200}
		cmp, ok, err := compareRuns("d", "previous", newDir, oldDir, c, 1)
		if err != nil || !ok || cmp.N != 29 || !cmp.Regressed || cmp.SRCCNew != -1 || !strings.Contains(cmp.Note, "1 ids only in the new run, 0 only in the old, 1 with a changed MOS") {
			t.Fatalf("%s: %+v %v %v", test, cmp, ok, err)
		}
		want := map[string]float64{"bootstrap": cmp.Delta.P, "williams": cmp.Williams.P, "steiger": cmp.Steiger.P}[test]
		if cmp.P != want && !(math.IsNaN(cmp.P) && math.IsNaN(want)) {
			t.Errorf("%s: p %v, want %v", test, cmp.P, want)
		}
	}
	if _, ok, err := compareRuns("other", "previous", newDir, oldDir, Config{Test: "bootstrap"}, 1); ok || err != nil {
		t.Fatalf("a dataset the old run lacks: %v %v", ok, err)
	}
	os.WriteFile(filepath.Join(oldDir, "predictions", "d.csv"), []byte("id,pred,mos\n"), 0o644)
	cmp, ok, err := compareRuns("d", "previous", newDir, oldDir, Config{Test: "bootstrap"}, 1)
	if err != nil || !ok || cmp.Regressed || !strings.Contains(cmp.Note, "no test") {
		t.Fatalf("empty old file: %+v %v", cmp, err)
	}
}

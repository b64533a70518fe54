package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/testutil"
)

var (
	fixtureDir  string
	fixtureOnce sync.Once
	fixtureRun  string
)

func TestMain(m *testing.M) {
	var err error
	if fixtureDir, err = os.MkdirTemp("", "suite-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(fixtureDir)
	os.Exit(code)
}

// checkpoint is a tiny model trained once per test binary.
func checkpoint(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureRun = evaltest.Train(t, filepath.Join(fixtureDir, "good"), evaltest.TrainOptions{Steps: 40})
	})
	if fixtureRun == "" {
		t.Fatal("fixture checkpoint failed in an earlier test")
	}
	return fixtureRun
}

func loadScorer(t *testing.T, ckpt string) *Scorer {
	t.Helper()
	mc, _, err := ModelConfigFor(ckpt, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(mc, ckpt, evaltest.Params())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readPreds(t *testing.T, path string) (ids []string, pred, mos []float64) {
	t.Helper()
	rows, err := predictions.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	pred, mos = predictions.Columns(rows)
	return ids, pred, mos
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("%s: %v", path, b)
	}
}

// The real KoNViD-1k folder, with however many of the 1200 clips it holds:
// every present clip is scored, the others listed as missing, and the
// metrics are those of the predictions file. Counts come from the folder and
// the label file, read independently.
func TestEvalRealKoNViD(t *testing.T) {
	rd := testutil.RealData(t)
	root := filepath.Join(rd, "KoNViD-1k")
	labels := filepath.Join(rd, "labels", "VIDEVAL", "features", "KONVID_1K_metadata.csv")
	sc := loadScorer(t, checkpoint(t))
	out := t.TempDir()
	ds := []Dataset{{Name: "konvid1k", Root: root, Labels: labels}}
	var progress strings.Builder
	rep, err := Run(context.Background(), Options{Scorers: []*Scorer{sc}, Datasets: ds, OutDir: out, Resamples: 200, Seed: 3, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the files on disk and the label file read independently.
	entries, err := os.ReadDir(filepath.Join(root, "KoNViD_1k_videos"))
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[strings.TrimSuffix(e.Name(), ".mp4")] = true
	}
	recs, err := datasets.Load("konvid1k", datasets.Options{Root: root, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	mosOf := map[string]float64{}
	var wantMissing []string
	for _, r := range recs {
		mosOf[r.ID] = r.MOSNorm
		if !present[r.ID] {
			wantMissing = append(wantMissing, r.ID)
		}
	}
	nPresent := len(recs) - len(wantMissing)
	if nPresent < 3 {
		t.Skipf("only %d labelled KoNViD-1k clips present; metrics need 3", nPresent)
	}
	d := rep.Datasets["konvid1k"]
	if d.N != nPresent || d.Total != len(recs) || len(d.Missing) != len(wantMissing) || len(d.Failed) != 0 || !slices.Equal(d.Missing, wantMissing) {
		t.Fatalf("n=%d total=%d missing=%d failed=%v; want %d of %d", d.N, d.Total, len(d.Missing), d.Failed, nPresent, len(recs))
	}
	ids, pred, mos := readPreds(t, filepath.Join(out, "predictions", "konvid1k.csv"))
	if len(ids) != nPresent {
		t.Fatalf("%d predictions", len(ids))
	}
	for i, id := range ids {
		if !present[id] || mos[i] != mosOf[id] || pred[i] < 1 || pred[i] > 5 {
			t.Errorf("row %s pred %v mos %v (label %v)", id, pred[i], mos[i], mosOf[id])
		}
	}
	want, err := metrics.Compute(pred, mos, metrics.Options{Resamples: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.Metrics == nil || d.Metrics.SRCC != want.SRCC || d.Metrics.PLCC4PL != want.PLCC4PL || d.Metrics.Resamples != 200 {
		t.Fatalf("metrics %+v, want %+v", d.Metrics, want)
	}
	// report.json round-trips; report.md has the CIs and the counts.
	back, err := ReadReport(filepath.Join(out, "report.json"))
	if err != nil || len(back.Datasets["konvid1k"].Missing) != len(wantMissing) || back.Datasets["konvid1k"].Metrics.SRCC != want.SRCC {
		t.Fatalf("report.json: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	row := fmt.Sprintf("| konvid1k | %d of %d | %d | 0 |", nPresent, len(recs), len(wantMissing))
	for _, s := range []string{row, FormatCI(want.SRCC), fmt.Sprintf("%d missing files", len(wantMissing)), "plots/konvid1k.png"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if !strings.Contains(FormatCI(want.SRCC), "[") {
		t.Errorf("SRCC without a CI: %s", FormatCI(want.SRCC))
	}
	checkPNG(t, filepath.Join(out, "plots", "konvid1k.png"))
	if !strings.Contains(progress.String(), "eval konvid1k") {
		t.Errorf("no progress output: %q", progress.String())
	}
	// The per-video path (cpllm score) gives the same score as the run.
	res, err := sc.Score(filepath.Join(root, "KoNViD_1k_videos", ids[0]+".mp4"), ScoreOptions{})
	if err != nil || res.Score != pred[0] || res.Timing.Sample <= 0 || res.Timing.Score <= 0 {
		t.Fatalf("Score: %+v %v, run predicted %v", res, err, pred[0])
	}
}

// A corrupt and a truncated video are listed as failed, a missing one as
// missing; the others are scored.
func TestEvalCorruptAndMissing(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	var lines []string
	for i, src := range []string{"testsrc2", "testsrc", "smptebars", "rgbtestsrc"} {
		name := fmt.Sprintf("c%d.mp4", i)
		testutil.Clip(t, dir, name, src+"=size=96x64:rate=10:duration=0.5")
		lines = append(lines, fmt.Sprintf("c%d,%s,%g", i, name, 1.5+float64(i)))
	}
	os.WriteFile(filepath.Join(dir, "corrupt.mp4"), []byte("not a video at all"), 0o644)
	good, _ := os.ReadFile(filepath.Join(dir, "c0.mp4"))
	os.WriteFile(filepath.Join(dir, "trunc.mp4"), good[:len(good)/3], 0o644)
	lines = append(lines, "bad,corrupt.mp4,2", "cut,trunc.mp4,3", "gone,gone.mp4,4")
	manifest := filepath.Join(dir, "manifest.csv")
	os.WriteFile(manifest, []byte("id,path,mos\n"+strings.Join(lines, "\n")+"\n"), 0o644)

	out := t.TempDir()
	rep, err := Run(context.Background(), Options{Scorers: []*Scorer{loadScorer(t, checkpoint(t))}, OutDir: out, Resamples: 50,
		Datasets: []Dataset{{Name: "mini", Loader: "manifest", Labels: manifest}}})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Datasets["mini"]
	var failed []string
	for _, f := range d.Failed {
		failed = append(failed, f.ID)
		if !strings.Contains(f.Error, f.Path) || f.Path == "" {
			t.Errorf("failure %+v does not name its file", f)
		}
	}
	slices.Sort(failed)
	if d.N != 4 || d.Total != 7 || !slices.Equal(failed, []string{"bad", "cut"}) || !slices.Equal(d.Missing, []string{"gone"}) {
		t.Fatalf("n=%d total=%d failed=%v missing=%v", d.N, d.Total, d.Failed, d.Missing)
	}
	ids, _, _ := readPreds(t, filepath.Join(out, "predictions", "mini.csv"))
	if !slices.Equal(ids, []string{"c0", "c1", "c2", "c3"}) {
		t.Fatalf("predicted ids %v", ids)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, s := range []string{"| mini | 4 of 7 | 1 | 2 |", "Failed (2, excluded from the metrics)", "`bad`: ", "`cut`: "} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q:\n%s", s, md)
		}
	}
	var raw map[string]any
	js, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if err := json.Unmarshal(js, &raw); err != nil || raw["datasets"].(map[string]any)["mini"].(map[string]any)["failed"] == nil {
		t.Fatalf("report.json: %v", err)
	}
}

// With two checkpoints: one prediction file each, the main file is their
// mean, and the aggregate equals metrics.Aggregate of the per-file metrics.
func TestEvalMultiCheckpoint(t *testing.T) {
	test := filepath.Join(t.TempDir(), "test")
	evaltest.WriteShards(t, test, 20, 5, false)
	other := evaltest.Train(t, filepath.Join(t.TempDir(), "other"), evaltest.TrainOptions{Steps: 15, Seed: 2})
	scorers := []*Scorer{loadScorer(t, checkpoint(t)), loadScorer(t, other)}
	out := t.TempDir()
	rep, err := Run(context.Background(), Options{Scorers: scorers, OutDir: out, Resamples: 100, Seed: 9,
		Datasets: []Dataset{{Name: "synth", Shards: test}}})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Datasets["synth"]
	if d.N != 20 || len(d.PerCheckpoint) != 2 {
		t.Fatalf("n=%d per-checkpoint %d", d.N, len(d.PerCheckpoint))
	}
	idsMean, mean, mos := readPreds(t, filepath.Join(out, "predictions", "synth.csv"))
	vals := make([][]float64, len(MetricNames))
	var sum []float64
	for k, name := range []string{"good", "other"} {
		ids, pred, m := readPreds(t, filepath.Join(out, "predictions", "synth."+name+".csv"))
		if !slices.Equal(ids, idsMean) || !slices.Equal(m, mos) {
			t.Fatalf("%s: ids or MOS differ from the mean file", name)
		}
		if sum == nil {
			sum = make([]float64, len(pred))
		}
		for i, p := range pred {
			sum[i] += p / 2
		}
		r, err := metrics.Compute(pred, m, metrics.Options{Resamples: 100, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		for i, ci := range MetricCIs(&r) {
			vals[i] = append(vals[i], ci.Value)
		}
		if got := d.PerCheckpoint[k].Metrics.SRCC; got != r.SRCC {
			t.Errorf("%s SRCC %v, want %v", name, got, r.SRCC)
		}
	}
	for i := range mean {
		if math.Abs(mean[i]-sum[i]) > 1e-12 {
			t.Fatalf("mean prediction %d: %v, want %v", i, mean[i], sum[i])
		}
	}
	for i, name := range MetricNames {
		want, err := metrics.Aggregate(vals[i])
		if err != nil {
			t.Fatal(err)
		}
		got, ok := d.Aggregate[name]
		if !ok || math.Abs(got.Mean-want.Mean) > 1e-12 || math.Abs(got.Std-want.Std) > 1e-12 || got.Min != want.Min || got.Max != want.Max || got.N != 2 {
			t.Errorf("aggregate %s: %+v, want %+v", name, got, want)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	s := d.Aggregate["srcc"]
	if !strings.Contains(string(md), fmt.Sprintf("%s ± %s [%s, %s]", f4(s.Mean), f4(s.Std), f4(s.Min), f4(s.Max))) {
		t.Errorf("report.md lacks the SRCC spread:\n%s", md)
	}
	if v := d.PerCheckpoint[0].Metrics.SRCC.Value; v < 0.9 {
		t.Errorf("SRCC %v on brightness-coded shards: the fixture did not learn", v)
	}
}

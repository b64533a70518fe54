package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/model"
)

// ReportOptions set the bootstraps (as `cpllm compare --resamples` and the
// global --seed) and where the per-seed predictions come from.
type ReportOptions struct {
	Resamples int
	Seed      uint64
	// From, when set, is a report directory whose seeds/<set>/<variant>/
	// seed<k>.csv files (written by every report) are read instead of the
	// cells' predictions: a committed report re-rendered without its runs.
	From string
}

// Report is report.json. Everything in it is a function of the per-seed
// prediction files and the experiment, so it is byte-reproducible.
type Report struct {
	Experiment    string       `json:"experiment"`
	Baseline      string       `json:"baseline"`
	Alpha         float64      `json:"alpha"`
	Seeds         []int        `json:"seeds"`
	Resamples     int          `json:"resamples"`
	BootstrapSeed uint64       `json:"bootstrap_seed"`
	Methods       []Method     `json:"methods"` // what each test name in Eval means
	Eval          []EvalReport `json:"eval"`

	files map[string][]predictions.Row // relative path -> rows, written by WriteReport
}

// EvalReport is one test set's table.
type EvalReport struct {
	Name     string          `json:"name"`
	Videos   int             `json:"videos"` // scored by every seed of every variant
	Seeds    int             `json:"seeds"`
	Variants []VariantReport `json:"variants"`
}

// VariantReport is one row: metrics over seeds and tests against the baseline.
type VariantReport struct {
	Name          string        `json:"name"`
	Baseline      bool          `json:"baseline"`
	Trainable     int64         `json:"trainable"`
	Frozen        int64         `json:"frozen"`
	CapacityKey   string        `json:"capacity_key,omitempty"`
	CapacityValue int           `json:"capacity_value,omitempty"`
	SeedFiles     []string      `json:"seed_files"` // per-seed predictions, relative to the report directory
	MeanFile      string        `json:"mean_file"`  // each video's prediction averaged over seeds
	SRCC          MetricSummary `json:"srcc"`
	PLCC          MetricSummary `json:"plcc"`
	Tests         []Test        `json:"tests,omitempty"` // vs the baseline
}

// MetricSummary is one metric over seeds.
type MetricSummary struct {
	PerSeed  []num           `json:"per_seed"`
	Summary  metrics.Summary `json:"summary"`   // mean, sample std (ddof 1), min, max over seeds
	CI95     [2]num          `json:"ci95"`      // t interval of the mean over seeds (df = seeds - 1)
	SeedMean num             `json:"seed_mean"` // the metric of the seed-mean predictions (MeanFile)
}

// Test is one significance test against the baseline (see Methods). Holm is
// the adjusted p-value over the variants compared in the same test set with
// the same test and metric; Significant is Holm <= alpha.
type Test struct {
	Name   string `json:"name"`   // t-test | wilcoxon | williams | steiger | bootstrap-videos | bootstrap-hierarchical
	Metric string `json:"metric"` // srcc | plcc
	Videos int    `json:"videos"`
	Seeds  int    `json:"seeds"`
	// Estimate is variant minus baseline: the mean per-seed difference
	// (t-test, wilcoxon, bootstrap-hierarchical) or the difference on the
	// seed-mean predictions (williams, steiger, bootstrap-videos).
	Estimate    num     `json:"estimate"`
	CI95        *[2]num `json:"ci95,omitempty"` // bootstrap percentile interval of Estimate
	Stat        num     `json:"stat"`
	P           num     `json:"p"`
	Holm        num     `json:"holm"`
	Significant bool    `json:"significant"`
	Error       string  `json:"error,omitempty"`
}

// Method describes one test of the report.
type Method struct {
	Name        string `json:"name"`
	Data        string `json:"data"` // what the test is computed on
	Description string `json:"description"`
}

// Methods are the report's tests, in table order.
var Methods = []Method{
	{"t-test", "per-seed metric, paired by seed", "two-sided paired t-test (scipy.stats.ttest_rel), df = seeds - 1"},
	{"wilcoxon", "per-seed metric, paired by seed", "two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon defaults: exact null distribution up to 50 seeds without zero differences)"},
	{"williams", "seed-mean predictions", "Williams' t (df = videos - 3) for two correlations with MOS sharing MOS, on each video's prediction averaged over seeds (for SRCC on ranks)"},
	{"steiger", "seed-mean predictions", "Steiger's (1980) Z1* for the same hypothesis, on the same predictions"},
	{"bootstrap-videos", "seed-mean predictions", "paired percentile bootstrap over videos of the metric difference; p = min(1, 2 min(#d <= 0, #d >= 0) / #d)"},
	{"bootstrap-hierarchical", "per-seed predictions", "bootstrap of the difference of the mean per-seed metric resampling videos (one draw shared by all seeds and both variants) and seeds (paired by seed); p as bootstrap-videos"},
}

// num is a float64 written as null when NaN or infinite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// ReportDir is out/<experiment>/report.
func (e *Experiment) ReportDir(out string) string { return filepath.Join(e.Root(out), "report") }

// Paths of the prediction files a report directory holds.
func seedRel(set, variant string, seed int) string {
	return fmt.Sprintf("seeds/%s/%s/seed%d.csv", set, variant, seed)
}

func meanRel(set, variant string) string { return fmt.Sprintf("mean/%s/%s.csv", set, variant) }

// reportSpec is what the statistics need of an experiment.
type reportSpec struct {
	Name, Baseline string
	Alpha          float64
	Seeds          []int
	Sets           []string
	Variants       []string
}

// readSeed returns one variant's predictions on one test set for one seed.
type readSeed func(set, variant string, seed int) ([]predictions.Row, error)

// BuildReport reads every cell's predictions (all must be done, with the
// experiment's current configuration), or the per-seed files of
// o.From, and computes the report. WriteReport writes it with copies of
// the per-seed predictions and the seed-mean predictions.
func BuildReport(e *Experiment, out string, o ReportOptions) (*Report, error) {
	read := func(set, variant string, seed int) ([]predictions.Row, error) {
		c := Cell{Variant: e.Variant(variant), Seed: seed}
		return predictions.Read(filepath.Join(e.Dir(out, c), PredDir, set+".csv"))
	}
	if o.From != "" {
		read = func(set, variant string, seed int) ([]predictions.Row, error) {
			return predictions.Read(filepath.Join(o.From, filepath.FromSlash(seedRel(set, variant, seed))))
		}
	} else if err := e.checkCells(out); err != nil {
		return nil, err
	}
	spec := reportSpec{Name: e.Name, Baseline: e.Baseline, Alpha: e.Alpha, Seeds: e.Seeds}
	for _, s := range e.Data.Eval {
		spec.Sets = append(spec.Sets, s.Name)
	}
	for _, v := range e.Variants {
		spec.Variants = append(spec.Variants, v.Name)
	}
	rep, err := buildReport(spec, read, o)
	if err != nil {
		return nil, err
	}
	for i := range rep.Eval {
		for j := range rep.Eval[i].Variants {
			vr := &rep.Eval[i].Variants[j]
			v := e.Variant(vr.Name)
			vr.Trainable, vr.Frozen = v.Trainable(), v.Frozen()
			vr.CapacityKey, vr.CapacityValue = v.CapacityMatch()
		}
	}
	return rep, nil
}

// buildReport reads the per-seed predictions of every (set, variant, seed)
// and computes the statistics.
func buildReport(spec reportSpec, read readSeed, o ReportOptions) (*Report, error) {
	rep := &Report{Experiment: spec.Name, Baseline: spec.Baseline, Alpha: spec.Alpha, Seeds: spec.Seeds,
		Resamples: o.Resamples, BootstrapSeed: o.Seed, Methods: Methods, files: map[string][]predictions.Row{}}
	if rep.Resamples == 0 {
		rep.Resamples = metrics.DefaultResamples
	}
	base := -1
	for i, v := range spec.Variants {
		if v == spec.Baseline {
			base = i
		}
	}
	if base < 0 {
		return nil, fmt.Errorf("sweep report: baseline %q is not a variant", spec.Baseline)
	}
	for _, set := range spec.Sets {
		// rows[v][s], every seed aligned to the baseline's first seed
		rows := make([][][]predictions.Row, len(spec.Variants))
		var ref []predictions.Row
		refName := ""
		for _, vi := range append([]int{base}, others(len(spec.Variants), base)...) {
			v := spec.Variants[vi]
			for _, s := range spec.Seeds {
				r, err := read(set, v, s)
				if err != nil {
					return nil, fmt.Errorf("sweep report: test set %s, variant %s, seed %d: %w", set, v, s, err)
				}
				name := fmt.Sprintf("%s seed %d", v, s)
				if ref == nil {
					ref, refName = r, name
				} else if r, err = predictions.Align(ref, r, refName, name); err != nil {
					return nil, fmt.Errorf("sweep report: test set %s: %w", set, err)
				}
				rows[vi] = append(rows[vi], r)
				rep.files[seedRel(set, v, s)] = r
			}
		}
		er := computeSet(set, spec, base, rows, o)
		for i := range er.Variants {
			vr := &er.Variants[i]
			for _, s := range spec.Seeds {
				vr.SeedFiles = append(vr.SeedFiles, seedRel(set, vr.Name, s))
			}
			vr.MeanFile = meanRel(set, vr.Name)
			rep.files[vr.MeanFile] = meanRows(rows[i])
		}
		rep.Eval = append(rep.Eval, er)
	}
	return rep, nil
}

// others lists 0..n-1 without skip.
func others(n, skip int) []int {
	var out []int
	for i := range n {
		if i != skip {
			out = append(out, i)
		}
	}
	return out
}

// meanRows averages aligned per-seed rows video by video.
func meanRows(seeds [][]predictions.Row) []predictions.Row {
	out := make([]predictions.Row, len(seeds[0]))
	for i, r := range seeds[0] {
		out[i] = predictions.Row{ID: r.ID, MOS: r.MOS}
		for _, s := range seeds {
			out[i].Pred += s[i].Pred / float64(len(seeds))
		}
	}
	return out
}

// checkCells fails unless every cell is done with the experiment's current
// configuration, listing what is missing.
func (e *Experiment) checkCells(out string) error {
	var missing, stale []string
	for _, c := range e.Cells() {
		dir := e.Dir(out, c)
		if e.Status(out, c) != StatusDone {
			missing = append(missing, dir)
			continue
		}
		same, err := c.sameConfigs(dir)
		if err != nil {
			return err
		}
		if !same {
			stale = append(stale, dir)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sweep report: %d of %d cells are not done (run the sweep, or gather every shard's runs dir): %s",
			len(missing), len(e.Cells()), strings.Join(head(missing), ", "))
	}
	if len(stale) > 0 {
		return fmt.Errorf("sweep report: %d cells were run with another model or recipe than %s now gives: %s",
			len(stale), e.File, strings.Join(head(stale), ", "))
	}
	return nil
}

// sameConfigs reports whether the cell directory holds the model, tokenizer
// and recipe the experiment now gives. The cell's model.yaml names its copy
// of the tokenizer (model.WriteModelFiles), so the tokenizer is compared by
// content.
func (c Cell) sameConfigs(dir string) (bool, error) {
	mc, _, my, ty, err := c.Variant.cellConfigs(c.Seed)
	if err != nil {
		return false, err
	}
	if my, err = model.ModelFileYAML(my); err != nil {
		return false, err
	}
	want, err := os.ReadFile(mc.Tokenizer)
	if err != nil {
		return false, err
	}
	hm, _ := os.ReadFile(filepath.Join(dir, ModelFile))
	ht, _ := os.ReadFile(filepath.Join(dir, TrainFile))
	hk, _ := os.ReadFile(filepath.Join(dir, model.TokenizerFile))
	return bytes.Equal(hm, my) && bytes.Equal(ht, ty) && bytes.Equal(hk, want), nil
}

func head(v []string) []string {
	if len(v) > 5 {
		return append(v[:5:5], fmt.Sprintf("and %d more", len(v)-5))
	}
	return v
}

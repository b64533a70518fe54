package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/cpllm/cpllm/eval/compare"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/fsutil"
)

// ReportOptions set the pooled bootstrap (as `cpllm compare --resamples`
// and the global --seed).
type ReportOptions struct {
	Resamples int
	Seed      uint64
}

// Report is report.json. Everything in it is a function of the cells'
// prediction files and the experiment, so it is byte-reproducible.
type Report struct {
	Experiment    string       `json:"experiment"`
	Baseline      string       `json:"baseline"`
	Alpha         float64      `json:"alpha"`
	Seeds         []int        `json:"seeds"`
	Resamples     int          `json:"resamples"`
	BootstrapSeed uint64       `json:"bootstrap_seed"`
	Note          string       `json:"note"`
	Eval          []EvalReport `json:"eval"`
}

// EvalReport is one test set's table.
type EvalReport struct {
	Name     string          `json:"name"`
	N        int             `json:"n"` // videos per seed
	Variants []VariantReport `json:"variants"`
}

// VariantReport is one row: metrics over seeds and tests against the baseline.
type VariantReport struct {
	Name          string          `json:"name"`
	Baseline      bool            `json:"baseline"`
	Trainable     int64           `json:"trainable"`
	Frozen        int64           `json:"frozen"`
	CapacityKey   string          `json:"capacity_key,omitempty"`
	CapacityValue int             `json:"capacity_value,omitempty"`
	PooledFile    string          `json:"pooled_file"` // relative to the report directory
	SRCC          MetricSummary   `json:"srcc"`
	PLCC          MetricSummary   `json:"plcc"`
	Tests         []Test          `json:"tests,omitempty"`   // vs the baseline
	Compare       *compare.Result `json:"compare,omitempty"` // `cpllm compare POOLED BASELINE_POOLED`
}

// MetricSummary is one metric over seeds.
type MetricSummary struct {
	PerSeed []num           `json:"per_seed"`
	Summary metrics.Summary `json:"summary"`
	CI95    [2]num          `json:"ci95"`   // t interval of the mean over seeds
	Pooled  metrics.CI      `json:"pooled"` // on the pooled predictions, bootstrap CI
}

// Test is one significance test against the baseline. Holm is the
// adjusted p-value over the variants compared in the same test set with the
// same test; Significant is Holm <= alpha.
type Test struct {
	Name        string `json:"name"`   // t-test | wilcoxon | williams | steiger | bootstrap
	Metric      string `json:"metric"` // srcc | plcc
	Stat        num    `json:"stat"`
	P           num    `json:"p"`
	Holm        num    `json:"holm"`
	Significant bool   `json:"significant"`
	Error       string `json:"error,omitempty"`
}

// num is a float64 written as null when NaN or infinite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

const reportNote = "t-test and wilcoxon pair the per-seed metric of the variant and the baseline by seed; " +
	"williams, steiger (dependent correlations) and bootstrap (paired, dSRCC) use the pooled predictions, " +
	"ids prefixed by seed, exactly as `cpllm compare POOLED_VARIANT POOLED_BASELINE`; holm adjusts over the " +
	"variants compared within one test set and test"

// ReportDir is out/<experiment>/report.
func (e *Experiment) ReportDir(out string) string { return filepath.Join(e.Root(out), "report") }

// BuildReport reads every cell's predictions (all must be done), writes the
// pooled prediction files under the report directory and computes the
// report. WriteReport renders it.
func BuildReport(e *Experiment, out string, o ReportOptions) (*Report, error) {
	if err := e.checkCells(out); err != nil {
		return nil, err
	}
	rep := &Report{Experiment: e.Name, Baseline: e.Baseline, Alpha: e.Alpha, Seeds: e.Seeds,
		Resamples: o.Resamples, BootstrapSeed: o.Seed, Note: reportNote}
	dir := e.ReportDir(out)
	for _, set := range e.Data.Eval {
		er := EvalReport{Name: set.Name}
		for _, v := range e.Variants {
			vr, n, err := e.variantRow(out, dir, set.Name, v, o)
			if err != nil {
				return nil, err
			}
			if er.N != 0 && n != er.N {
				return nil, fmt.Errorf("test set %s: variant %s has %d predictions per seed, others %d", set.Name, v.Name, n, er.N)
			}
			er.N = n
			er.Variants = append(er.Variants, vr)
		}
		base := filepath.Join(dir, e.pooledRel(set.Name, e.Baseline))
		for i := range er.Variants {
			vr := &er.Variants[i]
			if vr.Baseline {
				continue
			}
			b := &er.Variants[e.variantIndex(e.Baseline)]
			c, err := compare.Files(filepath.Join(dir, vr.PooledFile), base, o.Resamples, o.Seed)
			if err != nil {
				return nil, fmt.Errorf("test set %s: %s vs %s: %w", set.Name, vr.Name, e.Baseline, err)
			}
			vr.Compare = &c
			vr.Tests = append(seedTests(vr.SRCC, b.SRCC, "srcc"), seedTests(vr.PLCC, b.PLCC, "plcc")...)
			vr.Tests = append(vr.Tests,
				Test{Name: "williams", Metric: "srcc", Stat: num(c.WilliamsT), P: num(c.WilliamsP)},
				Test{Name: "steiger", Metric: "srcc", Stat: num(c.SteigerZ), P: num(c.SteigerP)},
				Test{Name: "bootstrap", Metric: "srcc", Stat: num(c.BootstrapDSRCC.Value), P: num(c.BootstrapDSRCC.P)},
				Test{Name: "williams", Metric: "plcc", Stat: num(c.PLCCTests.Williams.Stat), P: num(c.PLCCTests.Williams.P)},
				Test{Name: "steiger", Metric: "plcc", Stat: num(c.PLCCTests.Steiger.Stat), P: num(c.PLCCTests.Steiger.P)})
		}
		holm(er.Variants, e.Alpha)
		rep.Eval = append(rep.Eval, er)
	}
	return rep, nil
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
		_, _, my, ty, err := c.Variant.cellConfigs(c.Seed)
		if err != nil {
			return err
		}
		hm, _ := os.ReadFile(filepath.Join(dir, ModelFile))
		ht, _ := os.ReadFile(filepath.Join(dir, TrainFile))
		if !bytes.Equal(hm, my) || !bytes.Equal(ht, ty) {
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

func head(v []string) []string {
	if len(v) > 5 {
		return append(v[:5:5], fmt.Sprintf("and %d more", len(v)-5))
	}
	return v
}

func (e *Experiment) variantIndex(name string) int {
	for i, v := range e.Variants {
		if v.Name == name {
			return i
		}
	}
	return -1
}

func (e *Experiment) pooledRel(set, variant string) string {
	return filepath.ToSlash(filepath.Join("pooled", set, variant+".csv"))
}

// variantRow reads a variant's per-seed predictions on one test set, writes
// its pooled file and summarises SRCC and PLCC.
func (e *Experiment) variantRow(out, dir, set string, v *Variant, o ReportOptions) (VariantReport, int, error) {
	vr := VariantReport{Name: v.Name, Baseline: v.Name == e.Baseline, Trainable: v.Trainable(), Frozen: v.Frozen(),
		PooledFile: e.pooledRel(set, v.Name)}
	vr.CapacityKey, vr.CapacityValue = v.CapacityMatch()
	var pooled []predictions.Row
	var srcc, plcc []float64
	n := 0
	for _, s := range e.Seeds {
		path := filepath.Join(e.Dir(out, Cell{Variant: v, Seed: s}), PredDir, set+".csv")
		rows, err := predictions.Read(path)
		if err != nil {
			return vr, 0, err
		}
		if n != 0 && len(rows) != n {
			return vr, 0, fmt.Errorf("%s: %d rows, seed %d had %d", path, len(rows), e.Seeds[0], n)
		}
		n = len(rows)
		p, mos := predictions.Columns(rows)
		a, err := metrics.SRCC(p, mos)
		if err != nil {
			return vr, 0, fmt.Errorf("%s: %w", path, err)
		}
		b, _ := metrics.PLCC(p, mos)
		srcc, plcc = append(srcc, a), append(plcc, b)
		for _, r := range rows {
			pooled = append(pooled, predictions.Row{ID: fmt.Sprintf("seed%d/%s", s, r.ID), Pred: r.Pred, MOS: r.MOS})
		}
	}
	var buf bytes.Buffer
	if err := predictions.Write(&buf, pooled); err != nil {
		return vr, 0, err
	}
	file := filepath.Join(dir, filepath.FromSlash(vr.PooledFile))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return vr, 0, err
	}
	if err := fsutil.WriteFileAtomic(file, buf.Bytes(), 0o644); err != nil {
		return vr, 0, err
	}
	pp, pm := predictions.Columns(pooled)
	var err error
	if vr.SRCC, err = summarise(srcc, pp, pm, metrics.SRCC, o); err != nil {
		return vr, 0, err
	}
	vr.PLCC, err = summarise(plcc, pp, pm, metrics.PLCC, o)
	return vr, n, err
}

// summarise aggregates per-seed values (NaN when any seed's is undefined)
// with a t interval, and bootstraps the metric on the pooled predictions.
func summarise(perSeed, pred, mos []float64, fn metrics.MetricFunc, o ReportOptions) (MetricSummary, error) {
	nan := math.NaN()
	ms := MetricSummary{Summary: metrics.Summary{N: len(perSeed), Mean: nan, Std: nan, Min: nan, Max: nan}, CI95: [2]num{num(nan), num(nan)}}
	for _, v := range perSeed {
		ms.PerSeed = append(ms.PerSeed, num(v))
	}
	if s, err := metrics.Aggregate(perSeed); err == nil {
		ms.Summary = s
		if n := float64(s.N); s.N > 1 {
			h := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975) * s.Std / math.Sqrt(n)
			ms.CI95 = [2]num{num(s.Mean - h), num(s.Mean + h)}
		}
	}
	var err error
	ms.Pooled, err = metrics.Bootstrap(pred, mos, fn, o.Resamples, o.Seed)
	return ms, err
}

// seedTests pairs a variant's per-seed metric with the baseline's by seed.
func seedTests(v, b MetricSummary, metric string) []Test {
	a, c := floats(v.PerSeed), floats(b.PerSeed)
	t := Test{Name: "t-test", Metric: metric, Stat: num(math.NaN()), P: num(math.NaN())}
	if r, err := metrics.PairedTTest(a, c); err != nil {
		t.Error = err.Error()
	} else {
		t.Stat, t.P = num(r.T), num(r.P)
	}
	w := Test{Name: "wilcoxon", Metric: metric, Stat: num(math.NaN()), P: num(math.NaN())}
	if r, err := metrics.Wilcoxon(a, c); err != nil {
		w.Error = err.Error()
	} else {
		w.Stat, w.P = num(r.Statistic), num(r.P)
	}
	return []Test{t, w}
}

func floats(v []num) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// holm adjusts each (test, metric) family across the non-baseline variants.
func holm(vs []VariantReport, alpha float64) {
	type key struct{ name, metric string }
	fam := map[key][]*Test{}
	var order []key
	for i := range vs {
		for j := range vs[i].Tests {
			t := &vs[i].Tests[j]
			k := key{t.Name, t.Metric}
			if _, ok := fam[k]; !ok {
				order = append(order, k)
			}
			fam[k] = append(fam[k], t)
		}
	}
	for _, k := range order {
		ts := fam[k]
		p := make([]float64, len(ts))
		for i, t := range ts {
			p[i] = float64(t.P)
		}
		for i, a := range metrics.Holm(p) {
			ts[i].Holm, ts[i].Significant = num(a), a <= alpha
		}
	}
}

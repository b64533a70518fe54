package sweep

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
)

// metricFns are the report's metrics.
var metricFns = []struct {
	name string
	fn   metrics.MetricFunc
}{{"srcc", metrics.SRCC}, {"plcc", metrics.PLCC}}

// computeSet computes one test set's table from rows[v][s]: variant v's
// predictions for seed s, all aligned to the same videos.
func computeSet(set string, spec reportSpec, base int, rows [][][]predictions.Row, o ReportOptions) EvalReport {
	_, mos := predictions.Columns(rows[base][0])
	er := EvalReport{Name: set, Videos: len(mos), Seeds: len(spec.Seeds)}
	perSeed := make([][][]float64, len(rows)) // [variant][seed][video]
	seedMean := make([][]float64, len(rows))  // [variant][video]
	for v := range rows {
		for _, r := range rows[v] {
			p, _ := predictions.Columns(r)
			perSeed[v] = append(perSeed[v], p)
		}
		seedMean[v], _ = predictions.Columns(meanRows(rows[v]))
	}
	for v, name := range spec.Variants {
		vr := VariantReport{Name: name, Baseline: v == base}
		vr.SRCC = summarise(perSeed[v], seedMean[v], mos, metrics.SRCC)
		vr.PLCC = summarise(perSeed[v], seedMean[v], mos, metrics.PLCC)
		er.Variants = append(er.Variants, vr)
	}
	for v := range er.Variants {
		if v == base {
			continue
		}
		vr, b := &er.Variants[v], er.Variants[base]
		for _, m := range metricFns {
			vs, bs := vr.SRCC, b.SRCC
			if m.name == "plcc" {
				vs, bs = vr.PLCC, b.PLCC
			}
			ts := seedTests(vs, bs, m.name)
			ts = append(ts, videoTests(seedMean[v], seedMean[base], mos, m.name, m.fn, o)...)
			h := Test{Name: "bootstrap-hierarchical", Metric: m.name}
			d, err := metrics.HierarchicalBootstrap(perSeed[v], perSeed[base], mos, m.fn, o.Resamples, o.Seed)
			setDelta(&h, d, err)
			ts = append(ts, h)
			for i := range ts {
				ts[i].Videos, ts[i].Seeds = er.Videos, er.Seeds
			}
			vr.Tests = append(vr.Tests, ts...)
		}
	}
	holm(er.Variants, spec.Alpha)
	return er
}

// summarise aggregates the per-seed metric (NaN when any seed's is
// undefined) with a t interval over seeds, and the metric of the seed-mean
// predictions.
func summarise(perSeed [][]float64, seedMean, mos []float64, fn metrics.MetricFunc) MetricSummary {
	nan := math.NaN()
	ms := MetricSummary{Summary: metrics.Summary{N: len(perSeed), Mean: nan, Std: nan, Min: nan, Max: nan},
		CI95: [2]num{num(nan), num(nan)}, SeedMean: num(nan)}
	var vals []float64
	for _, p := range perSeed {
		v, err := fn(p, mos)
		if err != nil {
			v = nan
		}
		vals = append(vals, v)
		ms.PerSeed = append(ms.PerSeed, num(v))
	}
	if s, err := metrics.Aggregate(vals); err == nil {
		ms.Summary = s
		if n := float64(s.N); s.N > 1 {
			h := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975) * s.Std / math.Sqrt(n)
			ms.CI95 = [2]num{num(s.Mean - h), num(s.Mean + h)}
		}
	}
	if v, err := fn(seedMean, mos); err == nil {
		ms.SeedMean = num(v)
	}
	return ms
}

// seedTests pairs a variant's per-seed metric with the baseline's by seed.
func seedTests(v, b MetricSummary, metric string) []Test {
	a, c := floats(v.PerSeed), floats(b.PerSeed)
	nan := num(math.NaN())
	diff := nan
	if len(a) > 0 {
		diff = num(v.Summary.Mean - b.Summary.Mean)
	}
	t := Test{Name: "t-test", Metric: metric, Estimate: diff, Stat: nan, P: nan}
	if r, err := metrics.PairedTTest(a, c); err != nil {
		t.Error = err.Error()
	} else {
		t.Stat, t.P = num(r.T), num(r.P)
	}
	w := Test{Name: "wilcoxon", Metric: metric, Estimate: diff, Stat: nan, P: nan}
	if r, err := metrics.Wilcoxon(a, c); err != nil {
		w.Error = err.Error()
	} else {
		w.Stat, w.P = num(r.Statistic), num(r.P)
	}
	return []Test{t, w}
}

// videoTests compares the seed-mean predictions of a variant and the
// baseline over videos: Williams, Steiger and the paired bootstrap.
func videoTests(pv, pb, mos []float64, metric string, fn metrics.MetricFunc, o ReportOptions) []Test {
	nan := num(math.NaN())
	w := Test{Name: "williams", Metric: metric, Estimate: nan, Stat: nan, P: nan}
	s := Test{Name: "steiger", Metric: metric, Estimate: nan, Stat: nan, P: nan}
	if dep, err := metrics.CompareDependent(pv, pb, mos, fn); err != nil {
		w.Error, s.Error = err.Error(), err.Error()
	} else {
		d := num(dep.R12 - dep.R13)
		w.Estimate, w.Stat, w.P = d, num(dep.Williams.Stat), num(dep.Williams.P)
		s.Estimate, s.Stat, s.P = d, num(dep.Steiger.Stat), num(dep.Steiger.P)
	}
	bt := Test{Name: "bootstrap-videos", Metric: metric}
	d, err := metrics.PairedBootstrap(pv, pb, mos, fn, o.Resamples, o.Seed)
	setDelta(&bt, d, err)
	return []Test{w, s, bt}
}

// setDelta fills a bootstrap test: the statistic is the estimate itself.
func setDelta(t *Test, d metrics.Delta, err error) {
	if err != nil {
		nan := num(math.NaN())
		t.Estimate, t.Stat, t.P, t.Error = nan, nan, nan, err.Error()
		return
	}
	t.Estimate, t.Stat, t.P = num(d.Value), num(d.Value), num(d.P)
	t.CI95 = &[2]num{num(d.CILow), num(d.CIHigh)}
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

package nightly

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/suite"
)

// trend is SRCC per dataset over the run dates.
type trend struct {
	dates []string
	srcc  map[string][]*metrics.CI // aligned with dates; nil where a run lacks the dataset
	notes []string                 // runs whose report could not be read
}

// history gathers the SRCC of every complete run before date, then cur's.
func history(out string, runs []string, date string, cur *suite.Report) (*trend, error) {
	h := &trend{srcc: map[string][]*metrics.CI{}}
	add := func(d string, r *suite.Report) {
		h.dates = append(h.dates, d)
		for name, ds := range r.Datasets {
			for len(h.srcc[name]) < len(h.dates)-1 {
				h.srcc[name] = append(h.srcc[name], nil)
			}
			if ds.Metrics != nil {
				ci := ds.Metrics.SRCC
				h.srcc[name] = append(h.srcc[name], &ci)
			}
		}
	}
	for _, d := range runs {
		if d >= date {
			continue
		}
		r, err := suite.ReadReport(filepath.Join(out, d, "report.json"))
		if err != nil {
			h.notes = append(h.notes, fmt.Sprintf("run %s left out of the trend: %v", d, err))
			continue
		}
		add(d, r)
	}
	add(date, cur)
	for name := range h.srcc {
		for len(h.srcc[name]) < len(h.dates) {
			h.srcc[name] = append(h.srcc[name], nil)
		}
	}
	return h, nil
}

// trendPlot draws one dataset's SRCC with its CI over the run dates.
func trendPlot(path, name string, h *trend) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = name+": SRCC per nightly run", "run", "SRCC (95% CI)"
	var pts plotter.XYs
	var errs plotter.YErrors
	var ticks plot.ConstantTicks
	for i, ci := range h.srcc[name] {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: h.dates[i]})
		if ci == nil || math.IsNaN(ci.Value) {
			continue
		}
		pts = append(pts, plotter.XY{X: float64(i), Y: ci.Value})
		lo, hi := ci.Value-ci.CILow, ci.CIHigh-ci.Value
		if math.IsNaN(lo) || math.IsNaN(hi) {
			lo, hi = 0, 0
		}
		errs = append(errs, struct{ Low, High float64 }{lo, hi})
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = -0.5, float64(len(h.dates))-0.5
	if len(pts) > 0 {
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		if err != nil {
			return err
		}
		p.Add(l, s, eb)
	}
	p.Add(plotter.NewGrid())
	w := max(6*vg.Inch, vg.Length(len(h.dates))*0.6*vg.Inch)
	return suite.SavePNG(p, path, w, 4*vg.Inch)
}

// formatP prints a p-value; a bootstrap p of 0 only says p < 1/resamples.
func formatP(p float64, test string, resamples int) string {
	switch {
	case math.IsNaN(p):
		return "p=n/a"
	case p == 0 && test == "bootstrap":
		return fmt.Sprintf("p<%.2g", 1/float64(max(resamples, 1)))
	}
	return fmt.Sprintf("p=%.3g", p)
}

// RegressionLine is how a regression is named in the summary and the exit error.
func RegressionLine(c Comparison, test string, resamples int) string {
	return fmt.Sprintf("%s: SRCC %.4f -> %.4f (dSRCC %.4f, %s %s) vs %s %s",
		c.Dataset, c.SRCCOld, c.SRCCNew, c.SRCCNew-c.SRCCOld, test, formatP(c.P, test, resamples), c.Against, c.Dir)
}

// summary renders summary.md; links are prefixed with link (the run
// directory, for the copy one level up).
func summary(r *Result, o Options, link string) []byte {
	c := o.Config
	res := r.Report.Resamples
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Nightly evaluation %s\n\nCheckpoint: `%s`.\n", o.Date, c.Checkpoint)
	prev, base := "none (first run)", "none"
	if r.Previous != "" {
		prev = "`" + r.Previous + "`"
	}
	if r.Baseline != "" {
		base = "`" + r.Baseline + "`"
	}
	fmt.Fprintf(&b, "Previous run: %s. Pinned baseline: %s.\n\n", prev, base)
	fmt.Fprintf(&b, "Rule: a dataset regresses when its SRCC falls by more than %g with %s p < %g on the same ids "+
		"(paired bootstrap of dSRCC with %d resamples; Williams' t and Steiger's z on the ranks).\n\n", c.MaxDrop, c.Test, c.Alpha, res)
	regs := r.Regressions()
	if len(regs) == 0 {
		b.WriteString("**OK**: no significant drop.\n")
	}
	for _, g := range regs {
		fmt.Fprintf(&b, "- **REGRESSION** %s\n", RegressionLine(g, c.Test, res))
	}
	b.WriteString("\n| dataset | scored | SRCC [95% CI] | against | dSRCC [95% CI] | p bootstrap | p Williams | p Steiger | status |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, name := range r.Report.Order {
		d := r.Report.Datasets[name]
		srcc := "n/a"
		if d.Metrics != nil {
			srcc = suite.FormatCI(d.Metrics.SRCC)
		}
		rows := 0
		for _, cmp := range r.Comparisons {
			if cmp.Dataset != name {
				continue
			}
			rows++
			status := "ok"
			if cmp.Regressed {
				status = "**regressed**"
			} else if cmp.Note != "" {
				status = cmp.Note
			}
			dl := cmp.Delta
			fmt.Fprintf(&b, "| %s | %d of %d | %s | %s (n=%d) | %s | %s | %s | %s | %s |\n", name, d.N, d.Total, srcc, cmp.Against, cmp.N,
				suite.FormatCI(metrics.CI{Value: dl.Value, CILow: dl.CILow, CIHigh: dl.CIHigh}),
				formatP(dl.P, "bootstrap", res), formatP(cmp.Williams.P, "williams", res), formatP(cmp.Steiger.P, "steiger", res), status)
		}
		if rows == 0 {
			fmt.Fprintf(&b, "| %s | %d of %d | %s | none | | | | | new |\n", name, d.N, d.Total, srcc)
		}
	}
	for _, name := range r.Report.Order {
		d := r.Report.Datasets[name]
		fmt.Fprintf(&b, "\n## %s\n\n%d missing, %d failed videos (listed in report.json).\n\n![SRCC trend](%strend-%s.png)\n",
			name, len(d.Missing), len(d.Failed), link, name)
	}
	fmt.Fprintf(&b, "\nFull report: [%sreport.md](%sreport.md); comparisons: `%scompare.json`.\n", link, link, link)
	return b.Bytes()
}

package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// WriteReport writes report.json, report.md and one bar chart per test set
// (<set>.png) into dir, each atomically.
func WriteReport(dir string, rep *Report) error {
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(Markdown(rep)), 0o644); err != nil {
		return err
	}
	for _, er := range rep.Eval {
		if err := chart(filepath.Join(dir, er.Name+".png"), rep, er); err != nil {
			return err
		}
	}
	return nil
}

// Markdown renders one table per test set.
func Markdown(rep *Report) string {
	var b strings.Builder
	seeds := make([]string, len(rep.Seeds))
	for i, s := range rep.Seeds {
		seeds[i] = strconv.Itoa(s)
	}
	fmt.Fprintf(&b, "# Sweep report: %s\n\n", rep.Experiment)
	fmt.Fprintf(&b, "Baseline `%s`; seeds %s; alpha %g with Holm correction over the variants compared with the baseline "+
		"(per test set and test); bootstrap: %d resamples, seed %d.\n\n", rep.Baseline, strings.Join(seeds, ", "), rep.Alpha,
		rep.Resamples, rep.BootstrapSeed)
	for _, er := range rep.Eval {
		fmt.Fprintf(&b, "## %s (%d videos per seed)\n\n", er.Name, er.N)
		b.WriteString("| variant | trainable params | SRCC mean ± std | SRCC 95% CI | PLCC mean ± std | PLCC 95% CI | t-test p | Wilcoxon p | Williams p | Steiger p | bootstrap p |\n")
		b.WriteString("|---|--:|---|---|---|---|---|---|---|---|---|\n")
		for _, v := range er.Variants {
			name := v.Name
			if v.Baseline {
				name += " (baseline)"
			}
			if v.CapacityKey != "" {
				name += fmt.Sprintf(" [%s=%d]", v.CapacityKey, v.CapacityValue)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |", name, thousands(v.Trainable),
				meanStd(v.SRCC), interval(v.SRCC.CI95), meanStd(v.PLCC), interval(v.PLCC.CI95))
			for _, t := range []string{"t-test", "wilcoxon", "williams", "steiger", "bootstrap"} {
				fmt.Fprintf(&b, " %s |", pcell(v, t))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\np-values on SRCC, raw / Holm-adjusted; * significant at alpha = %g after Holm. "+
			"t-test and Wilcoxon pair the per-seed SRCC by seed; Williams, Steiger and the paired bootstrap of dSRCC "+
			"use the pooled predictions in `pooled/%s/` (ids prefixed by seed): `cpllm compare pooled/%s/VARIANT.csv "+
			"pooled/%s/%s.csv` gives the same values. The same tests on PLCC are in report.json.\n\n![%s](%s.png)\n\n",
			rep.Alpha, er.Name, er.Name, er.Name, rep.Baseline, er.Name, er.Name)
	}
	return b.String()
}

func f4(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func meanStd(m MetricSummary) string {
	if m.Summary.N < 2 {
		return f4(m.Summary.Mean)
	}
	return f4(m.Summary.Mean) + " ± " + f4(m.Summary.Std)
}

func interval(ci [2]num) string {
	return "[" + f4(float64(ci[0])) + ", " + f4(float64(ci[1])) + "]"
}

func pval(p num) string {
	if math.IsNaN(float64(p)) {
		return "n/a"
	}
	return strconv.FormatFloat(float64(p), 'g', 3, 64)
}

func pcell(v VariantReport, name string) string {
	if v.Baseline {
		return "–"
	}
	for _, t := range v.Tests {
		if t.Name == name && t.Metric == "srcc" {
			s := pval(t.P) + " / " + pval(t.Holm)
			if t.Significant {
				s += "*"
			}
			return s
		}
	}
	return "n/a"
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// chart draws SRCC and PLCC bars per variant (mean over seeds) with
// ±std error bars.
func chart(path string, rep *Report, er EvalReport) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s (mean ± std over %d seeds)", rep.Experiment, er.Name, len(rep.Seeds))
	p.Y.Label.Text = "correlation with MOS"
	const width = 9 * vg.Inch
	n := len(er.Variants)
	barW := vg.Length(float64(width) * 0.85 / float64(n) * 0.33) // a third of a category each
	names := make([]string, n)
	for i, v := range er.Variants {
		names[i] = v.Name
	}
	for k, metric := range []string{"SRCC", "PLCC"} {
		vals, errs, pts := make(plotter.Values, n), make(plotter.YErrors, n), make(plotter.XYs, n)
		for i, v := range er.Variants {
			s := v.SRCC.Summary
			if k == 1 {
				s = v.PLCC.Summary
			}
			vals[i] = zeroNaN(s.Mean)
			e := zeroNaN(s.Std)
			errs[i] = struct{ Low, High float64 }{e, e}
			pts[i] = plotter.XY{X: float64(i) - 0.2 + 0.4*float64(k), Y: vals[i]}
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return err
		}
		bars.XMin = -0.2 + 0.4*float64(k)
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		if err != nil {
			return err
		}
		p.Add(bars, eb)
		p.Legend.Add(metric, bars)
	}
	p.Legend.Top = true
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5 // room for the outer bars
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(width, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomicFrom(path, wt)
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

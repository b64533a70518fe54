package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/fsutil"
)

// WriteReport writes report.json, report.md, one bar chart per test set
// (<set>.png) and the prediction files the report was computed from
// (seeds/<set>/<variant>/seed<k>.csv, mean/<set>/<variant>.csv) into dir,
// each atomically.
func WriteReport(dir string, rep *Report) error {
	paths := make([]string, 0, len(rep.files))
	for p := range rep.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		var buf bytes.Buffer
		if err := predictions.Write(&buf, rep.files[rel]); err != nil {
			return err
		}
		file := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(file, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
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

// Markdown renders, per test set, the metrics over seeds and the p-values
// of every test on SRCC and PLCC, with what each test is computed on.
func Markdown(rep *Report) string {
	var b strings.Builder
	seeds := make([]string, len(rep.Seeds))
	for i, s := range rep.Seeds {
		seeds[i] = strconv.Itoa(s)
	}
	fmt.Fprintf(&b, "# Sweep report: %s\n\n", rep.Experiment)
	fmt.Fprintf(&b, "Baseline `%s`; %d seeds (%s); alpha %g with Holm correction over the variants compared with the baseline "+
		"(per test set, test and metric); bootstraps: %d resamples, seed %d.\n\n", rep.Baseline, len(rep.Seeds), strings.Join(seeds, ", "),
		rep.Alpha, rep.Resamples, rep.BootstrapSeed)
	b.WriteString("Tests (variant vs baseline):\n\n")
	for _, m := range rep.Methods {
		fmt.Fprintf(&b, "- **%s** (%s): %s.\n", m.Name, m.Data, m.Description)
	}
	b.WriteString("\n")
	for _, er := range rep.Eval {
		fmt.Fprintf(&b, "## %s (%d videos, %d seeds)\n\n", er.Name, er.Videos, er.Seeds)
		b.WriteString("| variant | trainable params | SRCC mean ± std | SRCC 95% CI over seeds | SRCC of seed-mean | PLCC mean ± std | PLCC 95% CI over seeds | PLCC of seed-mean |\n")
		b.WriteString("|---|--:|---|---|---|---|---|---|\n")
		for _, v := range er.Variants {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", variantLabel(v), thousands(v.Trainable),
				meanStd(v.SRCC), interval(v.SRCC.CI95), f4(float64(v.SRCC.SeedMean)),
				meanStd(v.PLCC), interval(v.PLCC.CI95), f4(float64(v.PLCC.SeedMean)))
		}
		fmt.Fprintf(&b, "\nMean ± sample std of the per-seed metric over %d seeds; 95%% t interval of that mean (df = %d). "+
			"Seed-mean: the metric of each video's prediction averaged over seeds (`mean/%s/`).\n\n", er.Seeds, er.Seeds-1, er.Name)
		for _, metric := range []string{"srcc", "plcc"} {
			fmt.Fprintf(&b, "p-values on %s, raw / Holm-adjusted (* significant at alpha = %g after Holm):\n\n", strings.ToUpper(metric), rep.Alpha)
			b.WriteString("| variant | Δ mean per seed |")
			for _, m := range rep.Methods {
				fmt.Fprintf(&b, " %s |", m.Name)
			}
			b.WriteString("\n|---|---|" + strings.Repeat("---|", len(rep.Methods)) + "\n")
			for _, v := range er.Variants {
				if v.Baseline {
					continue
				}
				fmt.Fprintf(&b, "| %s | %s |", v.Name, f4(float64(find(v, "t-test", metric).Estimate)))
				for _, m := range rep.Methods {
					fmt.Fprintf(&b, " %s |", pcell(find(v, m.Name, metric), rep.Resamples))
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Per-seed predictions: `seeds/%s/VARIANT/seed<k>.csv`. `cpllm compare mean/%s/VARIANT.csv mean/%s/%s.csv "+
			"--resamples %d --seed %d` gives the williams, steiger and bootstrap-videos values on SRCC.\n\n![%s](%s.png)\n\n",
			er.Name, er.Name, er.Name, rep.Baseline, rep.Resamples, rep.BootstrapSeed, er.Name, er.Name)
	}
	return b.String()
}

func variantLabel(v VariantReport) string {
	name := v.Name
	if v.Baseline {
		name += " (baseline)"
	}
	if v.CapacityKey != "" {
		name += fmt.Sprintf(" [%s=%d]", v.CapacityKey, v.CapacityValue)
	}
	return name
}

// find returns the variant's test of that name and metric (an empty one
// with NaN values when absent).
func find(v VariantReport, name, metric string) Test {
	for _, t := range v.Tests {
		if t.Name == name && t.Metric == metric {
			return t
		}
	}
	nan := num(math.NaN())
	return Test{Name: name, Metric: metric, Estimate: nan, Stat: nan, P: nan, Holm: nan}
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

// pcell is "raw / Holm" with * when significant. A bootstrap p of 0 means no
// resample crossed zero: it is written as below the resolution 1/resamples
// (the p of 2/resamples would need at least one).
func pcell(t Test, resamples int) string {
	p := func(v num) string {
		if strings.HasPrefix(t.Name, "bootstrap") && v == 0 && resamples > 0 {
			return "< " + strconv.FormatFloat(1/float64(resamples), 'g', 3, 64)
		}
		return pval(v)
	}
	s := p(t.P) + " / " + p(t.Holm)
	if t.Significant {
		s += "*"
	}
	return s
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

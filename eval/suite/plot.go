package suite

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/internal/fsutil"
)

// SavePNG writes p as a PNG atomically.
func SavePNG(p *plot.Plot, path string, w, h vg.Length) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomicFrom(path, wt)
}

// scatterPlot draws prediction against MOS with the fitted 4-parameter
// logistic (the mapping PLCC/RMSE 4PL are computed after).
func scatterPlot(path string, d *DatasetReport, pred, mos []float64) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (n=%d)", d.Name, len(pred))
	if d.Metrics != nil {
		p.Title.Text += fmt.Sprintf(": SRCC %s, PLCC(4PL) %s", f4(d.Metrics.SRCC.Value), f4(d.Metrics.PLCC4PL.Value))
	}
	p.X.Label.Text, p.Y.Label.Text = "predicted score", "MOS (mapped to 1-5)"
	pts := make(plotter.XYs, len(pred))
	for i := range pred {
		pts[i] = plotter.XY{X: pred[i], Y: mos[i]}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Color = color.RGBA{R: 40, G: 90, B: 200, A: 200}
	p.Add(sc, plotter.NewGrid())
	p.Legend.Add("videos", sc)
	if fit, err := metrics.FitLogistic(metrics.Logistic4, pred, mos); err == nil && !slices.ContainsFunc(fit.Params, math.IsNaN) {
		lo, hi := slices.Min(pred), slices.Max(pred)
		curve := make(plotter.XYs, 101)
		for i := range curve {
			x := lo + (hi-lo)*float64(i)/100
			curve[i] = plotter.XY{X: x, Y: fit.Eval(x)}
		}
		l, err := plotter.NewLine(curve)
		if err != nil {
			return err
		}
		l.Color, l.Width = color.RGBA{R: 220, G: 60, B: 30, A: 255}, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add("4PL logistic fit", l)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return SavePNG(p, path, 6*vg.Inch, 5*vg.Inch)
}

// ladderPlot draws score against CRF, one line per source.
func ladderPlot(path, title string, sources []LadderSource) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, "CRF", "predicted score"
	var lines []any
	for _, s := range sources {
		var pts plotter.XYs
		for _, l := range s.Levels {
			pts = append(pts, plotter.XY{X: float64(l.CRF), Y: l.Score})
		}
		if len(pts) > 0 {
			lines = append(lines, s.SourceID, pts)
		}
	}
	// plotutil names each line in the legend; beyond a dozen sources the
	// legend would cover the plot, so it is dropped.
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return err
	}
	if len(sources) > 12 {
		p.Legend = plot.NewLegend()
	}
	p.Add(plotter.NewGrid())
	return SavePNG(p, path, 7*vg.Inch, 4.5*vg.Inch)
}

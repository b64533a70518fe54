package train

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// ReadEvals returns the validation lines of a metrics.jsonl.
func ReadEvals(path string) ([]EvalMetrics, error) {
	var out []EvalMetrics
	err := fsutil.ReadJSONL(path, func(line []byte) error {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(line, &probe); err != nil {
			return err
		}
		if _, ok := probe["eval"]; !ok {
			return nil
		}
		var e EvalMetrics
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// Plot renders a run's metrics.jsonl as loss.png (loss per task against
// step, smoothed over a window) and val.png (validation SRCC and PLCC).
func Plot(runDir string) error {
	path := filepath.Join(runDir, "metrics.jsonl")
	steps, err := ReadMetrics(path)
	if err != nil {
		return err
	}
	evals, err := ReadEvals(path)
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		return fmt.Errorf("%s: no training steps to plot", path)
	}
	lp := plot.New()
	lp.Title.Text, lp.X.Label.Text, lp.Y.Label.Text = "training loss", "step", "loss (moving average)"
	var lines []any
	for _, task := range []string{"score", "describe", "pair"} {
		var pts plotter.XYs
		for _, s := range steps {
			if s.Task == task {
				pts = append(pts, plotter.XY{X: float64(s.Step), Y: s.Loss})
			}
		}
		if len(pts) > 0 {
			lines = append(lines, task, smooth(pts, 25))
		}
	}
	if err := plotutil.AddLines(lp, lines...); err != nil {
		return err
	}
	if err := save(lp, filepath.Join(runDir, "loss.png")); err != nil {
		return err
	}
	if len(evals) == 0 {
		return nil
	}
	vp := plot.New()
	vp.Title.Text, vp.X.Label.Text, vp.Y.Label.Text = "validation", "step", "correlation with MOS"
	var srcc, plcc plotter.XYs
	for _, e := range evals {
		if e.Eval.SRCC != nil {
			srcc = append(srcc, plotter.XY{X: float64(e.Step), Y: *e.Eval.SRCC})
		}
		if e.Eval.PLCC != nil {
			plcc = append(plcc, plotter.XY{X: float64(e.Step), Y: *e.Eval.PLCC})
		}
	}
	if err := plotutil.AddLinePoints(vp, "SRCC", srcc, "PLCC", plcc); err != nil {
		return err
	}
	return save(vp, filepath.Join(runDir, "val.png"))
}

// smooth is a trailing moving average, so noisy per-step losses read as a trend.
func smooth(pts plotter.XYs, w int) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	sum := 0.0
	for i, p := range pts {
		sum += p.Y
		if i >= w {
			sum -= pts[i-w].Y
		}
		out[i] = plotter.XY{X: p.X, Y: sum / float64(min(i+1, w))}
	}
	return out
}

// save writes the plot as PNG atomically.
func save(p *plot.Plot, path string) error {
	wt, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomicFrom(path, wt)
}

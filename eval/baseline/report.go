package baseline

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cpllm/cpllm/internal/fsutil"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Report is what `cpllm baseline` writes as report.json.
type Report struct {
	Dataset     string    `json:"dataset"`
	Root        string    `json:"root"`
	Labels      string    `json:"labels,omitempty"`
	IDsFile     string    `json:"ids_file,omitempty"`
	TestIDsFile string    `json:"test_ids_file,omitempty"`
	NTrain      int       `json:"n_train"`
	NTest       int       `json:"n_test,omitempty"`
	Frames      int       `json:"frames"`
	CV          int       `json:"cv,omitempty"`
	LOO         bool      `json:"loo"`
	Seed        uint64    `json:"seed"`
	Resamples   int       `json:"resamples"`
	LambdaGrid  []float64 `json:"lambda_grid"`
	Features    []string  `json:"features"`
	FeatureVer  int       `json:"feature_version"`
	Command     string    `json:"command,omitempty"`
	Results     []Result  `json:"results"`
}

// WriteJSON writes r atomically, indented.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileAtomic(path, append(b, '\n'), 0o644)
}

// WriteMarkdown writes r as report.md: one table per protocol.
func (r *Report) WriteMarkdown(path string) error {
	var b strings.Builder
	r.markdown(&b)
	return fsutil.WriteFileAtomic(path, []byte(b.String()), 0o644)
}

func (r *Report) markdown(w io.Writer) {
	fmt.Fprintf(w, "# Classic baselines: %s\n\n", r.Dataset)
	if r.Command != "" {
		fmt.Fprintf(w, "Command: `%s`\n\n", r.Command)
	}
	fmt.Fprintf(w, "Train set: %d clips", r.NTrain)
	if r.IDsFile != "" {
		fmt.Fprintf(w, " (`%s`)", r.IDsFile)
	}
	if r.NTest > 0 {
		fmt.Fprintf(w, "; test set: %d clips (`%s`)", r.NTest, r.TestIDsFile)
	}
	fmt.Fprintf(w, ". NSS on %d uniformly spaced frames per clip; seed %d (CV folds and bootstrap); "+
		"95%% percentile-bootstrap CIs over clips, %d resamples. Ridge: features z-scored on the training rows, "+
		"lambda chosen by leave-one-out MSE on the training rows only from %s. KRR (kernel ridge): the same with an RBF kernel "+
		"exp(-gamma |z - z'|^2), gamma chosen with lambda from %v / (number of features). Single features: raw value, "+
		"sign fixed by the training SRCC.\n", r.Frames, r.Seed, r.Resamples, fmtGrid(r.LambdaGrid), DefaultGammaScales)
	titles := map[string]string{"train-test": "Train -> test", "cv": fmt.Sprintf("%d-fold cross-validation over the train set (out-of-fold predictions pooled)", r.CV),
		"loo": "Leave-one-out over the train set"}
	for _, proto := range []string{"train-test", "cv", "loo"} {
		var rows []Result
		for _, res := range r.Results {
			if res.Protocol == proto {
				rows = append(rows, res)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n| baseline | kind | n | SRCC [95%% CI] | PLCC [95%% CI] | lambda (krr: and gamma) / sign |\n|---|---|---|---|---|---|\n", titles[proto])
		for _, res := range rows {
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s |\n", res.Baseline, res.Kind, res.N,
				fmtCI(res.SRCC.Value, res.SRCC.CILow, res.SRCC.CIHigh), fmtCI(res.PLCC.Value, res.PLCC.CILow, res.PLCC.CIHigh), fitSummary(res))
		}
	}
}

func fmtCI(v, lo, hi float64) string {
	if math.IsNaN(v) {
		return "undefined"
	}
	if math.IsNaN(lo) {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", v, lo, hi)
}

func fmtGrid(g []float64) string {
	if len(g) < 2 {
		return fmt.Sprint(g)
	}
	return fmt.Sprintf("%d values %g ... %g (log-spaced)", len(g), g[0], g[len(g)-1])
}

// fitSummary is the chosen lambda (ridge; krr: and gamma) or sign (single); for several
// fits, the median and range, since each fold chooses its own.
func fitSummary(res Result) string {
	var v []float64
	for _, f := range res.Fits {
		if res.Kind != KindSingle {
			v = append(v, f.Lambda)
		} else {
			v = append(v, float64(f.Sign))
		}
	}
	if len(v) == 0 {
		return ""
	}
	if res.Kind == KindSingle {
		pos := 0
		for _, s := range v {
			if s > 0 {
				pos++
			}
		}
		switch pos {
		case len(v):
			return "+"
		case 0:
			return "-"
		}
		return fmt.Sprintf("+ in %d of %d fits", pos, len(v))
	}
	out := spread(v)
	if res.Kind == KindKRR {
		g := make([]float64, len(res.Fits))
		for i, f := range res.Fits {
			g[i] = f.Gamma
		}
		out += "; gamma " + spread(g)
	}
	return out
}

// spread is one value, or the median and range of several fits' values.
func spread(v []float64) string {
	if len(v) == 1 {
		return fmt.Sprintf("%.3g", v[0])
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("median %.3g (%.3g-%.3g over %d fits)", s[len(s)/2], s[0], s[len(s)-1], len(s))
}

// Scatter draws one result's predictions against MOS into dir as
// scatter_<baseline>_<protocol>.png and returns the path.
func Scatter(dir string, res Result) (string, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, %s (n=%d): SRCC %.3f, PLCC %.3f", res.Baseline, res.Protocol, res.N, res.SRCC.Value, res.PLCC.Value)
	p.X.Label.Text, p.Y.Label.Text = "baseline prediction", "MOS"
	pts := make(plotter.XYs, len(res.Pred))
	for i := range res.Pred {
		pts[i] = plotter.XY{X: res.Pred[i], Y: res.MOS[i]}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return "", err
	}
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Color = color.RGBA{R: 40, G: 90, B: 200, A: 200}
	p.Add(sc, plotter.NewGrid())
	path := filepath.Join(dir, fmt.Sprintf("scatter_%s_%s.png", res.Baseline, res.Protocol))
	wt, err := p.WriterTo(6*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return "", err
	}
	return path, fsutil.WriteFileAtomicFrom(path, wt)
}

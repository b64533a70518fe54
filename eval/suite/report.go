package suite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/eval/metrics"
)

// SchemaVersion is the version of report.json written by this package.
const SchemaVersion = 1

// Report is report.json. Paths inside are relative to the report's
// directory; non-finite numbers are written as null.
type Report struct {
	Schema      int                       `json:"schema"`
	Created     string                    `json:"created"`   // RFC 3339, UTC
	Seed        uint64                    `json:"seed"`      // bootstrap seed
	Resamples   int                       `json:"resamples"` // bootstrap resamples per CI
	Sampler     sample.Params             `json:"sampler"`   // deterministic eval views of every video
	Checkpoints []CheckpointInfo          `json:"checkpoints"`
	Order       []string                  `json:"order"` // dataset names in suite order
	Datasets    map[string]*DatasetReport `json:"datasets"`
}

// CheckpointInfo names one evaluated checkpoint.
type CheckpointInfo struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	ModelConfig string `json:"model_config,omitempty"` // file the architecture came from
}

// DatasetReport is one dataset's result. Every record of the dataset is
// accounted for: N scored + missing + failed + unlabeled + skipped = total.
type DatasetReport struct {
	Name      string    `json:"name"`
	Loader    string    `json:"loader,omitempty"`
	Root      string    `json:"root,omitempty"`
	Labels    string    `json:"labels,omitempty"`
	Split     string    `json:"split,omitempty"`
	Shards    string    `json:"shards,omitempty"`
	Total     int       `json:"total"`     // records in the label file (rows of a shard directory)
	N         int       `json:"n"`         // scored, in the prediction file and the metrics
	Missing   []string  `json:"missing"`   // ids whose video file does not exist
	Failed    []Failure `json:"failed"`    // present but not scorable (corrupt, undecodable)
	Unlabeled []string  `json:"unlabeled"` // ids without a MOS (not scored)
	Skipped   int       `json:"skipped"`   // over the dataset's limit
	// Predictions is the id,pred,mos file the metrics are computed on: the
	// checkpoint's predictions, or with several checkpoints their mean.
	Predictions  string          `json:"predictions"`
	Plot         string          `json:"plot,omitempty"`
	Metrics      *metrics.Report `json:"metrics"` // nil when undefined (see MetricsError)
	MetricsError string          `json:"metrics_error,omitempty"`
	// PerCheckpoint holds each checkpoint's own predictions and metrics.
	PerCheckpoint []CheckpointMetrics `json:"per_checkpoint"`
	// Aggregate summarises each metric's point value over the checkpoints
	// (metrics.Aggregate: mean, sample std, min, max); only with several.
	Aggregate map[string]metrics.Summary `json:"aggregate,omitempty"`
	// Pairs is the pair accuracy on a shard directory's pairs.jsonl (absent
	// for loader datasets and shards without pairs).
	Pairs   *PairsReport `json:"pairs,omitempty"`
	Timing  Timing       `json:"timing_s"` // summed over videos (and checkpoints)
	Seconds float64      `json:"seconds"`  // wall time of the dataset
}

// Failure is a video that exists but could not be scored.
type Failure struct {
	ID    string `json:"id"`
	Path  string `json:"path"`
	Error string `json:"error"`
}

// CheckpointMetrics is one checkpoint on one dataset.
type CheckpointMetrics struct {
	Checkpoint  string          `json:"checkpoint"`
	Predictions string          `json:"predictions"`
	Metrics     *metrics.Report `json:"metrics"`
	Error       string          `json:"error,omitempty"`
}

// MetricNames are the report's metrics in display order.
var MetricNames = []string{"srcc", "krcc", "plcc", "plcc_4pl", "rmse_4pl", "plcc_5pl", "rmse_5pl"}

// MetricCIs lists r's metrics in MetricNames order.
func MetricCIs(r *metrics.Report) []metrics.CI {
	return []metrics.CI{r.SRCC, r.KRCC, r.PLCC, r.PLCC4PL, r.RMSE4PL, r.PLCC5PL, r.RMSE5PL}
}

// ReadReport loads a report.json.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: report schema %d, this build reads %d", path, r.Schema, SchemaVersion)
	}
	return &r, nil
}

func f4(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", v)
}

// FormatCI is "0.8123 [0.7012, 0.8890]".
func FormatCI(c metrics.CI) string {
	if math.IsNaN(c.CILow) {
		return f4(c.Value)
	}
	return fmt.Sprintf("%s [%s, %s]", f4(c.Value), f4(c.CILow), f4(c.CIHigh))
}

// Markdown renders the report for humans: a summary table, then per
// dataset its accounting, metrics with CIs, per-checkpoint spread and plot.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Evaluation report\n\nCreated %s. Bootstrap: %d resamples, seed %d; 95%% percentile CIs in brackets.\n\n", r.Created, r.Resamples, r.Seed)
	fmt.Fprintf(&b, "Sampler: M=%d context frames, K=%d patches of %d px (deterministic eval views).\n\n", r.Sampler.M, r.Sampler.K, r.Sampler.Size)
	b.WriteString("Checkpoints:\n\n")
	for _, c := range r.Checkpoints {
		fmt.Fprintf(&b, "- `%s`: %s\n", c.Name, c.Path)
	}
	if len(r.Checkpoints) > 1 {
		b.WriteString("\nMetrics are of the mean prediction over the checkpoints; each dataset also lists mean ± std [min, max] of the per-checkpoint values.\n")
	}
	b.WriteString("\n| dataset | scored | missing | failed | unlabeled | SRCC | PLCC (4PL) | RMSE (4PL) |\n|---|---|---|---|---|---|---|---|\n")
	for _, name := range r.Order {
		d := r.Datasets[name]
		srcc, plcc, rmse := "n/a", "n/a", "n/a"
		if d.Metrics != nil {
			srcc, plcc, rmse = FormatCI(d.Metrics.SRCC), FormatCI(d.Metrics.PLCC4PL), FormatCI(d.Metrics.RMSE4PL)
		}
		fmt.Fprintf(&b, "| %s | %d of %d | %d | %d | %d | %s | %s | %s |\n", name, d.N, d.Total, len(d.Missing), len(d.Failed), len(d.Unlabeled), srcc, plcc, rmse)
	}
	for _, name := range r.Order {
		r.Datasets[name].markdown(&b, len(r.Checkpoints))
	}
	return b.Bytes()
}

func (d *DatasetReport) markdown(b *bytes.Buffer, nCkpt int) {
	fmt.Fprintf(b, "\n## %s\n\n", d.Name)
	src := d.Shards
	if src == "" {
		src = fmt.Sprintf("loader %s, root %s", d.Loader, d.Root)
		if d.Labels != "" {
			src += ", labels " + d.Labels
		}
		if d.Split != "" {
			src += ", split " + d.Split
		}
	}
	fmt.Fprintf(b, "Source: %s. %d records: %d scored, %d missing files, %d failed, %d unlabeled, %d over the limit. Predictions: `%s`.\n\n",
		src, d.Total, d.N, len(d.Missing), len(d.Failed), len(d.Unlabeled), d.Skipped, d.Predictions)
	if len(d.Missing) > 0 {
		fmt.Fprintf(b, "Missing (%d, all listed in report.json): %s\n\n", len(d.Missing), headList(d.Missing, 10))
	}
	if len(d.Failed) > 0 {
		fmt.Fprintf(b, "Failed (%d, excluded from the metrics):\n\n", len(d.Failed))
		for _, f := range d.Failed {
			fmt.Fprintf(b, "- `%s`: %s\n", f.ID, strings.ReplaceAll(f.Error, "\n", " "))
		}
		b.WriteString("\n")
	}
	if d.Metrics == nil {
		fmt.Fprintf(b, "Metrics undefined: %s\n", d.MetricsError)
		if d.Pairs != nil {
			d.Pairs.markdown(b)
		}
		return
	}
	b.WriteString("| metric | value [95% CI] |")
	if d.Aggregate != nil {
		fmt.Fprintf(b, " over %d checkpoints: mean ± std [min, max] |\n|---|---|---|\n", nCkpt)
	} else {
		b.WriteString("\n|---|---|\n")
	}
	for i, ci := range MetricCIs(d.Metrics) {
		fmt.Fprintf(b, "| %s | %s |", MetricNames[i], FormatCI(ci))
		if d.Aggregate != nil {
			if s, ok := d.Aggregate[MetricNames[i]]; ok {
				fmt.Fprintf(b, " %s ± %s [%s, %s] |", f4(s.Mean), f4(s.Std), f4(s.Min), f4(s.Max))
			} else {
				b.WriteString(" n/a |")
			}
		}
		b.WriteString("\n")
	}
	if nCkpt > 1 {
		b.WriteString("\n| checkpoint | SRCC | PLCC (4PL) |\n|---|---|---|\n")
		for _, c := range d.PerCheckpoint {
			if c.Metrics == nil {
				fmt.Fprintf(b, "| %s | n/a (%s) | n/a |\n", c.Checkpoint, c.Error)
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", c.Checkpoint, FormatCI(c.Metrics.SRCC), FormatCI(c.Metrics.PLCC4PL))
		}
	}
	if d.Pairs != nil {
		d.Pairs.markdown(b)
	}
	t := d.Timing
	fmt.Fprintf(b, "\nTime: %.1f s wall; summed sample %.1f s, bridge %.2f s, score %.2f s.\n", d.Seconds, t.Sample, t.Bridge, t.Score)
	if d.Plot != "" {
		fmt.Fprintf(b, "\n![%s: prediction vs MOS](%s)\n", d.Name, d.Plot)
	}
}

func headList(v []string, n int) string {
	if len(v) <= n {
		return strings.Join(v, ", ")
	}
	return strings.Join(v[:n], ", ") + fmt.Sprintf(", ... (%d more)", len(v)-n)
}

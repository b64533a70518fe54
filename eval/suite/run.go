package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/progress"
)

// Options configure Run.
type Options struct {
	Scorers   []*Scorer // loaded checkpoints (Load); names must differ
	Datasets  []Dataset // validated (Validate)
	OutDir    string
	Resamples int    // bootstrap resamples (0 = metrics.DefaultResamples)
	Seed      uint64 // bootstrap seed
	Batch     int    // batch size for shard datasets (0 = 8)
	Jobs      int    // videos sampled at once ahead of the model (0 = 2)
	MaxPairs  int    // pairs of each kind evaluated per shard dataset (0 = all; else a seeded sample)
	Progress  io.Writer
	Now       func() time.Time
	// AfterDataset, when set, runs once a dataset's files are written; an
	// error aborts the run (tests inject mid-run crashes with it).
	AfterDataset func(name string) error
}

// Run evaluates every dataset with every scorer and writes, under OutDir:
// predictions/<dataset>.csv (and <dataset>.<checkpoint>.csv with several
// checkpoints), plots/<dataset>.png, report.json and report.md. Each file is
// written atomically. Missing and unscorable videos are listed in the
// report, never dropped silently; only setup problems (unreadable label file,
// shard directory) return an error.
func Run(ctx context.Context, o Options) (*Report, error) {
	if len(o.Scorers) == 0 {
		return nil, errors.New("suite: no checkpoints")
	}
	if err := checkSameSampler(o.Scorers); err != nil {
		return nil, err
	}
	if err := Validate(o.Datasets); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, s := range o.Scorers {
		if names[s.Name] {
			return nil, fmt.Errorf("suite: two checkpoints are named %q", s.Name)
		}
		names[s.Name] = true
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, d := range []string{"predictions", "plots"} {
		if err := os.MkdirAll(filepath.Join(o.OutDir, d), 0o755); err != nil {
			return nil, err
		}
	}
	rep := &Report{Schema: SchemaVersion, Created: o.Now().UTC().Format(time.RFC3339), Seed: o.Seed,
		Resamples: o.Resamples, Sampler: o.Scorers[0].Params, Datasets: map[string]*DatasetReport{}}
	if rep.Resamples == 0 {
		rep.Resamples = metrics.DefaultResamples
	}
	for _, s := range o.Scorers {
		rep.Checkpoints = append(rep.Checkpoints, CheckpointInfo{Name: s.Name, Path: s.Checkpoint})
	}
	for _, d := range o.Datasets {
		start := time.Now()
		dr, preds, mos, ids, err := collect(ctx, o, d)
		if err != nil {
			return nil, fmt.Errorf("suite: dataset %s: %w", d.Name, err)
		}
		dr.N = len(ids)
		if err := finish(o, dr, preds, mos, ids); err != nil {
			return nil, fmt.Errorf("suite: dataset %s: %w", d.Name, err)
		}
		if d.Shards != "" {
			if dr.Pairs, err = shardPairs(ctx, o, d.Shards, preds, ids); err != nil {
				return nil, fmt.Errorf("suite: dataset %s: %w", d.Name, err)
			}
		}
		dr.Seconds = time.Since(start).Seconds()
		rep.Order = append(rep.Order, d.Name)
		rep.Datasets[d.Name] = dr
		if o.AfterDataset != nil {
			if err := o.AfterDataset(d.Name); err != nil {
				return nil, err
			}
		}
	}
	return rep, rep.Write(o.OutDir)
}

// Write stores report.json and report.md in dir.
func (r *Report) Write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, "report.md"), r.Markdown(), 0o644)
}

// collect scores one dataset: preds[k] are scorer k's predictions, aligned
// with mos and ids.
func collect(ctx context.Context, o Options, d Dataset) (dr *DatasetReport, preds [][]float64, mos []float64, ids []string, err error) {
	dr = &DatasetReport{Name: d.Name, Loader: d.Loader, Root: d.Root, Labels: d.Labels, Split: d.Split, Shards: d.Shards,
		Missing: []string{}, Failed: []Failure{}, Unlabeled: []string{}}
	preds = make([][]float64, len(o.Scorers))
	if d.Shards != "" {
		return collectShards(ctx, o, d, dr, preds)
	}
	recs, err := datasets.Load(d.Loader, d.options())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	dr.Total = len(recs)
	var todo []datasets.Record
	for _, r := range recs {
		switch _, serr := os.Stat(r.Path); {
		case errors.Is(serr, fs.ErrNotExist):
			dr.Missing = append(dr.Missing, r.ID)
		case serr != nil:
			dr.Failed = append(dr.Failed, Failure{ID: r.ID, Path: r.Path, Error: serr.Error()})
		case !r.HasMOS():
			dr.Unlabeled = append(dr.Unlabeled, r.ID)
		case d.Limit > 0 && len(todo) >= d.Limit:
			dr.Skipped++
		default:
			todo = append(todo, r)
		}
	}
	bar := progress.New(o.Progress, "eval "+d.Name, "videos", len(todo))
	defer bar.Finish()
	for s := range prefetch(ctx, todo, o.Scorers, o.Jobs) {
		bar.Add(1)
		if s.err != nil {
			dr.Failed = append(dr.Failed, Failure{ID: s.r.ID, Path: s.r.Path, Error: s.err.Error()})
			continue
		}
		dr.Timing.Sample += s.secs
		row := make([]float64, len(o.Scorers))
		var serr error
		for k, sc := range o.Scorers {
			res, err := sc.ScoreClip(s.clip, ScoreOptions{})
			if err != nil {
				serr = fmt.Errorf("checkpoint %s: %w", sc.Name, err)
				break
			}
			row[k] = res.Score
			dr.Timing.Add(res.Timing)
		}
		if serr != nil {
			dr.Failed = append(dr.Failed, Failure{ID: s.r.ID, Path: s.r.Path, Error: serr.Error()})
			continue
		}
		for k := range row {
			preds[k] = append(preds[k], row[k])
		}
		mos = append(mos, s.r.MOSNorm)
		ids = append(ids, s.r.ID)
	}
	return dr, preds, mos, ids, ctx.Err()
}

// collectShards scores a shard directory with every scorer.
func collectShards(ctx context.Context, o Options, d Dataset, dr *DatasetReport, preds [][]float64) (*DatasetReport, [][]float64, []float64, []string, error) {
	ds, err := shards.Open(d.Shards)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, f := range ds.Manifest().Failures {
		if f.Missing {
			dr.Missing = append(dr.Missing, f.ID)
			continue
		}
		dr.Failed = append(dr.Failed, Failure{ID: f.ID, Path: f.Path, Error: "failed when the shards were built: " + f.Error})
	}
	dr.Total = ds.Len() + len(dr.Failed) + len(dr.Missing)
	var mos []float64
	var ids []string
	for k, sc := range o.Scorers {
		start := time.Now()
		scored, err := sc.ScoreShards(ctx, ds, o.Batch)
		p, m, i := scored.Pred, scored.MOS, scored.IDs
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("checkpoint %s: %w", sc.Name, err)
		}
		dr.Timing.Score += time.Since(start).Seconds()
		if k == 0 {
			mos, ids = m, i
		} else if len(i) != len(ids) {
			return nil, nil, nil, nil, fmt.Errorf("checkpoint %s scored %d records, %s %d", sc.Name, len(i), o.Scorers[0].Name, len(ids))
		}
		preds[k] = p
	}
	if n := ds.Len() - len(ids); n > 0 {
		// Rows without a usable MOS (CRF-ladder items) are not scored; name them.
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		for recs, err := range ds.Batches(ctx, shards.BatchOptions{BatchSize: 64}) {
			if err != nil {
				return nil, nil, nil, nil, err
			}
			for _, r := range recs {
				if !seen[r.ID] {
					dr.Unlabeled = append(dr.Unlabeled, r.ID)
				}
			}
		}
	}
	return dr, preds, mos, ids, nil
}

// shardPairs evaluates the pairs of a shard directory (nil without
// pairs.jsonl), reusing the scores of its labelled records.
func shardPairs(ctx context.Context, o Options, dir string, preds [][]float64, ids []string) (*PairsReport, error) {
	ds, err := shards.Open(dir)
	if err != nil {
		return nil, err
	}
	scores := make([]map[string]float64, len(preds))
	for k, p := range preds {
		scores[k] = make(map[string]float64, len(ids))
		for i, id := range ids {
			scores[k][id] = p[i]
		}
	}
	return evalPairs(ctx, o, ds, scores)
}

// finish writes the prediction files and the plot and fills the metrics.
func finish(o Options, dr *DatasetReport, preds [][]float64, mos []float64, ids []string) error {
	write := func(name string, pred []float64) error {
		rows := make([]predictions.Row, len(ids))
		for i := range ids {
			rows[i] = predictions.Row{ID: ids[i], Pred: pred[i], MOS: mos[i]}
		}
		var buf bytes.Buffer
		if err := predictions.Write(&buf, rows); err != nil {
			return err
		}
		return fsutil.WriteFileAtomic(filepath.Join(o.OutDir, name), buf.Bytes(), 0o644)
	}
	compute := func(pred []float64) (*metrics.Report, string) {
		r, err := metrics.Compute(pred, mos, metrics.Options{Resamples: o.Resamples, Seed: o.Seed})
		if err != nil {
			return nil, err.Error()
		}
		return &r, ""
	}
	mean := preds[0]
	if len(preds) > 1 {
		mean = make([]float64, len(ids))
		for _, p := range preds {
			for i, v := range p {
				mean[i] += v / float64(len(preds))
			}
		}
		vals := make([][]float64, len(MetricNames))
		for k, p := range preds {
			cm := CheckpointMetrics{Checkpoint: o.Scorers[k].Name, Predictions: fmt.Sprintf("predictions/%s.%s.csv", dr.Name, o.Scorers[k].Name)}
			if err := write(cm.Predictions, p); err != nil {
				return err
			}
			cm.Metrics, cm.Error = compute(p)
			if cm.Metrics != nil {
				for i, ci := range MetricCIs(cm.Metrics) {
					vals[i] = append(vals[i], ci.Value)
				}
			}
			dr.PerCheckpoint = append(dr.PerCheckpoint, cm)
		}
		dr.Aggregate = map[string]metrics.Summary{}
		for i, v := range vals {
			// A metric undefined for some checkpoint has no honest spread: leave it out.
			if s, err := metrics.Aggregate(v); err == nil && len(v) == len(preds) {
				dr.Aggregate[MetricNames[i]] = s
			}
		}
	}
	dr.Predictions = "predictions/" + dr.Name + ".csv"
	if err := write(dr.Predictions, mean); err != nil {
		return err
	}
	dr.Metrics, dr.MetricsError = compute(mean)
	if len(preds) == 1 {
		dr.PerCheckpoint = []CheckpointMetrics{{Checkpoint: o.Scorers[0].Name, Predictions: dr.Predictions, Metrics: dr.Metrics, Error: dr.MetricsError}}
	}
	if len(ids) > 0 {
		dr.Plot = "plots/" + dr.Name + ".png"
		if err := scatterPlot(filepath.Join(o.OutDir, dr.Plot), dr, mean, mos); err != nil {
			return err
		}
	}
	return nil
}

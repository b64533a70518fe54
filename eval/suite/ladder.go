package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cpllm/cpllm/data/augment"
	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/progress"
)

// LadderOptions configure RunLadder.
type LadderOptions struct {
	Dir       string    // a `cpllm data ladder` output (ladder.jsonl)
	Scorers   []*Scorer // one result per checkpoint
	OutDir    string
	Resamples int
	Seed      uint64
	Jobs      int
	Progress  io.Writer
	Now       func() time.Time
}

// LadderReport is ladder.json: how each checkpoint's score falls with the
// CRF of compressed versions of the same source.
type LadderReport struct {
	Schema      int                `json:"schema"`
	Created     string             `json:"created"`
	Dir         string             `json:"dir"`
	Seed        uint64             `json:"seed"`
	Resamples   int                `json:"resamples"`
	Sampler     sample.Params      `json:"sampler"`
	Checkpoints []LadderCheckpoint `json:"checkpoints"`
	Failed      []Failure          `json:"failed"` // outputs that could not be scored (left out of their source)
}

// LadderCheckpoint is one checkpoint over all sources. SRCC and
// PairAccuracy are means over sources with a bootstrap CI over sources.
type LadderCheckpoint struct {
	Checkpoint   string         `json:"checkpoint"`
	Plot         string         `json:"plot"`
	SRCC         metrics.CI     `json:"srcc"`          // mean over sources of SRCC(score, -CRF)
	PairAccuracy metrics.CI     `json:"pair_accuracy"` // mean fraction of adjacent levels ordered correctly
	Undefined    int            `json:"undefined"`     // sources whose SRCC is undefined (constant scores, < 3 levels)
	Sources      []LadderSource `json:"sources"`
}

// LadderSource is one source's levels, ordered by CRF.
type LadderSource struct {
	SourceID     string        `json:"source_id"`
	SRCC         float64       `json:"srcc"`          // SRCC(score, -CRF); NaN (null) when undefined
	Pairs        int           `json:"pairs"`         // adjacent CRF pairs
	Ordered      int           `json:"ordered"`       // pairs with score(crf_i) >= score(crf_i+1)
	PairAccuracy float64       `json:"pair_accuracy"` // Ordered / Pairs
	Levels       []LadderLevel `json:"levels"`
}

// MarshalJSON writes NaN as null.
func (s LadderSource) MarshalJSON() ([]byte, error) {
	type plain LadderSource
	return json.Marshal(struct {
		plain
		SRCC         *float64 `json:"srcc"`
		PairAccuracy *float64 `json:"pair_accuracy"`
	}{plain(s), finitePtr(s.SRCC), finitePtr(s.PairAccuracy)})
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// LadderLevel is one scored output.
type LadderLevel struct {
	CRF          int     `json:"crf"`
	EffectiveCRF float64 `json:"effective_crf"`
	Path         string  `json:"path"`
	Score        float64 `json:"score"`
}

// LadderStats computes a source's SRCC against -CRF and its adjacent-pair
// ordering from levels sorted by CRF.
func LadderStats(levels []LadderLevel) (srcc float64, pairs, ordered int) {
	score, neg := make([]float64, len(levels)), make([]float64, len(levels))
	for i, l := range levels {
		score[i], neg[i] = l.Score, -float64(l.CRF)
		if i > 0 {
			pairs++
			if levels[i-1].Score >= l.Score {
				ordered++
			}
		}
	}
	srcc, err := metrics.SRCC(score, neg)
	if err != nil {
		srcc = math.NaN()
	}
	return srcc, pairs, ordered
}

// RunLadder scores every output of a ladder directory and writes
// ladder.json, ladder.md and ladder-<checkpoint>.png under OutDir.
func RunLadder(ctx context.Context, o LadderOptions) (*LadderReport, error) {
	if len(o.Scorers) == 0 {
		return nil, errors.New("ladder eval: no checkpoints")
	}
	if err := checkSameSampler(o.Scorers); err != nil {
		return nil, err
	}
	rows, err := augment.ReadRows(o.Dir)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("ladder eval: %s has no outputs in ladder.jsonl", o.Dir)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	recs := make([]datasets.Record, len(rows))
	for i, r := range rows {
		recs[i] = datasets.Record{ID: augment.RungID(r.SourceID, r.CRF), Path: ladderOutput(o.Dir, r)}
	}
	rep := &LadderReport{Schema: SchemaVersion, Created: o.Now().UTC().Format(time.RFC3339), Dir: o.Dir, Seed: o.Seed,
		Resamples: o.Resamples, Sampler: o.Scorers[0].Params, Failed: []Failure{}}
	if rep.Resamples == 0 {
		rep.Resamples = metrics.DefaultResamples
	}
	bySource := make([]map[string][]LadderLevel, len(o.Scorers))
	for k := range bySource {
		bySource[k] = map[string][]LadderLevel{}
	}
	var order []string
	bar := progress.New(o.Progress, "eval ladder", "videos", len(recs))
	i := 0
	for s := range prefetch(ctx, recs, o.Scorers, o.Jobs) {
		row := rows[i]
		i++
		bar.Add(1)
		if s.err != nil {
			rep.Failed = append(rep.Failed, Failure{ID: s.r.ID, Path: s.r.Path, Error: s.err.Error()})
			continue
		}
		s.clip.ViewKey = row.SourceID // every rung on its source's views
		for k, sc := range o.Scorers {
			res, err := sc.ScoreClip(s.clip, ScoreOptions{})
			if err != nil {
				return nil, fmt.Errorf("ladder eval: checkpoint %s: %w", sc.Name, err)
			}
			if k == 0 && len(bySource[0][row.SourceID]) == 0 {
				order = append(order, row.SourceID)
			}
			bySource[k][row.SourceID] = append(bySource[k][row.SourceID],
				LadderLevel{CRF: row.CRF, EffectiveCRF: row.EffectiveCRF, Path: s.r.Path, Score: res.Score})
		}
	}
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	for k, sc := range o.Scorers {
		lc, err := summarizeLadder(sc.Name, order, bySource[k], o.Resamples, o.Seed)
		if err != nil {
			return nil, err
		}
		lc.Plot = "ladder-" + sc.Name + ".png"
		if err := ladderPlot(filepath.Join(o.OutDir, lc.Plot), "score vs CRF: "+sc.Name, lc.Sources); err != nil {
			return nil, err
		}
		rep.Checkpoints = append(rep.Checkpoints, lc)
	}
	return rep, rep.Write(o.OutDir)
}

// ladderOutput is a row's output path; a relative path recorded by a run
// started elsewhere falls back to the standard layout under dir.
func ladderOutput(dir string, r augment.Row) string {
	if _, err := os.Stat(r.Output); err == nil || filepath.IsAbs(r.Output) {
		return r.Output
	}
	return filepath.Join(dir, r.SourceID, augment.OutputName(r.CRF))
}

// summarizeLadder computes per-source statistics and their means with CIs.
func summarizeLadder(name string, order []string, bySource map[string][]LadderLevel, resamples int, seed uint64) (LadderCheckpoint, error) {
	lc := LadderCheckpoint{Checkpoint: name}
	var srccs, accs []float64
	for _, id := range order {
		levels := bySource[id]
		slices.SortStableFunc(levels, func(a, b LadderLevel) int { return a.CRF - b.CRF })
		src := LadderSource{SourceID: id, Levels: levels}
		src.SRCC, src.Pairs, src.Ordered = LadderStats(levels)
		src.PairAccuracy = math.NaN()
		if src.Pairs > 0 {
			src.PairAccuracy = float64(src.Ordered) / float64(src.Pairs)
			accs = append(accs, src.PairAccuracy)
		}
		if math.IsNaN(src.SRCC) {
			lc.Undefined++
		} else {
			srccs = append(srccs, src.SRCC)
		}
		lc.Sources = append(lc.Sources, src)
	}
	var err error
	if lc.SRCC, err = meanCI(srccs, resamples, seed); err != nil {
		return lc, err
	}
	lc.PairAccuracy, err = meanCI(accs, resamples, seed)
	return lc, err
}

// meanCI is the mean of v with a percentile-bootstrap CI over its elements.
func meanCI(v []float64, resamples int, seed uint64) (metrics.CI, error) {
	if len(v) == 0 {
		return metrics.CI{Value: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}, nil
	}
	mean := func(a, _ []float64) (float64, error) {
		s := 0.0
		for _, x := range a {
			s += x
		}
		return s / float64(len(a)), nil
	}
	return metrics.Bootstrap(v, v, mean, resamples, seed)
}

// Write stores ladder.json and ladder.md in dir.
func (r *LadderReport) Write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "ladder.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# CRF ladder evaluation\n\nLadder %s; created %s. Means over sources with 95%% bootstrap CIs over sources (%d resamples, seed %d).\n",
		r.Dir, r.Created, r.Resamples, r.Seed)
	fmt.Fprintf(&b, "A higher CRF compresses harder, so a sound model's score falls with it: SRCC(score, -CRF) near 1 and adjacent pairs ordered (score(crf_i) >= score(crf_i+1)).\n")
	if len(r.Failed) > 0 {
		fmt.Fprintf(&b, "\nFailed outputs (%d, left out):\n\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.ID, f.Error)
		}
	}
	for _, c := range r.Checkpoints {
		fmt.Fprintf(&b, "\n## %s\n\nSRCC(score, -CRF): %s over %d sources (%d undefined). Adjacent pairs ordered: %s.\n\n",
			c.Checkpoint, FormatCI(c.SRCC), len(c.Sources)-c.Undefined, c.Undefined, FormatCI(c.PairAccuracy))
		b.WriteString("| source | levels | SRCC | ordered pairs |\n|---|---|---|---|\n")
		for _, s := range c.Sources {
			fmt.Fprintf(&b, "| %s | %d | %s | %d of %d |\n", s.SourceID, len(s.Levels), f4(s.SRCC), s.Ordered, s.Pairs)
		}
		fmt.Fprintf(&b, "\n![score vs CRF](%s)\n", c.Plot)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, "ladder.md"), b.Bytes(), 0o644)
}

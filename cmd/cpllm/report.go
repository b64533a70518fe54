package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/suite"
	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/train"
)

// runReport is `cpllm report` output (report.json): what a new user reads
// after `make demo`. Each evaluated dataset is a key holding its SRCC/PLCC
// with bootstrap CIs (konvid1k is written as "konvid").
type runReport struct {
	Run          string                   `json:"run"`
	Eval         string                   `json:"eval"`
	Train        trainSummary             `json:"train"`
	Datasets     map[string]datasetResult `json:"-"` // inlined by MarshalJSON
	Descriptions []describedVideo         `json:"descriptions"`
	Plots        []string                 `json:"plots"`
}

type trainSummary struct {
	Steps       int      `json:"steps"`
	StepSeconds float64  `json:"step_seconds"` // summed step times (excludes validation and checkpoints)
	FinalLoss   float64  `json:"final_loss"`   // mean of the last 50 steps
	BestStep    int      `json:"best_step"`
	BestValSRCC *float64 `json:"best_val_srcc"`
}

// datasetResult holds one dataset's figures; undefined values (NaN, e.g. a
// CI over too few videos) are written as null.
type datasetResult struct {
	N       int         `json:"n"`
	Missing int         `json:"missing"`
	Failed  int         `json:"failed"`
	SRCC    *float64    `json:"srcc"`
	PLCC    *float64    `json:"plcc"`
	SRCCCI  [2]*float64 `json:"srcc_ci"`
	PLCCCI  [2]*float64 `json:"plcc_ci"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func ciOf(v *float64, lo, hi *float64) metrics.CI {
	f := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	return metrics.CI{Value: f(v), CILow: f(lo), CIHigh: f(hi)}
}

type describedVideo struct {
	ID          string  `json:"id"`
	Path        string  `json:"path"`
	MOS         float64 `json:"mos"`
	Score       float64 `json:"score"`
	Level       string  `json:"level"`
	Description string  `json:"description"`
}

// MarshalJSON writes the datasets as top-level keys beside the others.
func (r runReport) MarshalJSON() ([]byte, error) {
	m := map[string]any{"run": r.Run, "eval": r.Eval, "train": r.Train, "descriptions": r.Descriptions, "plots": r.Plots}
	for k, v := range r.Datasets {
		m[k] = v
	}
	var b bytes.Buffer
	if err := writeJSON(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func newReportCmd(g *globals) *cobra.Command {
	var runDir, evalDir, manifest, split, out string
	var describeN int
	cmd := &cobra.Command{
		Use:   "report --run RUN --eval EVAL_DIR [--manifest FILE --split test --describe 3] [--out DIR]",
		Short: "Summarise a training run and its evaluation: report.json/report.md with test metrics, sample descriptions, plots",
		Long: `Reads RUN/metrics.jsonl and EVAL_DIR/report.json (from 'cpllm eval') and
writes OUT/report.json and OUT/report.md (OUT defaults to RUN's parent). Each
evaluated dataset becomes a key with n, srcc, plcc and their 95% bootstrap CIs
(the dataset konvid1k is written as "konvid"). With --manifest, the videos of
--split with the lowest, median and highest MOS (--describe of them) are
scored and described by the run's best checkpoint.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if runDir == "" || evalDir == "" {
				return fmt.Errorf("report: --run and --eval are required")
			}
			if out == "" {
				out = filepath.Dir(filepath.Clean(runDir))
			}
			rep := runReport{Run: runDir, Eval: evalDir, Datasets: map[string]datasetResult{}}
			if rep.Train, err = summariseTraining(runDir); err != nil {
				return err
			}
			ev, err := suite.ReadReport(filepath.Join(evalDir, "report.json"))
			if err != nil {
				return err
			}
			for _, name := range ev.Order {
				d := ev.Datasets[name]
				if d == nil || d.Metrics == nil {
					continue
				}
				key := name
				if name == "konvid1k" {
					key = "konvid"
				}
				rep.Datasets[key] = datasetResult{N: d.N, Missing: len(d.Missing), Failed: len(d.Failed),
					SRCC: finite(d.Metrics.SRCC.Value), PLCC: finite(d.Metrics.PLCC.Value),
					SRCCCI: [2]*float64{finite(d.Metrics.SRCC.CILow), finite(d.Metrics.SRCC.CIHigh)},
					PLCCCI: [2]*float64{finite(d.Metrics.PLCC.CILow), finite(d.Metrics.PLCC.CIHigh)}}
				if d.Plot != "" {
					rep.Plots = append(rep.Plots, filepath.Join(evalDir, d.Plot))
				}
			}
			for _, p := range []string{"loss.png", "val.png"} {
				if _, err := os.Stat(filepath.Join(runDir, p)); err == nil {
					rep.Plots = append(rep.Plots, filepath.Join(runDir, p))
				}
			}
			if manifest != "" && describeN > 0 {
				sc, err := loadScorer(cfg, runDir, prepOptions(cfg, "").Params)
				if err != nil {
					return err
				}
				if rep.Descriptions, err = describeVideos(sc, manifest, split, describeN); err != nil {
					return err
				}
			}
			var js bytes.Buffer
			if err := writeJSON(&js, rep); err != nil {
				return err
			}
			if err := fsutil.WriteFileAtomic(filepath.Join(out, "report.json"), js.Bytes(), 0o644); err != nil {
				return err
			}
			md := rep.markdown()
			if err := fsutil.WriteFileAtomic(filepath.Join(out, "report.md"), md, 0o644); err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(md)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&runDir, "run", "", "training run directory")
	f.StringVar(&evalDir, "eval", "", "output directory of 'cpllm eval' on that run")
	f.StringVar(&manifest, "manifest", "", "manifest.csv (id,path,mos,split) of videos to describe")
	f.StringVar(&split, "split", "test", "manifest split to pick the described videos from")
	f.IntVar(&describeN, "describe", 3, "videos to describe (lowest, median, highest MOS ...)")
	f.StringVar(&out, "out", "", "output directory (default: the run's parent)")
	return cmd
}

// summariseTraining reads a run's metrics.jsonl.
func summariseTraining(runDir string) (trainSummary, error) {
	var s trainSummary
	path := filepath.Join(runDir, "metrics.jsonl")
	steps, err := train.ReadMetrics(path)
	if err != nil {
		return s, err
	}
	if len(steps) == 0 {
		return s, fmt.Errorf("%s: no training steps", path)
	}
	sum := 0.0
	for i, m := range steps {
		if m.StepsPerSec > 0 {
			s.StepSeconds += 1 / m.StepsPerSec
		}
		if i >= len(steps)-50 {
			sum += m.Loss
		}
	}
	s.Steps = steps[len(steps)-1].Step
	s.FinalLoss = sum / float64(min(50, len(steps)))
	s.StepSeconds = math.Round(s.StepSeconds*10) / 10
	evals, err := train.ReadEvals(path)
	if err != nil {
		return s, err
	}
	for _, e := range evals {
		if e.Best && e.Eval.SRCC != nil {
			s.BestStep, s.BestValSRCC = e.Step, e.Eval.SRCC
		}
	}
	return s, nil
}

// describeVideos scores and describes n videos of split spread over the MOS
// range (sorted by MOS, evenly spaced ranks: lowest, ..., highest).
func describeVideos(sc *suite.Scorer, manifest, split string, n int) ([]describedVideo, error) {
	recs, err := datasets.Load("manifest", datasets.Options{Root: filepath.Dir(manifest), Labels: manifest, Split: split})
	if err != nil {
		return nil, err
	}
	recs = slices.DeleteFunc(recs, func(r datasets.Record) bool { return !r.HasMOS() })
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no labelled videos in split %q", manifest, split)
	}
	slices.SortStableFunc(recs, func(a, b datasets.Record) int {
		if a.MOSNorm != b.MOSNorm {
			return map[bool]int{true: -1, false: 1}[a.MOSNorm < b.MOSNorm]
		}
		return strings.Compare(a.ID, b.ID)
	})
	n = min(n, len(recs))
	var out []describedVideo
	for i := range n {
		j := 0
		if n > 1 {
			j = i * (len(recs) - 1) / (n - 1)
		}
		r := recs[j]
		res, err := sc.Score(r.Path, suite.ScoreOptions{Describe: true, LevelLead: true})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Path, err)
		}
		out = append(out, describedVideo{ID: r.ID, Path: r.Path, MOS: r.MOSNorm, Score: res.Score, Level: res.Level,
			Description: res.Description})
	}
	return out, nil
}

func (r runReport) markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Run report\n\nrun `%s`, evaluation `%s`\n\n", r.Run, r.Eval)
	fmt.Fprintf(&b, "Training: %d steps, %.0f s of steps, final loss %.3f", r.Train.Steps, r.Train.StepSeconds, r.Train.FinalLoss)
	if r.Train.BestValSRCC != nil {
		fmt.Fprintf(&b, ", best validation SRCC %.3f at step %d", *r.Train.BestValSRCC, r.Train.BestStep)
	}
	b.WriteString("\n\n| dataset | n | missing | failed | SRCC [95% CI] | PLCC [95% CI] |\n|---|---|---|---|---|---|\n")
	keys := make([]string, 0, len(r.Datasets))
	for k := range r.Datasets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d := r.Datasets[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s |\n", k, d.N, d.Missing, d.Failed,
			suite.FormatCI(ciOf(d.SRCC, d.SRCCCI[0], d.SRCCCI[1])), suite.FormatCI(ciOf(d.PLCC, d.PLCCCI[0], d.PLCCCI[1])))
	}
	if len(r.Descriptions) > 0 {
		b.WriteString("\n| video | MOS | score | description |\n|---|---|---|---|\n")
		for _, d := range r.Descriptions {
			fmt.Fprintf(&b, "| %s | %.2f | %.2f (%s) | %s |\n", d.ID, d.MOS, d.Score, d.Level, d.Description)
		}
	}
	if len(r.Plots) > 0 {
		b.WriteString("\nPlots:\n")
		for _, p := range r.Plots {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	return b.Bytes()
}

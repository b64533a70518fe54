package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/eval/suite"
)

// evalFlags are shared by `eval` and `eval ladder`.
type evalFlags struct {
	ckpts     []string
	out       string
	resamples int
	jobs      int
}

func (e *evalFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&e.ckpts, "checkpoint", nil, "run directory (best checkpoint) or checkpoint directory; repeat for several (metrics of the mean prediction, and mean ± std over checkpoints)")
	f.StringVar(&e.out, "out", "", "output directory (default runs/eval/<time>)")
	f.IntVar(&e.resamples, "resamples", 0, "bootstrap resamples per CI (0 = 1000, or the suite file's)")
	f.IntVar(&e.jobs, "jobs", 2, "videos decoded at once ahead of the model")
}

// scorers loads every checkpoint once; duplicate names get a suffix.
func (e *evalFlags) scorers(cfg config.Config) ([]*suite.Scorer, error) {
	if len(e.ckpts) == 0 {
		c, err := defaultCheckpoint(cfg)
		if err != nil {
			return nil, err
		}
		e.ckpts = []string{c}
	}
	p := prepOptions(cfg, "").Params
	seen := map[string]int{}
	var out []*suite.Scorer
	for _, c := range e.ckpts {
		sc, err := loadScorer(cfg, c, p)
		if err != nil {
			return nil, err
		}
		if seen[sc.Name]++; seen[sc.Name] > 1 {
			sc.Name = fmt.Sprintf("%s-%d", sc.Name, seen[sc.Name])
		}
		out = append(out, sc)
	}
	return out, nil
}

func (e *evalFlags) outDir(now time.Time) string {
	if e.out != "" {
		return e.out
	}
	return filepath.Join("runs", "eval", now.Format("20060102-150405"))
}

func newEvalCmd(g *globals) *cobra.Command {
	var ef evalFlags
	var list, suiteFile, layout string
	var batch, maxPairs int
	roots, labels := map[string]*string{}, map[string]*string{}
	cmd := &cobra.Command{
		Use:   "eval --checkpoint RUN_OR_CKPT [--checkpoint ...] (--datasets LIST --root-NAME DIR [--labels-NAME FILE] | --eval-config FILE) [--out DIR]",
		Short: "Evaluate checkpoints on test sets: predictions, metrics with bootstrap CIs, report.json/md, scatter plots",
		Long: `Scores every present video of each dataset with deterministic eval views
(shards.* sampler settings) and writes, under --out:
  predictions/<dataset>.csv            id,pred,mos (mos mapped to 1-5); with several
                                        checkpoints the mean prediction, plus
  predictions/<dataset>.<ckpt>.csv     one file per checkpoint
  plots/<dataset>.png                  prediction vs MOS with the fitted 4PL logistic
  report.json, report.md               metrics with 95% bootstrap CIs; missing files and
                                        failed (corrupt) videos listed, never dropped silently;
                                        for shard directories with pairs.jsonl, pair accuracy
                                        (below)
--datasets takes presets (` + strings.Join(suite.PresetNames(), ", ") + `; lsvq-test and
lsvq-1080p are the lsvq loader's test and test-1080p splits) and shards:DIR
entries (a pre-built shard directory, scored from its stored views). Each
preset needs --root-NAME (the lsvq presets fall back to --root-lsvq) and
may take --labels-NAME. --eval-config FILE lists datasets in YAML instead
(name, loader, root, labels, split, layout, mos_min, mos_max, shards, limit).
Pair accuracy (shards:DIR with a pairs.jsonl): on the same-source CRF-ladder
pairs (lower CRF is better) and on the cross-video pairs (higher MOS is
better, |dMOS| above the shards' margin), measured from the model's pair
answer ("first"/"second") and from its scores (score(better) > score(worse)),
each with a 95% Wilson interval (pairs taken as independent); --max-pairs N
evaluates a seeded sample of N pairs of each kind.
All checkpoints are loaded at once so each video is decoded once for all of
them (memory grows with their count). Exits non-zero, after writing
everything, when videos failed or a dataset has too few scored videos for
metrics. Subcommand: eval ladder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			var ds []suite.Dataset
			switch {
			case (list == "") == (suiteFile == ""):
				return fmt.Errorf("eval: give exactly one of --datasets and --eval-config")
			case suiteFile != "":
				sc, err := suite.LoadConfig(suiteFile)
				if err != nil {
					return err
				}
				ds = sc.Datasets
				if ef.resamples == 0 {
					ef.resamples = sc.Resamples
				}
			default:
				r, l := map[string]string{}, map[string]string{}
				for k, v := range roots {
					r[k] = *v
				}
				for k, v := range labels {
					l[k] = *v
				}
				if ds, err = suite.ParseList(list, r, l); err != nil {
					return fmt.Errorf("eval: %w", err)
				}
				for i := range ds {
					if ds[i].Name == "youtube-ugc" {
						ds[i].Layout = layout
					}
				}
			}
			scorers, err := ef.scorers(cfg)
			if err != nil {
				return fmt.Errorf("eval: %w", err)
			}
			out := ef.outDir(time.Now())
			rep, err := suite.Run(cmd.Context(), suite.Options{Scorers: scorers, Datasets: ds, OutDir: out, Resamples: ef.resamples,
				Seed: uint64(cfg.Seed), Batch: batch, Jobs: ef.jobs, MaxPairs: maxPairs, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			return printEval(cmd, rep, out)
		},
	}
	ef.add(cmd)
	f := cmd.Flags()
	f.StringVar(&list, "datasets", "", "comma-separated presets and shards:DIR entries")
	f.StringVar(&suiteFile, "eval-config", "", "YAML suite file listing the datasets (instead of --datasets)")
	f.StringVar(&layout, "layout-youtube-ugc", "", "youtube-ugc video layout: "+strings.Join(datasets.YouTubeLayouts, ", "))
	f.IntVar(&batch, "batch", 8, "batch size for shard datasets")
	f.IntVar(&maxPairs, "max-pairs", 0, "pairs of each kind (ladder, cross-video) evaluated per shard dataset (0 = all)")
	for _, name := range datasets.RootKeys() {
		roots[name], labels[name] = new(string), new(string)
		f.StringVar(roots[name], "root-"+name, "", name+" dataset root")
		f.StringVar(labels[name], "labels-"+name, "", name+" label file (default: the loader's official file under the root)")
	}
	cmd.AddCommand(newEvalLadderCmd(g), newEvalDescribeCmd(g))
	return cmd
}

// printEval prints one line per dataset and fails on failed videos or
// undefined metrics (the reports are already written).
func printEval(cmd *cobra.Command, rep *suite.Report, out string) error {
	w := cmd.OutOrStdout()
	var failed, undefined []string
	for _, name := range rep.Order {
		d := rep.Datasets[name]
		fmt.Fprintf(w, "%s: %d of %d scored (%d missing, %d failed, %d unlabeled)", name, d.N, d.Total, len(d.Missing), len(d.Failed), len(d.Unlabeled))
		if d.Metrics != nil {
			fmt.Fprintf(w, "; SRCC %s, PLCC(4PL) %s", suite.FormatCI(d.Metrics.SRCC), suite.FormatCI(d.Metrics.PLCC4PL))
		} else {
			fmt.Fprintf(w, "; metrics undefined: %s", d.MetricsError)
			undefined = append(undefined, name)
		}
		fmt.Fprintln(w)
		if p := d.Pairs; p != nil {
			for _, c := range p.Checkpoints {
				fmt.Fprintf(w, "  %s pairs, %s: ladder (%d): answer %s, scores %s; cross-video (%d): answer %s, scores %s\n", name, c.Checkpoint,
					p.Ladder, suite.FormatProportion(c.LadderAnswer), suite.FormatProportion(c.LadderScores),
					p.Cross, suite.FormatProportion(c.CrossAnswer), suite.FormatProportion(c.CrossScores))
			}
		}
		if len(d.Failed) > 0 {
			failed = append(failed, fmt.Sprintf("%s (%d)", name, len(d.Failed)))
		}
	}
	fmt.Fprintf(w, "report: %s\n", filepath.Join(out, "report.md"))
	var problems []string
	if len(failed) > 0 {
		problems = append(problems, "videos failed in "+strings.Join(failed, ", "))
	}
	if len(undefined) > 0 {
		problems = append(problems, "no metrics for "+strings.Join(undefined, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("eval: %s (see %s)", strings.Join(problems, "; "), filepath.Join(out, "report.json"))
	}
	return nil
}

func newEvalLadderCmd(g *globals) *cobra.Command {
	var ef evalFlags
	var dir string
	cmd := &cobra.Command{
		Use:   "ladder --checkpoint RUN_OR_CKPT [--checkpoint ...] --ladder DIR [--out DIR]",
		Short: "Score monotonicity under compression: SRCC(score, -CRF) and ordered adjacent CRF pairs per source",
		Long: `Scores every output of a 'data ladder' directory (its ladder.jsonl) and, per
checkpoint and source, computes SRCC between score and -CRF and the fraction
of adjacent CRF levels ordered correctly (score(crf_i) >= score(crf_i+1));
their means over sources get bootstrap CIs over sources. Writes ladder.json,
ladder.md and ladder-<checkpoint>.png (score vs CRF, a line per source).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if dir == "" {
				return fmt.Errorf("eval ladder: --ladder is required")
			}
			scorers, err := ef.scorers(cfg)
			if err != nil {
				return fmt.Errorf("eval ladder: %w", err)
			}
			out := ef.outDir(time.Now())
			rep, err := suite.RunLadder(cmd.Context(), suite.LadderOptions{Dir: dir, Scorers: scorers, OutDir: out,
				Resamples: ef.resamples, Seed: uint64(cfg.Seed), Jobs: ef.jobs, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, c := range rep.Checkpoints {
				fmt.Fprintf(w, "%s: %d sources; SRCC(score, -CRF) %s (%d undefined); adjacent pairs ordered %s\n",
					c.Checkpoint, len(c.Sources), suite.FormatCI(c.SRCC), c.Undefined, suite.FormatCI(c.PairAccuracy))
			}
			fmt.Fprintf(w, "report: %s\n", filepath.Join(out, "ladder.md"))
			if len(rep.Failed) > 0 {
				return fmt.Errorf("eval ladder: %d outputs could not be scored (listed in %s)", len(rep.Failed), filepath.Join(out, "ladder.json"))
			}
			return nil
		},
	}
	ef.add(cmd)
	cmd.Flags().StringVar(&dir, "ladder", "", "a 'data ladder' output directory")
	return cmd
}

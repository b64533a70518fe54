package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/experiments/sweep"
	"github.com/cpllm/cpllm/internal/partition"
)

func newSweepCmd(g *globals) *cobra.Command {
	var seeds, jobs int
	var shard, out string
	var dryRun, asJSON, isolate bool
	cmd := &cobra.Command{
		Use:   "sweep EXPERIMENT.yaml [--seeds N] [--jobs N] [--shard i/N] [--dry-run] [--out runs]",
		Short: "Train and evaluate every variant x seed of an ablation experiment (experiments/*.yaml)",
		Long: `Each cell (variant, seed) trains into OUT/<experiment>/<variant>/seed<k>/ with
the variant's overrides of the base model config and recipe (the seed sets
both configs' seed), then scores every test set with its best checkpoint into
predictions/<set>.csv and writes done.json last. Rerunning skips done cells
and resumes interrupted ones from their last checkpoint; a cell whose
configuration or data changed is an error (delete its directory).

--shard i/N runs the cells whose index in the seed-major cell list is i mod N
(every machine needs the same experiment file and --seeds); gather the
OUT/<experiment> trees of all shards into one directory for 'sweep report'.
--dry-run lists the cells with their partition, status and each variant's
trainable parameter count (and capacity matches) without training.
--seeds N uses seeds 1..N instead of the file's. Each cell trains in a
child process of the CLI (--isolate, on by default), which dies with the
sweep.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.load(); err != nil {
				return err
			}
			part, err := partition.Parse(shard)
			if err != nil {
				return err
			}
			e, err := sweep.Load(args[0], seeds)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if dryRun {
				plan := e.Plan(out, part)
				if asJSON {
					return writeJSON(w, plan)
				}
				printPlan(cmd, e, plan)
				if err := e.CheckData(); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: the sweep would fail: %v\n", err)
				}
				return nil
			}
			o := sweep.Options{Out: out, Jobs: jobs, Shard: part, Log: cmd.ErrOrStderr()}
			if isolate {
				o.Exec = cellExec(cmd, args[0], len(e.Cells()), cmd.ErrOrStderr())
			}
			sum, err := sweep.Run(cmd.Context(), e, o)
			fmt.Fprintf(w, "sweep %s (shard %s): %d cells: %d trained, %d already done, %d failed -> %s\n",
				e.Name, part, sum.Cells, sum.Trained, sum.Skipped, sum.Failed, e.Root(out))
			if err != nil {
				return fmt.Errorf("sweep: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&seeds, "seeds", 0, "use seeds 1..N instead of the experiment's")
	f.IntVar(&jobs, "jobs", 1, "cells trained at once")
	f.StringVar(&shard, "shard", "", "run only partition i of N of the cells (i/N)")
	f.BoolVar(&dryRun, "dry-run", false, "list the cells and parameter counts, train nothing")
	f.BoolVar(&asJSON, "json", false, "with --dry-run: print the cell list as JSON")
	f.StringVar(&out, "out", "runs", "runs directory")
	f.BoolVar(&isolate, "isolate", true, "train each cell in its own child process, so what a finished cell's backend\n"+
		"keeps (ONNX Runtime does not hand its sessions' memory back) goes with it; false: all in this process")
	cmd.AddCommand(newSweepReportCmd(g))
	return cmd
}

func printPlan(cmd *cobra.Command, e *sweep.Experiment, plan []sweep.PlanRow) {
	w := cmd.OutOrStdout()
	base := e.Variant(e.Baseline).Trainable()
	fmt.Fprintf(w, "experiment %s: %d variants x %d seeds = %d cells (%d listed)\n", e.Name, len(e.Variants), len(e.Seeds), len(e.Cells()), len(plan))
	for _, v := range e.Variants {
		key, val := v.CapacityMatch()
		note := ""
		if v.Name == e.Baseline {
			note = " (baseline)"
		} else if key != "" {
			note = fmt.Sprintf(" (capacity match: %s=%d)", key, val)
		}
		fmt.Fprintf(w, "  %-24s trainable %12d  frozen %12d  %+7.2f%% vs baseline%s\n", v.Name, v.Trainable(), v.Frozen(),
			100*float64(v.Trainable()-base)/float64(base), note)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "cell\tvariant\tseed\tshard\ttrainable\tstatus\tdir\n")
	for _, r := range plan {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%s\t%s\n", r.Index, r.Variant, r.Seed, r.Shard, r.Trainable, r.Status, r.Dir)
	}
	tw.Flush()
}

func newSweepReportCmd(g *globals) *cobra.Command {
	var seeds, resamples int
	var out, from, reportOut string
	cmd := &cobra.Command{
		Use:   "report EXPERIMENT.yaml [--out runs] [--seeds N] [--resamples N] [--from REPORT_DIR] [--report-out DIR]",
		Short: "Tables, significance tests (Holm-corrected) and bar charts of a finished sweep",
		Long: `Reads every cell's per-seed predictions (all cells must be done) and writes
OUT/<experiment>/report/ (or --report-out): report.md and report.json, per
test set: videos and seeds, trainable parameters, SRCC and PLCC per seed with
mean ± std and a 95% t interval over seeds, the metric of the seed-mean
predictions, and p-values against the baseline variant from six tests, each
on SRCC and PLCC and named in the report:
  t-test, wilcoxon          per-seed metric, paired by seed
  williams, steiger         seed-mean predictions (each video averaged over seeds)
  bootstrap-videos          paired bootstrap over videos of the seed-mean predictions
  bootstrap-hierarchical    bootstrap resampling videos and seeds
Significance is at the experiment's alpha after Holm correction across the
variants. The report directory also holds seeds/<set>/<variant>/seed<k>.csv
(copies of the per-seed predictions) and mean/<set>/<variant>.csv, on which
'cpllm compare' gives the williams, steiger and bootstrap-videos values with
the same --resamples and --seed. --from REPORT_DIR re-renders from such a
directory's seeds/ files instead of the cells (e.g. a committed report).
Same inputs, same bytes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			e, err := sweep.Load(args[0], seeds)
			if err != nil {
				return err
			}
			rep, err := sweep.BuildReport(e, out, sweep.ReportOptions{Resamples: resamples, Seed: uint64(cfg.Seed), From: from})
			if err != nil {
				return err
			}
			dir := e.ReportDir(out)
			if reportOut != "" {
				dir = reportOut
			}
			if err := sweep.WriteReport(dir, rep); err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), sweep.Markdown(rep))
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s, %s\n", filepath.Join(dir, "report.md"), filepath.Join(dir, "report.json"))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "runs", "runs directory the sweep wrote")
	cmd.Flags().IntVar(&seeds, "seeds", 0, "the --seeds the sweep ran with")
	cmd.Flags().IntVar(&resamples, "resamples", metrics.DefaultResamples, "bootstrap resamples (as cpllm compare)")
	cmd.Flags().StringVar(&from, "from", "", "read the per-seed predictions from this report directory's seeds/ instead of the cells")
	cmd.Flags().StringVar(&reportOut, "report-out", "", "write the report here (default OUT/<experiment>/report)")
	return cmd
}

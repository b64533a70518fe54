package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/eval/nightly"
)

func newNightlyCmd(g *globals) *cobra.Command {
	var date, ckpt, baseline string
	cmd := &cobra.Command{
		Use:   "nightly --config configs/nightly.yaml [--date YYYY-MM-DD] [--checkpoint C] [--baseline DIR]",
		Short: "Nightly evaluation: run the suite into OUT/<date>/, compare with the previous run and a baseline, flag regressions",
		Long: `Here --config is the nightly file (configs/nightly.yaml); its "config:" key
names the cpllm config (sampler, model_config, seed) if any. The run evaluates
the checkpoint on every dataset into OUT/<date>/ (predictions, report.json/md,
plots), compares each dataset's predictions on the same ids with the previous
run and the pinned baseline (paired bootstrap of dSRCC, Williams' t, Steiger's
z), draws an SRCC trend per dataset and writes summary.md there and in OUT/.
The run is built in a hidden temp directory and renamed when complete; a
crash leaves earlier runs and summaries untouched (the next run removes the
leftovers), and a lock file keeps two runs apart, so it is safe from cron.
Exits non-zero when a dataset's SRCC drops by more than max_drop with p < alpha,
naming the dataset and the p-value.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.configFile == "" {
				return fmt.Errorf("nightly: --config FILE (e.g. configs/nightly.yaml) is required")
			}
			nc, err := nightly.LoadConfig(g.configFile)
			if err != nil {
				return err
			}
			if ckpt != "" {
				nc.Checkpoint = ckpt
			}
			if baseline != "" {
				nc.Baseline = baseline
			}
			g.configFile = nc.Config // the cpllm config, not the nightly file
			cfg, err := g.load()
			if err != nil {
				return err
			}
			res, err := nightly.Run(cmd.Context(), nightly.Options{Config: nc, Date: date, Params: prepOptions(cfg, "").Params,
				ModelConfig: cfg.ModelConfig, Seed: uint64(cfg.Seed), Progress: cmd.ErrOrStderr()})
			if err != nil {
				return fmt.Errorf("nightly: %w", err)
			}
			w := cmd.OutOrStdout()
			for _, name := range res.Report.Order {
				d := res.Report.Datasets[name]
				srcc := "n/a"
				if d.Metrics != nil {
					srcc = fmt.Sprintf("%.4f", d.Metrics.SRCC.Value)
				}
				fmt.Fprintf(w, "%s: SRCC %s (%d of %d scored)\n", name, srcc, d.N, d.Total)
			}
			fmt.Fprintf(w, "run: %s\nsummary: %s\n", res.Dir, res.Summary)
			regs := res.Regressions()
			if len(regs) == 0 {
				return nil
			}
			lines := make([]string, len(regs))
			for i, r := range regs {
				lines[i] = nightly.RegressionLine(r, nc.Test, res.Report.Resamples)
			}
			return fmt.Errorf("nightly: %d regression(s): %s", len(regs), strings.Join(lines, "; "))
		},
	}
	f := cmd.Flags()
	f.StringVar(&date, "date", "", "run date YYYY-MM-DD (default today); names the run directory")
	f.StringVar(&ckpt, "checkpoint", "", "override the config's checkpoint")
	f.StringVar(&baseline, "baseline", "", "override the config's pinned baseline run")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/eval/compare"
	"github.com/cpllm/cpllm/eval/metrics"
	"github.com/cpllm/cpllm/eval/predictions"
)

func newMetricsCmd(g *globals) *cobra.Command {
	var asJSON bool
	var resamples int
	cmd := &cobra.Command{
		Use:   "metrics PRED.csv",
		Short: "SRCC, KRCC, PLCC (raw, 4PL, 5PL) and RMSE with bootstrap 95% CIs for a prediction file (id,pred,mos)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			rows, err := predictions.Read(args[0])
			if err != nil {
				return err
			}
			pred, mos := predictions.Columns(rows)
			rep, err := metrics.Compute(pred, mos, metrics.Options{Resamples: resamples, Seed: uint64(cfg.Seed)})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: n=%d, 95%% CIs from %d bootstrap resamples (seed %d)\n", args[0], rep.N, rep.Resamples, rep.Seed)
			fmt.Fprintf(w, "%-9s %9s %9s %9s\n", "metric", "value", "ci_low", "ci_high")
			for _, m := range []struct {
				name string
				ci   metrics.CI
			}{{"srcc", rep.SRCC}, {"krcc", rep.KRCC}, {"plcc", rep.PLCC}, {"plcc_4pl", rep.PLCC4PL},
				{"rmse_4pl", rep.RMSE4PL}, {"plcc_5pl", rep.PLCC5PL}, {"rmse_5pl", rep.RMSE5PL}} {
				fmt.Fprintf(w, "%-9s %9.4f %9.4f %9.4f\n", m.name, m.ci.Value, m.ci.CILow, m.ci.CIHigh)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	cmd.Flags().IntVar(&resamples, "resamples", metrics.DefaultResamples, "bootstrap resamples (negative: no CIs)")
	return cmd
}

// comparison is `cpllm compare` output (eval/compare, shared with the sweep report).
type comparison = compare.Result

func newCompareCmd(g *globals) *cobra.Command {
	var asJSON bool
	var resamples int
	cmd := &cobra.Command{
		Use:   "compare A.csv B.csv",
		Short: "Significance of the difference between two models' predictions on the same ids",
		Long: `Williams' t and Steiger's z test for two dependent correlations with the MOS
(on SRCC, and on PLCC), and a paired bootstrap of dSRCC = SRCC(A) - SRCC(B)
with its 95% CI and two-sided p-value. The files must hold the same ids with
the same MOS.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			c, err := compare.Files(args[0], args[1], resamples, uint64(cfg.Seed))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), c)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "n=%d  SRCC A=%.4f B=%.4f  PLCC A=%.4f B=%.4f  SRCC(A,B)=%.4f\n", c.N, c.SRCCA, c.SRCCB, c.PLCCA, c.PLCCB, c.CorrAB)
			fmt.Fprintf(w, "Williams t=%.4f p=%.4g   Steiger z=%.4f p=%.4g   (on SRCC)\n", c.WilliamsT, c.WilliamsP, c.SteigerZ, c.SteigerP)
			fmt.Fprintf(w, "Williams p=%.4g   Steiger p=%.4g   (on PLCC)\n", c.PLCCTests.Williams.P, c.PLCCTests.Steiger.P)
			d := c.BootstrapDSRCC
			fmt.Fprintf(w, "paired bootstrap dSRCC=%.4f [%.4f, %.4f] p=%.4g (%d resamples, seed %d)\n", d.Value, d.CILow, d.CIHigh, d.P, c.Resamples, c.Seed)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	cmd.Flags().IntVar(&resamples, "resamples", metrics.DefaultResamples, "bootstrap resamples")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

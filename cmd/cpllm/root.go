package main

import (
	"log/slog"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/video"
)

// globals are the flags every command shares.
type globals struct {
	configFile string
	sets       []string
	seed       int64
	logLevel   string
	cmd        *cobra.Command
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "cpllm",
		Short:         "CP-LLM video quality assessment: data, training, evaluation, scoring",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			g.cmd = cmd
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "YAML config file (over the built-in defaults)")
	pf.StringArrayVar(&g.sets, "set", nil, "override a config key, e.g. --set ladder.preset=fast (repeatable; highest precedence)")
	pf.Int64Var(&g.seed, "seed", 0, "random seed (same as --set seed=N)")
	pf.StringVar(&g.logLevel, "log-level", "", "debug | info | warn | error (same as --set log_level=L)")
	root.AddCommand(newVersionCmd(), newConfigCmd(g), newDataCmd(g), newMetricsCmd(g), newCompareCmd(g), newModelCmd(g), newTokenizerCmd(), newWeightsCmd(g), newTrainCmd(g), newScoreCmd(g), newEvalCmd(g), newReportCmd(g), newNightlyCmd(g), newSweepCmd(g))
	return root
}

// load merges defaults < --config < CPLLM_* env < --set (and the shortcut
// flags), plus command-specific flag overrides given as key=value.
func (g *globals) load(extra ...string) (config.Config, error) {
	sets := append([]string{}, g.sets...)
	if g.cmd != nil && g.cmd.Flags().Changed("seed") {
		sets = append(sets, "seed="+strconv.FormatInt(g.seed, 10))
	}
	if g.cmd != nil && g.cmd.Flags().Changed("log-level") {
		sets = append(sets, "log_level="+g.logLevel)
	}
	cfg, err := config.Load(config.Sources{File: g.configFile, Env: os.Environ(), Sets: append(sets, extra...)})
	if err != nil {
		return cfg, err
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
	video.SetFFmpegLogLevel(cfg.LogLevel == "debug")
	return cfg, nil
}

// flagSets turns the changed command flags into config overrides (flag -> key).
func flagSets(cmd *cobra.Command, keys map[string]string) []string {
	var out []string
	for flag, key := range keys {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
			out = append(out, key+"="+f.Value.String())
		}
	}
	return out
}

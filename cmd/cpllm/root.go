package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/strictyaml"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// globals are the flags every command shares.
type globals struct {
	configFile string
	sets       []string
	seed       int64
	logLevel   string
	cpuProfile string
	cmd        *cobra.Command
}

// startCPUProfile profiles the whole command into path ("" = off).
func startCPUProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	return pprof.StartCPUProfile(f)
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "cpllm",
		Short:         "CP-LLM video quality assessment: data, training, evaluation, scoring",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.cmd = cmd
			if err := startCPUProfile(g.cpuProfile); err != nil {
				return err
			}
			return checkReaders(cmd.CommandPath(), g.sets)
		},
		PersistentPostRun: func(*cobra.Command, []string) { pprof.StopCPUProfile() },
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "YAML config file (over the built-in defaults)")
	pf.StringArrayVar(&g.sets, "set", nil, "override a config key, e.g. --set ladder.preset=fast, or a key of the model config or\n"+
		"training recipe: --set model.variant.fusion=average, --set train.steps=40 (repeatable; highest precedence;\n"+
		"'cpllm config show' lists every key)")
	pf.Int64Var(&g.seed, "seed", 0, "random seed (same as --set seed=N)")
	pf.StringVar(&g.logLevel, "log-level", "", "debug | info | warn | error (same as --set log_level=L)")
	pf.StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	root.AddCommand(newVersionCmd(), newConfigCmd(g), newDataCmd(g), newMetricsCmd(g), newCompareCmd(g), newModelCmd(g), newTokenizerCmd(), newWeightsCmd(g), newTrainCmd(g), newScoreCmd(g), newEvalCmd(g), newReportCmd(g), newNightlyCmd(g), newSweepCmd(g), newBaselineCmd(g))
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
	cfg, err := config.Load(config.Sources{File: g.configFile, Env: os.Environ(), Sets: append(sets, extra...), Schemas: schemas})
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

// schemas are the structs the model config and the training recipe decode
// into: the keys --set model.KEY=VALUE and --set train.KEY=VALUE may name.
var schemas = map[string]any{config.ModelNS: model.Config{}, config.TrainNS: train.Config{}}

// readers are the commands that read the model config (model_config, or a
// run's model.yaml) or the recipe (train_config), each through loadModel,
// modelConfig or loadRecipe, which apply the overrides. Any other command
// refuses --set model.* / train.* rather than ignore them.
var readers = map[string][]string{
	"cpllm config show":    {config.ModelNS, config.TrainNS},
	"cpllm train":          {config.ModelNS, config.TrainNS},
	"cpllm train holdout":  {config.TrainNS},
	"cpllm model list":     {config.ModelNS},
	"cpllm weights import": {config.ModelNS},
	"cpllm weights export": {config.ModelNS},
	"cpllm score":          {config.ModelNS},
	"cpllm eval":           {config.ModelNS},
	"cpllm eval ladder":    {config.ModelNS},
	"cpllm report":         {config.ModelNS},
}

// checkReaders refuses --set model.KEY / train.KEY on a command that does
// not read that file (before it runs: some commands never load the config).
func checkReaders(cmdPath string, sets []string) error {
	for _, s := range sets {
		ns, rest, ok := strings.Cut(s, ".")
		if !ok || schemas[ns] == nil || slices.Contains(readers[cmdPath], ns) {
			continue
		}
		key, _, _ := strings.Cut(rest, "=")
		var cmds []string
		for c, nss := range readers {
			if slices.Contains(nss, ns) {
				cmds = append(cmds, c)
			}
		}
		slices.Sort(cmds)
		what := map[string]string{config.ModelNS: "model config (model_config)", config.TrainNS: "training recipe (train_config)"}[ns]
		return fmt.Errorf("config: --set %s.%s: %q does not read the %s; --set %s.KEY applies to: %s",
			ns, key, cmdPath, what, ns, strings.Join(cmds, ", "))
	}
	return nil
}

// modelConfig reads the model config at path with the --set model.KEY=VALUE
// overrides applied (strictyaml.ApplyBytes, the engine the sweep's variants
// use too) and parses it. It also returns the effective YAML: the file's own
// bytes when nothing is overridden.
func modelConfig(cfg config.Config, path string) (model.Config, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return model.Config{}, nil, err
	}
	eff, err := strictyaml.ApplyBytes(path, data, model.Config{}, config.ModelNS+".", cfg.ModelSets...)
	if err != nil {
		return model.Config{}, nil, err
	}
	mc, err := model.ParseConfig(eff)
	if err == nil {
		err = resolveTokenizer(&mc, path, cfg.ModelSets)
	}
	if err != nil {
		return model.Config{}, nil, fmt.Errorf("%s%s: %w", path, withSets(config.ModelNS, cfg.ModelSets), err)
	}
	return mc, eff, nil
}

// resolveTokenizer makes mc's tokenizer path absolute, relative to the
// config file's directory, or to the working directory when --set
// model.tokenizer gave it, and loads it to check it against the config.
func resolveTokenizer(mc *model.Config, path string, sets []strictyaml.Override) error {
	base := filepath.Dir(path)
	for _, o := range sets {
		if o.Key == "tokenizer" {
			base = "."
		}
	}
	if err := mc.ResolveTokenizer(base); err != nil {
		return err
	}
	_, err := model.LoadTokenizer(*mc)
	return err
}

// loadModel is modelConfig of the config key model_config.
func loadModel(cfg config.Config) (model.Config, []byte, error) {
	mc, eff, err := modelConfig(cfg, cfg.ModelConfig)
	if err != nil {
		return mc, nil, fmt.Errorf("config: key \"model_config\": %w", err)
	}
	return mc, eff, nil
}

// loadRecipe reads the training recipe of the config key train_config with
// the --set train.KEY=VALUE overrides applied, and its effective YAML.
func loadRecipe(cfg config.Config) (train.Config, []byte, error) {
	path := cfg.TrainConfig
	fail := func(err error) (train.Config, []byte, error) {
		return train.Config{}, nil, fmt.Errorf("config: key \"train_config\": %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	eff, err := strictyaml.ApplyBytes(path, data, train.Config{}, config.TrainNS+".", cfg.TrainSets...)
	if err != nil {
		return fail(err)
	}
	tc, err := train.ParseConfig(eff, path+withSets(config.TrainNS, cfg.TrainSets))
	if err != nil {
		return fail(err)
	}
	return tc, eff, nil
}

// withSets notes the overrides applied to a file, for its errors.
func withSets(ns string, sets []strictyaml.Override) string {
	if len(sets) == 0 {
		return ""
	}
	keys := make([]string, len(sets))
	for i, o := range sets {
		keys[i] = ns + "." + o.Key
	}
	return " (with --set " + strings.Join(keys, ", ") + ")"
}

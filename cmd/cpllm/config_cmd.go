package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/internal/strictyaml"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective config (defaults < --config < CPLLM_* env < --set) and the effective model config and recipe, as YAML",
		Long: `Prints the effective top-level config, then (as further YAML documents) the
model config of model_config and the training recipe of train_config, parsed
with their defaults and the --set model.KEY=VALUE / train.KEY=VALUE overrides
applied: every key --set can name. The first document loads back with
--config. A model config or recipe file that does not exist is noted in a
comment (unless overridden): commands that do not read it still work.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			b, err := cfg.YAML()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if _, err := w.Write(b); err != nil {
				return err
			}
			sections := []struct {
				ns, what, path string
				sets           []strictyaml.Override
				load           func() (any, error)
			}{
				{config.ModelNS, "model config", cfg.ModelConfig, cfg.ModelSets, func() (any, error) { mc, _, err := loadModel(cfg); return mc, err }},
				{config.TrainNS, "training recipe", cfg.TrainConfig, cfg.TrainSets, func() (any, error) { tc, _, err := loadRecipe(cfg); return tc, err }},
			}
			for _, s := range sections {
				v, err := s.load()
				if errors.Is(err, fs.ErrNotExist) && len(s.sets) == 0 {
					fmt.Fprintf(w, "---\n# %s %s: not found (set %s_config)\n", s.what, s.path, s.ns)
					continue
				}
				if err != nil {
					return err
				}
				var out bytes.Buffer
				enc := yaml.NewEncoder(&out)
				enc.SetIndent(2)
				if err := enc.Encode(map[string]any{s.ns: v}); err != nil {
					return err
				}
				fmt.Fprintf(w, "---\n# %s %s%s; --set %s.KEY=VALUE overrides any key below\n%s",
					s.what, s.path, withSets(s.ns, s.sets), s.ns, out.Bytes())
			}
			return nil
		},
	})
	return cmd
}

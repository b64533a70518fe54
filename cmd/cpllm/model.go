package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/eval/suite"
	"github.com/cpllm/cpllm/model"
)

func newModelCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "Inspect the CP-LLM model and its variants"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Every registered variant (encoders x fusion) with total, trainable and frozen parameter counts",
		Long: `Builds each variant's variables (shapes only, nothing is allocated or run)
from the model config named by the config key model_config (default
configs/model/tiny.yaml; e.g. --set model_config=configs/model/paper.yaml)
and counts parameters under the config's trainable section, so
capacity-matched ablations can be configured. A second table splits the
configured variant by component; --json has that split for every variant.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			mc, _, err := loadModel(cfg)
			if err != nil {
				return err
			}
			infos, err := model.ListVariants(mc)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), infos)
			}
			return writeModelList(cmd.OutOrStdout(), mc, infos)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list, newShipCmd())
	return cmd
}

// writeModelList prints the variants' counts, then the configured variant's
// counts per component with each component's trainable setting.
func writeModelList(w io.Writer, mc model.Config, infos []model.VariantInfo) error {
	t := mc.Trainable
	fmt.Fprintf(w, "model %s, trainable: context_encoder %s, pixel_encoder %s, projectors %s, decoder %s (fusion and heads always train)\n\n",
		mc.Name, t.ContextEncoder, t.PixelEncoder, t.Projectors, t.Decoder)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "variant\tencoders\tfusion\ttotal\ttrainable\tfrozen\t\n")
	var own *model.VariantInfo
	for i, v := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t\n", v.Name, v.Encoders, v.Fusion, v.Total, v.Trainable, v.Frozen)
		if v.Name == mc.Variant.Name() {
			own = &infos[i]
		}
	}
	if err := tw.Flush(); err != nil || own == nil {
		return err
	}
	fmt.Fprintf(w, "\n%s by component:\n", own.Name)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "component\tsetting\ttotal\ttrainable\t\n")
	for _, c := range own.Components {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\n", c.Component, c.Setting, c.Total, c.Trainable)
	}
	return tw.Flush()
}

func newShipCmd() *cobra.Command {
	var run, out string
	cmd := &cobra.Command{
		Use:   "ship --run RUN_OR_CKPT --out DIR",
		Short: "Write an inference-only checkpoint (model.yaml, tokenizer.model, weights with the EMA applied, no optimizer state)",
		Long: `Exports the best checkpoint of a run (or the checkpoint given) with the run's
model.yaml and a copy of its tokenizer into DIR, replacing DIR atomically: what score and eval need and
nothing else (a third of a training checkpoint). make model ships its run to
models/real this way.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if run == "" || out == "" {
				return fmt.Errorf("model ship: --run and --out are required")
			}
			mc, path, err := suite.ModelConfigFor(run, "")
			if err != nil {
				return fmt.Errorf("model ship: %w", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			st, err := model.Ship(mc, data, run, out)
			if err != nil {
				return fmt.Errorf("model ship: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "shipped %s (step %d) -> %s\n", st.From, st.Step, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run directory (its best checkpoint) or checkpoint directory")
	cmd.Flags().StringVar(&out, "out", "", "output directory (replaced)")
	return cmd
}

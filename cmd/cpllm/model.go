package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/model"
)

func newModelCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "Inspect the CP-LLM model and its variants"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Every registered variant (encoders x fusion) with trainable and frozen parameter counts",
		Long: `Builds each variant's variables (shapes only, nothing is run) from the model
config named by the config key model_config (default configs/model/tiny.yaml;
e.g. --set model_config=configs/model/paper.yaml) and counts parameters, so
capacity-matched ablations can be configured.`,
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
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "variant\tencoders\tfusion\ttrainable\tfrozen\t\n")
			for _, v := range infos {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", v.Name, v.Encoders, v.Fusion, v.Trainable, v.Frozen)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

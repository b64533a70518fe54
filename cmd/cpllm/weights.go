package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/weights"
)

func newWeightsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "weights", Short: "Inspect, import and export safetensors weights"}
	cmd.AddCommand(newWeightsInspectCmd(), newWeightsImportCmd(g), newWeightsExportCmd(g))
	return cmd
}

func newWeightsInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "List a safetensors file's tensors (name, dtype, shape) and metadata",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := weights.Read(args[0])
			if err != nil {
				return err
			}
			names := make([]string, 0, len(f.Tensors))
			for n := range f.Tensors {
				names = append(names, n)
			}
			sort.Strings(names)
			if asJSON {
				type entry struct {
					Name  string `json:"name"`
					DType string `json:"dtype"`
					Shape []int  `json:"shape"`
				}
				out := struct {
					Metadata map[string]string `json:"metadata"`
					Tensors  []entry           `json:"tensors"`
				}{Metadata: f.Metadata}
				for _, n := range names {
					t := f.Tensors[n]
					out.Tensors = append(out.Tensors, entry{n, string(t.DType), t.Shape})
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			total := 0
			for _, n := range names {
				t := f.Tensors[n]
				total += t.NumElements()
				fmt.Fprintf(tw, "%s\t%s\t%v\n", n, t.DType, t.Shape)
			}
			fmt.Fprintf(tw, "%d tensors, %d parameters\n", len(names), total)
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// buildModel makes the model named by the config key model_config with its
// variables initialised on the configured backend.
func buildModel(g *globals) (*model.Model, error) {
	cfg, err := g.load()
	if err != nil {
		return nil, err
	}
	mc, _, err := loadModel(cfg)
	if err != nil {
		return nil, err
	}
	m, err := model.Build(mc)
	if err != nil {
		return nil, err
	}
	b, err := model.NewBackend(mc.Backend)
	if err != nil {
		return nil, err
	}
	return m, m.Init(b)
}

func newWeightsImportCmd(g *globals) *cobra.Command {
	var siglip, gemma, videoprism, out string
	cmd := &cobra.Command{
		Use:   "import [--siglip S] [--gemma G] [--videoprism V.npz] --out CKPT.safetensors",
		Short: "Import HF-layout SigLIP (context encoder), VideoPrism (pixel encoder) and Gemma (decoder) weights into the model (strict)",
		Long: `Builds the model of model_config (e.g. --set model_config=configs/model/paper.yaml),
loads a SigLIP vision tower into the context encoder and a Gemma decoder into
the decoder by a declarative name map, and writes the whole model as a
cpllm-named safetensors file. Any missing, unexpected or mis-shaped tensor
fails the import with all of them listed; nothing is loaded partially.
S and G are a .safetensors file or a directory of shards. V is a VideoPrism
checkpoint as released (flax parameters in a .npz); the pixel encoder must be
configured as VideoPrism's encoder (docs/model.md, "Importing pretrained
weights"), and position tables of another length are resized as VideoPrism
does.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || (siglip == "" && gemma == "" && videoprism == "") {
				return fmt.Errorf("weights import: --out and at least one of --siglip, --gemma, --videoprism are required")
			}
			m, err := buildModel(g)
			if err != nil {
				return err
			}
			for _, src := range []struct {
				path string
				fn   func(*model.Model, string) (weights.Report, error)
			}{{siglip, weights.ImportSigLIP}, {videoprism, func(m *model.Model, p string) (weights.Report, error) {
				rep, resized, err := weights.ImportVideoPrism(m, p)
				for _, r := range resized {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: resized %s\n", p, r)
				}
				return rep, err
			}}, {gemma, weights.ImportGemma}} {
				if src.path == "" {
					continue
				}
				rep, err := src.fn(m, src.path)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d tensors loaded, %d variables kept, %d ignored\n",
					src.path, len(rep.Loaded), len(rep.Kept), len(rep.Ignored))
			}
			if err := weights.Export(m, out, false); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&siglip, "siglip", "", "HF SigLIP vision weights (file or directory)")
	f.StringVar(&gemma, "gemma", "", "HF Gemma weights (file or directory)")
	f.StringVar(&videoprism, "videoprism", "", "VideoPrism checkpoint (.npz, flax parameter paths)")
	f.StringVar(&out, "out", "", "output checkpoint (.safetensors)")
	return cmd
}

func newWeightsExportCmd(g *globals) *cobra.Command {
	var in, out string
	var merge bool
	cmd := &cobra.Command{
		Use:   "export --in CKPT.safetensors --out FILE [--merge-lora]",
		Short: "Re-export a cpllm checkpoint, optionally with LoRA merged into the base q/k/v weights",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return fmt.Errorf("weights export: --in and --out are required")
			}
			m, err := buildModel(g)
			if err != nil {
				return err
			}
			if _, err := weights.Load(m, in); err != nil {
				return err
			}
			if err := weights.Export(m, out, merge); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (LoRA merged: %v)\n", out, merge)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "in", "", "cpllm checkpoint (.safetensors)")
	f.StringVar(&out, "out", "", "output file")
	f.BoolVar(&merge, "merge-lora", false, "fold W + (alpha/r)·A·B into the base weights and drop the adapters")
	return cmd
}

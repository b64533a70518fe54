package main

import (
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/eval/suite"
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

// buildModel makes the model named by the config key model_config (with
// the extra overrides) with its variables initialised on the configured
// backend; it also returns the effective model YAML.
func buildModel(g *globals, extra ...string) (*model.Model, []byte, error) {
	cfg, err := g.load(extra...)
	if err != nil {
		return nil, nil, err
	}
	mc, mYAML, err := loadModel(cfg)
	if err != nil {
		return nil, nil, err
	}
	m, err := model.Build(mc)
	if err != nil {
		return nil, nil, err
	}
	b, err := model.NewBackend(mc.Backend)
	if err != nil {
		return nil, nil, err
	}
	return m, mYAML, m.Init(b)
}

// importState is the state.json of an imported checkpoint: step 0, what
// each component was loaded from.
type importState struct {
	Step     int               `json:"step"`
	Averaged bool              `json:"averaged"` // no EMA to swap in
	From     string            `json:"from"`     // "import"
	Sources  map[string]string `json:"sources"`  // siglip / videoprism / gemma / tokenizer -> path
}

func newWeightsImportCmd(g *globals) *cobra.Command {
	var siglip, gemma, videoprism, tok, out string
	cmd := &cobra.Command{
		Use:   "import [--siglip S] [--gemma G] [--videoprism V.npz] [--tokenizer T.model] --out CKPT",
		Short: "Import HF-layout SigLIP (context encoder), VideoPrism (pixel encoder) and Gemma (decoder) weights into the model (strict)",
		Long: `Builds the model of model_config (e.g. --set model_config=configs/model/paper.yaml),
loads a SigLIP vision tower into the context encoder and a Gemma decoder into
the decoder by a declarative name map, and writes a checkpoint directory:
model.yaml (the model config, naming tokenizer.model), tokenizer.model (T, or
the config's tokenizer; Gemma's tokenizer.model goes with Gemma's weights),
variables.gob and state.json (an import at step 0). train --init, eval,
score and weights export read it. Any missing, unexpected or mis-shaped
tensor fails the import with all of them listed; nothing is loaded partially.
S and G are a .safetensors file or a directory of shards. V is a VideoPrism
checkpoint as released (flax parameters in a .npz); the pixel encoder must be
configured as VideoPrism's encoder (docs/model.md, "Importing pretrained
weights"), and position tables of another length are resized as VideoPrism
does.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || (siglip == "" && gemma == "" && videoprism == "") {
				return fmt.Errorf("weights import: --out and at least one of --siglip, --gemma, --videoprism are required")
			}
			var extra []string
			if tok != "" { // like --set model.tokenizer: relative to the working directory
				extra = append(extra, "model.tokenizer="+tok)
			}
			m, mYAML, err := buildModel(g, extra...)
			if err != nil {
				return err
			}
			st := importState{Averaged: true, From: "import", Sources: map[string]string{"tokenizer": m.Cfg.Tokenizer}}
			for _, src := range []struct {
				name string
				path string
				fn   func(*model.Model, string) (weights.Report, error)
			}{{"siglip", siglip, weights.ImportSigLIP}, {"videoprism", videoprism, func(m *model.Model, p string) (weights.Report, error) {
				rep, resized, err := weights.ImportVideoPrism(m, p)
				for _, r := range resized {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: resized %s\n", p, r)
				}
				return rep, err
			}}, {"gemma", gemma, weights.ImportGemma}} {
				if src.path == "" {
					continue
				}
				rep, err := src.fn(m, src.path)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d tensors loaded, %d variables kept, %d ignored\n",
					src.path, len(rep.Loaded), len(rep.Kept), len(rep.Ignored))
				st.Sources[src.name] = src.path
			}
			if err := model.WriteCheckpoint(out, m, mYAML, st); err != nil {
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
	f.StringVar(&tok, "tokenizer", "", "SentencePiece tokenizer.model of the decoder (Gemma's with --gemma); default: the config's")
	f.StringVar(&out, "out", "", "output checkpoint directory (replaced)")
	return cmd
}

func newWeightsExportCmd(g *globals) *cobra.Command {
	var in, out string
	var merge bool
	cmd := &cobra.Command{
		Use:   "export --in CKPT --out FILE.safetensors [--merge-lora]",
		Short: "Export a checkpoint's weights as cpllm-named safetensors, optionally with LoRA merged into the base q/k/v weights",
		Long: `CKPT is a checkpoint directory (weights import, model ship, a run's
checkpoint) or a run directory (its best checkpoint), loaded with its own
model.yaml, strictly; or a .safetensors file this command wrote, loaded into
the model of model_config.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || out == "" {
				return fmt.Errorf("weights export: --in and --out are required")
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			var m *model.Model
			if st, err := os.Stat(in); err == nil && st.IsDir() {
				if m, err = loadCheckpointModel(cfg, in); err != nil {
					return err
				}
			} else {
				if m, _, err = buildModel(g); err != nil {
					return err
				}
				if _, err := weights.Load(m, in); err != nil {
					return err
				}
			}
			if err := weights.Export(m, out, merge); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (LoRA merged: %v)\n", out, merge)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "in", "", "checkpoint or run directory, or a cpllm .safetensors file")
	f.StringVar(&out, "out", "", "output file")
	f.BoolVar(&merge, "merge-lora", false, "fold W + (alpha/r)·A·B into the base weights and drop the adapters")
	return cmd
}

// loadCheckpointModel loads a checkpoint with the model config its run or
// directory recorded (model.yaml, else model_config), --set model.*
// applied, strictly (model.LoadCheckpoint).
func loadCheckpointModel(cfg config.Config, ckpt string) (*model.Model, error) {
	mc, path, err := suite.ModelConfigFor(ckpt, cfg.ModelConfig)
	if err == nil && len(cfg.ModelSets) > 0 {
		mc, _, err = modelConfig(cfg, path)
	}
	if err != nil {
		return nil, fmt.Errorf("model config of %s: %w", ckpt, err)
	}
	m, _, err := model.LoadCheckpoint(mc, ckpt)
	return m, err
}

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/progress"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

func newTrainCmd(g *globals) *cobra.Command {
	var trainDir, valDir, out, initCkpt string
	var resume bool
	cmd := &cobra.Command{
		Use:   "train (--train-shards DIR --val-shards DIR | recipe data section) --out RUNDIR [--resume] [--init CKPT]",
		Short: "Train CP-LLM (multi-task: score, description, pairwise) on Arrow shards",
		Long: `Trains the model of model_config with the recipe of train_config (config keys;
defaults configs/model/tiny.yaml and configs/train/tiny.yaml) on shards from
'data shards': --train-shards and --val-shards, or the recipe's data section
(several shard directories with sampling weights and tasks; validation held
out of the pool by holdout.fraction, docs/training.md). Writes RUNDIR/config.yaml, model.yaml, recipe.yaml,
tokenizer.model, metrics.jsonl, train.log, loss.png and val.png, and checkpoints/ (last k and
best on validation SRCC). --resume continues a killed run bit-identically from its last
checkpoint. --init CKPT starts from a checkpoint's weights (weights import,
model ship, another run): weights only, fresh optimizer, step 0; strict
(every missing, unexpected or mis-shaped tensor listed, nothing loaded) and
its tokenizer.model must be the model config's (train an import with
--set model_config=CKPT/model.yaml).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("train: --out is required")
			}
			mc, mYAML, err := loadModel(cfg)
			if err != nil {
				return err
			}
			tc, tYAML, err := loadRecipe(cfg)
			if err != nil {
				return err
			}
			if len(tc.Data) == 0 && (trainDir == "" || valDir == "") {
				return fmt.Errorf("train: --train-shards and --val-shards are required when the recipe has no data section")
			}
			lock, err := lockOut("train", out) // creates out
			if err != nil {
				return err
			}
			defer lock.Unlock()
			if err := recordRunConfig(out, cfg.YAML, tYAML); err != nil {
				return err
			}
			if err := model.WriteModelFiles(out, mc, mYAML); err != nil {
				return err
			}
			logf, err := os.OpenFile(filepath.Join(out, "train.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return err
			}
			defer logf.Close()
			bar := progress.New(cmd.ErrOrStderr(), "train", "steps", tc.Steps)
			last := 0
			res, err := train.Run(cmd.Context(), train.Options{ModelConfig: mc, Train: tc, TrainDir: trainDir, ValDir: valDir,
				OutDir: out, Resume: resume, Init: initCkpt, Log: io.MultiWriter(logf, cmd.ErrOrStderr()),
				Progress: func(step, _ int) { bar.Add(step - last); last = step }})
			bar.Finish()
			if perr := train.Plot(out); perr != nil && err == nil {
				err = perr
			}
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			best := "no best checkpoint (no validation, or select: last)"
			if res.BestCheckpoint != "" {
				best = fmt.Sprintf("best %s (step %d)", res.BestCheckpoint, res.BestStep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "train: %d steps; last checkpoint %s; %s; plots %s, %s\n",
				res.Steps, res.Checkpoint, best, filepath.Join(out, "loss.png"), filepath.Join(out, "val.png"))
			if res.LastEval != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "validation: SRCC %.4f PLCC %.4f (n=%d)\n", res.LastEval.SRCC, res.LastEval.PLCC, res.LastEval.N)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&trainDir, "train-shards", "", "training shards (from 'data shards --split train')")
	f.StringVar(&valDir, "val-shards", "", "validation shards (best checkpoint selection)")
	f.StringVar(&out, "out", "", "run directory")
	f.BoolVar(&resume, "resume", false, "continue the run in --out from its last checkpoint")
	f.StringVar(&initCkpt, "init", "", "checkpoint or run directory whose weights initialise the model (weights only, fresh optimizer)")
	cmd.AddCommand(newHoldoutCmd(g))
	return cmd
}

func newHoldoutCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "holdout --out DIR",
		Short: "Write the recipe's validation holdout as id lists (SOURCE.val.txt, SOURCE.fit.txt)",
		Long: `Draws the holdout of the recipe's data section exactly as a training run does
and writes, per score source, the held-out ids (SOURCE.val.txt) and the
scored ids left for training (SOURCE.fit.txt), one per line: --ids and
--test-ids lists for 'cpllm baseline', so baselines are fit and validated on
the records the model is.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			tc, _, err := loadRecipe(cfg)
			if err != nil {
				return err
			}
			sets, err := train.HoldoutIDs(tc)
			if err != nil {
				return err
			}
			if len(sets) == 0 {
				return fmt.Errorf("train holdout: the recipe has no data section with a holdout")
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			for _, s := range sets {
				for ext, ids := range map[string][]string{"val": s.IDs, "fit": s.Fit} {
					p := filepath.Join(out, s.Source+"."+ext+".txt")
					if err := fsutil.WriteFileAtomic(p, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
						return err
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d validation, %d training ids -> %s\n", s.Source, len(s.IDs), len(s.Fit), out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory")
	return cmd
}

// recordRunConfig writes the effective config and recipe YAML (the file with
// any --set train.* applied) into the run directory; with model.yaml and
// tokenizer.model (model.WriteModelFiles) a run can be reproduced from it
// alone.
func recordRunConfig(out string, cfgYAML func() ([]byte, error), recipe []byte) error {
	b, err := cfgYAML()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(out, "config.yaml"), b, 0o644); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(out, "recipe.yaml"), recipe, 0o644)
}

package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/eval/suite"
)

// scoreResult is one line of `cpllm score` output.
type scoreResult struct {
	Path        string             `json:"path"`
	Score       float64            `json:"score,omitempty"`
	Level       string             `json:"level,omitempty"`
	Probs       map[string]float64 `json:"probs,omitempty"`
	Description string             `json:"description,omitempty"`
	Model       string             `json:"model,omitempty"`
	Seed        int64              `json:"seed"`
	Sampler     sample.Params      `json:"sampler"`
	Timing      map[string]float64 `json:"timing_s,omitempty"` // sample (decode+resize), bridge, score, describe
	Error       string             `json:"error,omitempty"`
}

func newScoreCmd(g *globals) *cobra.Command {
	var ckpt string
	var describeText, lead bool
	var maxNew int
	cmd := &cobra.Command{
		Use:   "score [--checkpoint RUN_OR_CKPT] VIDEO_OR_IMAGE...",
		Short: "Score videos or images (1-5, level word) and describe their quality; one JSON object per file",
		Long: `Samples each video deterministically (the eval views of the shards config),
an image (.jpg, .jpeg, .png, .bmp) as a one-frame video,
scores it with the checkpoint's model (expected level over excellent..bad) and,
unless --describe=false, generates a description greedily, opening with the
score's level ("The quality is good.") unless --level-lead=false lets the
decoder write that word too. The architecture is
the run's model.yaml when the checkpoint has one, else model_config. A video
that cannot be read gets an object with "error" and the command exits
non-zero; the others are still scored. Without --checkpoint it uses the
shipped model (config key "checkpoint", default models/real; models/README.md).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if ckpt == "" {
				if ckpt, err = defaultCheckpoint(cfg); err != nil {
					return fmt.Errorf("score: %w", err)
				}
			}
			p := prepOptions(cfg, "").Params
			sc, err := loadScorer(cfg, ckpt, p)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			failed := 0
			for _, path := range args {
				res := scoreResult{Path: path, Model: ckpt, Seed: cfg.Seed, Sampler: p}
				r, err := sc.Score(path, suite.ScoreOptions{Describe: describeText, MaxTokens: maxNew, LevelLead: lead})
				if err != nil {
					res.Error = err.Error()
					failed++
				} else {
					res.Score, res.Level, res.Probs, res.Description = r.Score, r.Level, r.Probs, r.Description
					res.Timing = map[string]float64{"sample": r.Timing.Sample, "bridge": r.Timing.Bridge, "score": r.Timing.Score}
					if describeText {
						res.Timing["describe"] = r.Timing.Describe
					}
				}
				if err := enc.Encode(res); err != nil {
					return err
				}
			}
			if failed > 0 {
				return fmt.Errorf("score: %d of %d videos failed", failed, len(args))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ckpt, "checkpoint", "", "run directory (uses its best checkpoint) or checkpoint directory (default: config key \"checkpoint\", the shipped model)")
	f.BoolVar(&describeText, "describe", true, "generate a quality description")
	f.BoolVar(&lead, "level-lead", true, "open the description with the score's level (\"The quality is good.\") and let the decoder continue; false lets the decoder write the quality word too")
	f.IntVar(&maxNew, "max-tokens", 0, "description length limit in tokens (0 = what the model's input.max_text_len leaves after the prompt)")
	return cmd
}

// loadScorer loads a checkpoint with the architecture its run recorded
// (model.yaml), falling back to the model_config file, with the --set
// model.* overrides applied (e.g. model.backend, model.input.eval_views).
func loadScorer(cfg config.Config, ckpt string, p sample.Params) (*suite.Scorer, error) {
	mc, path, err := suite.ModelConfigFor(ckpt, cfg.ModelConfig)
	if err == nil && len(cfg.ModelSets) > 0 {
		mc, _, err = modelConfig(cfg, path)
	}
	if err != nil {
		return nil, fmt.Errorf("model config of %s (the run's model.yaml, else config key \"model_config\"): %w", ckpt, err)
	}
	return suite.Load(mc, ckpt, p)
}

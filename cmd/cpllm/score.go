package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/generate"
	"github.com/cpllm/cpllm/train"
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
	Timing      map[string]float64 `json:"timing_s,omitempty"` // sample (decode+resize), score, describe
	Error       string             `json:"error,omitempty"`
}

func newScoreCmd(g *globals) *cobra.Command {
	var ckpt string
	var describeText bool
	var maxNew int
	cmd := &cobra.Command{
		Use:   "score --checkpoint RUN_OR_CKPT VIDEO...",
		Short: "Score videos (1-5, level word) and describe their quality; one JSON object per video",
		Long: `Samples each video deterministically (the eval views of the shards config),
scores it with the checkpoint's model (expected level over excellent..bad) and,
unless --describe=false, generates a description greedily. A video that
cannot be read gets an object with "error" and the command exits non-zero;
the others are still scored.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if ckpt == "" {
				return fmt.Errorf("score: --checkpoint is required (a run directory or a checkpoint)")
			}
			mc, err := model.LoadConfig(cfg.ModelConfig)
			if err != nil {
				return fmt.Errorf("config: key \"model_config\": %w", err)
			}
			m, backend, err := train.LoadModel(mc, ckpt)
			if err != nil {
				return err
			}
			p := prepOptions(cfg, "").Params
			br, err := train.NewBridge(m, p.Size, 0)
			if err != nil {
				return err
			}
			pred := model.NewPredictor(m, backend)
			gen := generate.NewGenerator(m, backend)
			enc := json.NewEncoder(cmd.OutOrStdout())
			failed := 0
			for _, path := range args {
				res := scoreVideo(path, p, br, pred, gen, m, describeText, maxNew)
				res.Model, res.Seed, res.Sampler = ckpt, cfg.Seed, p
				if res.Error != "" {
					failed++
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
	f.StringVar(&ckpt, "checkpoint", "", "run directory (uses its best checkpoint) or checkpoint directory")
	f.BoolVar(&describeText, "describe", true, "generate a quality description")
	f.IntVar(&maxNew, "max-tokens", 48, "description length limit in tokens")
	return cmd
}

func scoreVideo(path string, p sample.Params, br *train.Bridge, pred *model.Predictor, gen *generate.Generator,
	m *model.Model, describeText bool, maxNew int) scoreResult {
	res := scoreResult{Path: path, Timing: map[string]float64{}}
	fail := func(err error) scoreResult { res.Error = err.Error(); res.Timing = nil; return res }
	t0 := time.Now()
	v, err := sample.Sample(path, p, sample.Eval, 0, path)
	if err != nil {
		return fail(err)
	}
	rec := &shards.Record{ID: path, Context: v.Context, M: p.M, Patches: v.PatchPix, K: p.K, MOSNorm: 3} // MOS unknown: a placeholder answer the prediction never sees
	batch, err := br.ScoreBatch([]*shards.Record{rec})
	if err != nil {
		return fail(err)
	}
	res.Timing["sample"] = time.Since(t0).Seconds()
	t0 = time.Now()
	scores, probs, err := pred.Score(batch)
	if err != nil {
		return fail(err)
	}
	res.Score = float64(scores.Value().([]float32)[0])
	res.Level = describe.LevelWord(res.Score)
	res.Probs = map[string]float64{}
	for i, pr := range probs.Value().([][]float32)[0] {
		res.Probs[model.LevelWords[i]] = float64(pr)
	}
	res.Timing["score"] = time.Since(t0).Seconds()
	if describeText {
		t0 = time.Now()
		prompt, _, err := m.Sequence(model.TaskDescribe, "")
		if err != nil {
			return fail(err)
		}
		o := generate.DefaultOptions(m)
		o.MaxNew = min(maxNew, m.Cfg.Input.MaxTextLen-len(prompt))
		out, err := gen.Generate([]generate.Video{{Frames: batch.Frames, Patches: batch.Patches}}, [][]int{prompt}, o)
		if err != nil {
			return fail(err)
		}
		res.Description = m.Tok.Decode(out[0])
		res.Timing["describe"] = time.Since(t0).Seconds()
	}
	return res
}

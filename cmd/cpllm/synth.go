package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/augment"
	"github.com/cpllm/cpllm/data/synth"
	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/progress"
)

func newSynthCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "synth --out DIR [--videos N] [--seed S]",
		Short: "Generate the labelled synthetic corpus (procedural clips, distortions, SSIM pseudo-MOS)",
		Long: `Draws N procedural source clips from FFmpeg's lavfi generators (testsrc2,
mandelbrot, life, cellauto, gradients, bars with a moving overlay, noisy geq
textures), landscape and portrait, then for each source: the pristine clip
(lossless), H.264 re-encodes at the synth.ladder_crf levels, and
synth.variants seeded distortion chains (blur, noise, down-up scaling,
combinations, half of them also compressed). Each clip's pseudo-MOS maps its
SSIM against the pristine source to [1, 5]. Writes DIR/manifest.csv (the
` + "`manifest`" + ` dataset: id,path,mos,split,source_id,crf; splits by source),
DIR/items.jsonl (all parameters) and DIR/sources.jsonl. Same seed, same bytes;
an interrupted run resumes.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(flagSets(cmd, map[string]string{"videos": "synth.videos", "jobs": "synth.jobs"})...)
			if err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("data synth: --out is required")
			}
			o, err := synthOptions(cfg)
			if err != nil {
				return err
			}
			lock, err := lockOut("data synth", out)
			if err != nil {
				return err
			}
			defer lock.Unlock()
			bar := progress.New(cmd.ErrOrStderr(), "synth", "sources", o.Videos)
			sum, err := synth.Run(cmd.Context(), out, o, bar.Add)
			bar.Finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "synth: %d sources (%d reused), %d clips -> %s\n", sum.Sources, sum.Reused, sum.Items, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory")
	cmd.Flags().Int("videos", 0, "number of source clips (config synth.videos)")
	cmd.Flags().Int("jobs", 0, "sources rendered at once (config synth.jobs)")
	return cmd
}

func synthOptions(cfg config.Config) (synth.Options, error) {
	s := cfg.Synth
	crfs, err := augment.ParseCRFs(s.LadderCRF)
	if err != nil {
		return synth.Options{}, fmt.Errorf("config: key \"synth.ladder_crf\": %w", err)
	}
	if err := (video.EncodeOptions{CRF: 0, Preset: s.Preset}).Validate(); err != nil {
		return synth.Options{}, fmt.Errorf("config: key \"synth.preset\": %w", err)
	}
	o := synth.Options{Videos: s.Videos, Seed: uint64(cfg.Seed), MinHeight: s.MinHeight, MaxHeight: s.MaxHeight,
		MinFPS: s.MinFPS, MaxFPS: s.MaxFPS, MinSeconds: s.MinSeconds, MaxSeconds: s.MaxSeconds,
		PortraitFraction: s.PortraitFraction, LadderCRFs: crfs, Variants: s.Variants, Preset: s.Preset,
		Jobs: s.Jobs, TrainFrac: s.TrainFrac, ValFrac: s.ValFrac}
	return o, o.Validate()
}

package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/eval/suite"
)

func newEvalDescribeCmd(g *globals) *cobra.Command {
	var ef evalFlags
	var maxNew, frames int
	var lead bool
	cmd := &cobra.Command{
		Use:   "describe [--checkpoint RUN_OR_CKPT ...] [--out DIR] VIDEO_OR_IMAGE...",
		Short: "Grade the checkpoints' descriptions against each file's measured signals and their own scores",
		Long: `Each checkpoint describes each file (greedy decoding, as 'cpllm score', but
the decoder writes the quality word too unless --level-lead). Every
signal word of a text (sharp, noisy, mild blocking, well exposed, ...) is a
claim, right when it is the word the description table gives the file's own
measurement (the signals the training descriptions are written from, over
--frames frames at native resolution); the quality word should be the level
of the score the same checkpoint gave; a resolution, frame rate or CRF is a
fact no model input shows. Writes describe.json, describe.md and
describe.png (claims right per kind) under --out. Without --checkpoint it
grades the shipped model. Files that cannot be read are listed and the
command exits non-zero after writing the report.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			scorers, err := ef.scorers(cfg)
			if err != nil {
				return fmt.Errorf("eval describe: %w", err)
			}
			out := ef.outDir(time.Now())
			rep, err := suite.RunDescribe(cmd.Context(), suite.DescribeOptions{Paths: args, Scorers: scorers, OutDir: out,
				MaxTokens: maxNew, Frames: frames, Jobs: ef.jobs, Progress: cmd.ErrOrStderr(), LevelLead: lead})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, c := range rep.Checkpoints {
				fmt.Fprintf(w, "%s: %d texts, %.2f claims each; right %s (majority word %s); quality word = score level %s; file facts %s; repeating %s\n",
					c.Checkpoint, c.Summary.Texts, c.Summary.ClaimsPerText, suite.FormatShare(c.ClaimsRight), suite.FormatShare(c.MajorityRight),
					suite.FormatShare(c.QualityAgrees), suite.FormatShare(c.FileFacts), suite.FormatShare(c.Repeating))
			}
			fmt.Fprintf(w, "report: %s\n", filepath.Join(out, "describe.md"))
			if len(rep.Failed) > 0 {
				return fmt.Errorf("eval describe: %d files could not be read (listed in %s)", len(rep.Failed), filepath.Join(out, "describe.json"))
			}
			return nil
		},
	}
	ef.add(cmd)
	cmd.Flags().IntVar(&maxNew, "max-tokens", 0, "description length limit in tokens (0 = what the model's input.max_text_len leaves after the prompt)")
	cmd.Flags().IntVar(&frames, "frames", 3, "frames measured per file")
	cmd.Flags().BoolVar(&lead, "level-lead", false, "open every text with its score's level, as 'cpllm score' does by default (the quality word then agrees by construction; without it the decoder's own quality word is graded)")
	return cmd
}

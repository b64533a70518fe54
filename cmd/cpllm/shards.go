package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/prep"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/progress"
)

func newShardsCmd(g *globals) *cobra.Command {
	var out, ladder, descs string
	cmd := &cobra.Command{
		Use:   "shards --dataset NAME --root DIR [--labels FILE] [--split S] [--ladder DIR] --out DIR",
		Short: "Sample every video into Arrow shards (context frames, pixel patches, labels, description, pairs)",
		Long: `For each video: M context frames (squash-resized), K non-overlapping pixel
patches (aspect-preserving resize to fit 1080x540), labels, and a quality
description (from --descriptions JSONL {"id","text"} when given, otherwise
generated from measured signals). Writes shard-NNNNN.arrow files, manifest.json
(sha256 per shard, sampler parameters, seed, failures) and pairs.jsonl (CRF
ladder pairs and cross-video pairs with a MOS margin, as ids). --ladder adds
the outputs of a 'data ladder' run as items derived from their sources.
Resumable: rerun the same command after a crash.`,
	}
	ds := addDatasetFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := g.load(flagSets(cmd, map[string]string{"compression": "shards.compression", "jobs": "shards.jobs"})...)
		if err != nil {
			return err
		}
		if out == "" {
			return fmt.Errorf("data shards: --out is required")
		}
		recs, err := ds.load()
		if err != nil {
			return err
		}
		if ladder != "" {
			if recs, err = prep.LadderItems(recs, ladder); err != nil {
				return fmt.Errorf("data shards: --ladder: %w", err)
			}
		}
		o := prepOptions(cfg, out)
		if descs != "" {
			if o.Descriptions, err = describe.LoadJSONL(descs); err != nil {
				return err
			}
		}
		bar := progress.New(cmd.ErrOrStderr(), "shards", "videos", len(recs))
		o.Progress = bar.Add
		man, sum, err := prep.Build(cmd.Context(), recs, o)
		bar.Finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "shards: %d rows in %d shards (%d written, %d already there, %d failed), %d pairs -> %s\n",
			man.TotalRows, len(man.Shards), sum.Written, sum.Skipped, sum.Failed, sum.Pairs, out)
		if sum.Failed > 0 {
			return fmt.Errorf("data shards: %d videos failed (listed in %s/manifest.json)", sum.Failed, out)
		}
		return nil
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output directory")
	f.StringVar(&ladder, "ladder", "", "a 'data ladder' output directory whose items join the dataset")
	f.StringVar(&descs, "descriptions", "", `JSONL of {"id","text"} quality descriptions to use instead of generated ones`)
	f.String("compression", "", "none | zstd | lz4 (config shards.compression)")
	f.Int("jobs", 0, "videos sampled at once (config shards.jobs)")
	return cmd
}

func prepOptions(cfg config.Config, out string) prep.Options {
	s := cfg.Shards
	return prep.Options{OutDir: out, Seed: uint64(cfg.Seed), Mode: s.Mode, Compression: s.Compression,
		MaxRows: s.MaxRows, PairMargin: s.PairMargin, MaxCross: s.MaxCross, Jobs: s.Jobs,
		Params: sample.Params{M: s.M, K: s.K, Size: s.Size, MaxLong: s.MaxLong, MaxShort: s.MaxShort, MinSide: s.MinSide}}
}

// verifyShards is `data verify --shards DIR`.
func verifyShards(cmd *cobra.Command, dir string, asJSON bool) error {
	rep, err := shards.Verify(dir)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "shards   %s\nfiles    %d\nrows     %d\nbytes    %d\nfailures %d\npairs    %d\n",
			rep.Dir, rep.Shards, rep.Rows, rep.Bytes, rep.Failures, rep.Pairs)
		for _, p := range rep.Problems {
			fmt.Fprintln(w, "problem:", p)
		}
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("data verify: %s: %d problems", dir, len(rep.Problems))
	}
	return nil
}

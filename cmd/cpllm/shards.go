package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/config"
	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/prep"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/internal/partition"
	"github.com/cpllm/cpllm/internal/progress"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/mobilenet"
)

func newShardsCmd(g *globals) *cobra.Command {
	var out, descs, shard string
	var ladders []string
	var allowMissing bool
	cmd := &cobra.Command{
		Use:   "shards --dataset NAME --root DIR [--labels FILE] [--split S] [--ladder DIR]... --out DIR [--shard i/N] [--allow-missing]",
		Short: "Sample every video or image into Arrow shards (context frames, pixel patches, labels, description, pairs)",
		Long: `For each video: M context frames (squash-resized), K pixel patches
(aspect-preserving resize to fit 1080x540; apart, unless the frames cannot
hold K apart), labels, and a quality description (from --descriptions JSONL
{"id","text"} when given, otherwise generated from measured signals). An
image (.jpg, .jpeg, .png, .bmp) is a one-frame video. Writes
shard-NNNNN.arrow files, manifest.json (sha256 per shard, sampler parameters,
seed, failures) and pairs.jsonl (CRF ladder pairs and cross-video pairs with
a MOS margin, as ids). --ladder adds the outputs of 'data ladder' runs
(repeatable: one per ladder partition) as items derived from their sources.
Resumable: rerun the same command after a crash.

A file that is missing or cannot be sampled is listed in the manifest's
failures and the command exits non-zero. With --allow-missing (a partial
download), missing files alone do not fail the command, as in 'data verify
--allow-missing'; any other failure still does, and so does a build in which
every file is missing.

--shard i/N samples only partition i of N: the records whose source id (the
record's own id when it has no source) hashes to i (FNV-1a 64 mod N), so a
source and every clip derived from it (ladder items, synthetic variants) stay
together. Pass every 'data ladder' partition with --ladder (only the items of
this partition's sources are used). Give each partition its own --out and
combine them with 'data merge', which rebuilds pairs.jsonl over all records:
the merged directory holds the same records and the same pairs as a single
run (shard file boundaries and storage order differ).`,
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
		lock, err := lockOut("data shards", out)
		if err != nil {
			return err
		}
		defer lock.Unlock()
		recs, err := ds.load()
		if err != nil {
			return err
		}
		part, err := partition.Parse(shard)
		if err != nil {
			return err
		}
		recs = partition.Filter(part, recs, family)
		for _, dir := range ladders {
			if recs, err = prep.LadderItems(recs, dir); err != nil {
				return fmt.Errorf("data shards: --ladder %s: %w", dir, err)
			}
		}
		missing := map[string]bool{}
		for _, p := range datasets.Verify(recs, datasets.VerifyOptions{}).MissingFiles {
			missing[p] = true
		}
		if err := prep.CheckIDs(recs); err != nil { // before any video is sampled
			return fmt.Errorf("data shards: %w", err)
		}
		o := prepOptions(cfg, out)
		if cfg.Shards.FrameDeep != "" {
			if o.FrameDeep, err = frameDeepFunc(cfg.Shards.FrameDeep); err != nil {
				return fmt.Errorf("data shards: shards.frame_deep: %w", err)
			}
			o.FrameDeepName = cfg.Shards.FrameDeep
		}
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
		nMissing := 0
		for _, f := range man.Failures {
			if missing[f.Path] {
				nMissing++
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "shards: %d rows in %d shards (%d written, %d already there, %d failed, %d of them missing files), %d pairs -> %s\n",
			man.TotalRows, len(man.Shards), sum.Written, sum.Skipped, sum.Failed, nMissing, sum.Pairs, out)
		switch {
		case len(man.Failures) == 0:
			return nil
		case allowMissing && nMissing == len(man.Failures) && man.TotalRows > 0:
			fmt.Fprintf(cmd.ErrOrStderr(), "data shards: %d files missing, allowed by --allow-missing (listed in %s/manifest.json)\n", nMissing, out)
			return nil
		case allowMissing && man.TotalRows == 0:
			return fmt.Errorf("data shards: all %d files failed or are missing (wrong --root?), listed in %s/manifest.json", len(man.Failures), out)
		}
		return fmt.Errorf("data shards: %d files failed, %d of them missing (listed in %s/manifest.json)", len(man.Failures), nMissing, out)
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output directory")
	f.StringArrayVar(&ladders, "ladder", nil, "a 'data ladder' output directory whose items join the dataset (repeatable)")
	f.StringVar(&shard, "shard", "", "only partition i of N of the records (i/N, by FNV-1a hash of the source id)")
	f.StringVar(&descs, "descriptions", "", `JSONL of {"id","text"} quality descriptions to use instead of generated ones`)
	f.String("compression", "", "none | zstd | lz4 (config shards.compression)")
	f.Int("jobs", 0, "videos sampled at once (config shards.jobs)")
	f.BoolVar(&allowMissing, "allow-missing", false, "missing files are listed in the manifest but do not fail the command")
	return cmd
}

// family is the partition key of a record: its source, so derived clips go
// with their source.
func family(r datasets.Record) string {
	if r.SourceID != "" {
		return r.SourceID
	}
	return r.ID
}

func newMergeCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out DIR PART...",
		Short: "Combine the shard directories of 'data shards --shard i/N' partitions into one",
		Long: `Links (or copies) every part's shard files into DIR under new names, writes one
manifest.json (the parts' sha256 are kept) and rebuilds pairs.jsonl over all
records with the config's shards.pair_margin and shards.max_cross (use the
same config as the 'data shards' runs) and the parts' seed. Parts must come
from the same settings and hold disjoint ids.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if out == "" {
				return fmt.Errorf("data merge: --out is required")
			}
			lock, err := lockOut("data merge", out)
			if err != nil {
				return err
			}
			defer lock.Unlock()
			man, n, err := shards.Merge(out, args, shards.MergeOptions{PairMargin: cfg.Shards.PairMargin, MaxCross: cfg.Shards.MaxCross})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "merge: %d parts, %d rows in %d shards, %d pairs -> %s\n", len(args), man.TotalRows, len(man.Shards), n, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "merged output directory")
	return cmd
}

func prepOptions(cfg config.Config, out string) prep.Options {
	s := cfg.Shards
	return prep.Options{OutDir: out, Seed: uint64(cfg.Seed), Mode: s.Mode, Compression: s.Compression,
		MaxRows: s.MaxRows, PairMargin: s.PairMargin, MaxCross: s.MaxCross, Jobs: s.Jobs, SourceViews: s.SourceViews,
		FrameStats: s.FrameStats,
		Params:     sample.Params{M: s.M, K: s.K, Size: s.Size, MaxLong: s.MaxLong, MaxShort: s.MaxShort, MinSide: s.MinSide}}
}

// frameDeepFunc returns the pretrained whole-frame feature extractor named
// by shards.frame_deep, on the default CPU backend (ONNX Runtime where
// installed).
func frameDeepFunc(name string) (func(frames [][]byte, w, h int) ([]float64, error), error) {
	if name != mobilenet.Name {
		return nil, fmt.Errorf("%q is not a known extractor (%s)", name, mobilenet.Name)
	}
	be, err := model.NewBackend(model.DefaultBackend)
	if err != nil {
		return nil, err
	}
	net, err := mobilenet.LoadPretrained(be)
	if err != nil {
		return nil, err
	}
	return func(frames [][]byte, w, h int) ([]float64, error) { return net.MeanFeatures(frames, h, w) }, nil
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

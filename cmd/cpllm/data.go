package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/augment"
	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/internal/partition"
	"github.com/cpllm/cpllm/internal/progress"
)

func newDataCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Prepare data: CRF ladder, dataset checks"}
	cmd.AddCommand(newLadderCmd(g), newProbeCmd(), newVerifyCmd(), newSynthCmd(g), newShardsCmd(g), newMergeCmd(g), newStatsCmd())
	return cmd
}

func newLadderCmd(g *globals) *cobra.Command {
	var in, out, shard string
	var limit int
	cmd := &cobra.Command{
		Use:   "ladder (--in PATH | --dataset NAME --root DIR [--split S]) --out DIR [--shard i/N]",
		Short: "Re-encode every source with H.264 at each CRF level (the paper's augmentation)",
		Long: `Writes DIR/<id>/crfNN.mp4 for every source and CRF level, decoding each source
once and feeding all encoders. PATH is a video, a directory of videos, or a CSV
manifest with columns id,path. Rows go to DIR/ladder.jsonl; sources that cannot
be decoded go to DIR/failures.jsonl and make the command exit non-zero.
Rerunning with the same arguments skips complete outputs and redoes partial ones.
With --dataset, the sources are the dataset's videos (e.g. --dataset lsvq
--root DIR --split train builds the paper's augmentation of LSVQ-train).
--shard i/N processes only the sources whose id hashes to partition i
(FNV-1a 64 of the id mod N, after --limit), so N machines can share the
work; give each partition its own --out.`,
	}
	ds := addDatasetFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := g.load(flagSets(cmd, map[string]string{
			"crf": "ladder.crf", "preset": "ladder.preset", "jobs": "ladder.jobs", "fanout": "ladder.fanout",
			"buffer-mb": "ladder.buffer_mb"})...)
		if err != nil {
			return err
		}
		if out == "" || (in == "") == !ds.set() {
			return errors.New("data ladder: --out and exactly one of --in or --dataset are required")
		}
		crfs, err := augment.ParseCRFs(cfg.Ladder.CRF)
		if err != nil {
			return fmt.Errorf("config: key \"ladder.crf\": %w", err)
		}
		if err := (video.EncodeOptions{CRF: crfs[0], Preset: cfg.Ladder.Preset}).Validate(); err != nil {
			return fmt.Errorf("config: key \"ladder.preset\": %w", err)
		}
		lock, err := lockOut("data ladder", out)
		if err != nil {
			return err
		}
		defer lock.Unlock()
		srcs, err := ladderSources(in, ds)
		if err != nil {
			return fmt.Errorf("data ladder: %w", err)
		}
		if limit > 0 && limit < len(srcs) {
			srcs = srcs[:limit]
		}
		part, err := partition.Parse(shard)
		if err != nil {
			return err
		}
		srcs = partition.Filter(part, srcs, func(s augment.Source) string { return s.ID })
		if crfs[len(crfs)-1] > 51 {
			slog.Warn("8-bit x264 clamps CRF above 51 to 51: those levels equal CRF 51 (effective_crf in ladder.jsonl)")
		}
		bar := progress.New(cmd.ErrOrStderr(), "ladder", "encodes", len(srcs)*len(crfs))
		sum, err := augment.Run(cmd.Context(), srcs, augment.Options{
			OutDir: out, CRFs: crfs, Preset: cfg.Ladder.Preset, Jobs: cfg.Ladder.Jobs, Fanout: cfg.Ladder.Fanout,
			BufferBytes: int64(cfg.Ladder.BufferMB) << 20,
			Progress:    bar.Add,
			Log:         func(f string, a ...any) { slog.Warn(fmt.Sprintf(f, a...)) },
		})
		bar.Finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "ladder: %d sources, %d levels: %d written, %d already complete, %d sources failed -> %s\n",
			len(srcs), len(crfs), sum.Written, sum.Skipped, sum.Failed, out)
		if sum.Failed > 0 {
			return fmt.Errorf("data ladder: %d of %d sources failed (see %s)", sum.Failed, len(srcs), filepath.Join(out, "failures.jsonl"))
		}
		return nil
	}
	f := cmd.Flags()
	f.StringVar(&in, "in", "", "video file, directory of videos, or CSV manifest (id,path)")
	f.StringVar(&out, "out", "", "output directory")
	f.IntVar(&limit, "limit", 0, "only the first N sources (quick runs)")
	f.StringVar(&shard, "shard", "", "only partition i of N of the sources (i/N, by FNV-1a hash of the id)")
	f.String("crf", "", "CRF levels: lo:hi:step or a list (config ladder.crf, default 15:53:2)")
	f.String("preset", "", "libx264 preset (config ladder.preset, default medium)")
	f.Int("jobs", 0, "sources processed at once (config ladder.jobs)")
	f.Int("fanout", 0, "encoders running at once, 0 = all (config ladder.fanout, default 4)")
	f.Int("buffer-mb", 0, "memory for a source's decoded frames so encoder groups share one decode (config ladder.buffer_mb)")
	return cmd
}

// ladderSources reads --in PATH, or the dataset's records (id and video path).
func ladderSources(in string, ds *datasetFlags) ([]augment.Source, error) {
	if in != "" {
		srcs, err := augment.SourcesFromPath(in)
		if err != nil {
			return nil, fmt.Errorf("--in: %w", err)
		}
		return srcs, nil
	}
	recs, err := ds.load()
	if err != nil {
		return nil, err
	}
	srcs := make([]augment.Source, len(recs))
	for i, r := range recs {
		srcs[i] = augment.Source{ID: r.ID, Path: r.Path}
	}
	return srcs, nil
}

func newProbeCmd() *cobra.Command {
	var decode bool
	cmd := &cobra.Command{
		Use:   "probe VIDEO...",
		Short: "Print each video's probe facts as JSON lines (with --decode, decode every frame)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			failed := 0
			for _, p := range args {
				probe := video.Probe
				if decode {
					probe = video.Verify
				}
				info, err := probe(p)
				if err != nil {
					failed++
					_ = enc.Encode(map[string]string{"path": p, "error": err.Error()})
					continue
				}
				_ = enc.Encode(info)
			}
			if failed > 0 {
				return fmt.Errorf("data probe: %d of %d files failed", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&decode, "decode", false, "decode every frame (catches truncated or corrupt files)")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/data/stats"
)

// statsRow is one record's line of `data stats`.
type statsRow struct {
	ID       string             `json:"id"`
	SourceID string             `json:"source_id"`
	CRF      *int               `json:"crf,omitempty"`
	MOS      *float64           `json:"mos,omitempty"`
	Patch    map[string]float64 `json:"patch,omitempty"`
	Frame    map[string]float64 `json:"frame,omitempty"`
}

func newStatsCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "stats --shards DIR",
		Short: "Print each shard record's statistics (the statistics token's inputs) as JSON lines",
		Long: `Prints one JSON line per record of a shard directory, in storage order:
id, source_id, crf (ladder rungs), mos (when labelled), and the 45 statistics
of data/stats (natural-scene and sharpness statistics, then the tone and
artifact signals, noise on its raw scale) of the record's stored patches
("patch": what stats nss-logsignals reads) and, when the shards were made
with shards.frame_stats, of the whole frames the patches were cut from
("frame": what stats frame-nss-logsignals reads). A record whose patches
are all flat has no "patch".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, err := shards.Open(dir)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			s := ds.FrameSize()
			for recs, err := range ds.Batches(cmd.Context(), shards.BatchOptions{}) {
				if err != nil {
					return err
				}
				for _, r := range recs {
					row := statsRow{ID: r.ID, SourceID: r.SourceID, CRF: r.CRF}
					if !math.IsNaN(r.MOS) {
						row.MOS = &r.MOS
					}
					frames, err := stats.Split(r.Patches, r.K, s)
					if err != nil {
						return fmt.Errorf("data stats: %s: record %s: %w", dir, r.ID, err)
					}
					if v, ok := stats.Of(frames, s, s); ok {
						row.Patch = named(v)
					}
					if len(r.FrameStats) > 0 {
						if len(r.FrameStats) != len(stats.Names) {
							return fmt.Errorf("data stats: %s: record %s has %d frame statistics, want %d", dir, r.ID, len(r.FrameStats), len(stats.Names))
						}
						row.Frame = named(r.FrameStats)
					}
					if err := enc.Encode(row); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "shards", "", "shard directory")
	cmd.MarkFlagRequired("shards")
	return cmd
}

func named(v []float64) map[string]float64 {
	m := make(map[string]float64, len(v))
	for i, n := range stats.Names {
		m[n] = v[i]
	}
	return m
}

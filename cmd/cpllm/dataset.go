package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/video"
)

// datasetFlags are how every data command takes a dataset:
// --dataset NAME --root DIR [--labels FILE] [--split S] [--layout L].
type datasetFlags struct {
	name, root, labels, split, layout, ids string
	mosMin, mosMax                         float64
}

func addDatasetFlags(cmd *cobra.Command) *datasetFlags {
	d := &datasetFlags{}
	f := cmd.Flags()
	f.StringVar(&d.name, "dataset", "", "dataset loader: "+strings.Join(datasets.Names(), ", "))
	f.StringVar(&d.root, "root", "", "dataset root directory (videos, and the default label file)")
	f.StringVar(&d.labels, "labels", "", "label file (default: the loader's official file under --root)")
	f.StringVar(&d.split, "split", "", "split to select (e.g. train, test, test-1080p); empty = all")
	f.StringVar(&d.ids, "ids", "", "keep only the ids listed in this file, one per line (e.g. a split file)")
	f.StringVar(&d.layout, "layout", "", "youtube-ugc video layout: "+strings.Join(datasets.YouTubeLayouts, ", "))
	f.Float64Var(&d.mosMin, "mos-min", 0, "override the MOS scale minimum (with --mos-max)")
	f.Float64Var(&d.mosMax, "mos-max", 0, "override the MOS scale maximum (with --mos-min)")
	return d
}

func (d *datasetFlags) set() bool { return d.name != "" }

func (d *datasetFlags) load() ([]datasets.Record, error) {
	if d.name == "" {
		return nil, errors.New("--dataset is required")
	}
	recs, err := datasets.Load(d.name, datasets.Options{Root: d.root, Labels: d.labels, Split: d.split,
		Layout: d.layout, MOSMin: d.mosMin, MOSMax: d.mosMax})
	if errors.Is(err, datasets.ErrScale) {
		return nil, fmt.Errorf("dataset %s: %w; set the scale with --mos-min and --mos-max (e.g. --mos-min 0 --mos-max 100)", d.name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.name, err)
	}
	if d.ids != "" {
		if recs, err = datasets.SelectIDs(recs, d.ids); err != nil {
			return nil, fmt.Errorf("dataset %s: --ids: %w", d.name, err)
		}
	}
	return recs, nil
}

func newVerifyCmd() *cobra.Command {
	var decode, allowMissing, asJSON bool
	var workers int
	var shardsDir string
	cmd := &cobra.Command{
		Use:   "verify (--dataset NAME --root DIR [--labels FILE] | --shards DIR)",
		Short: "Check a dataset: rows, MOS range, duplicates, missing and (with --decode) undecodable files",
		Long: `Loads the dataset's label file strictly (a malformed row is an error naming
file and line), then reports rows, MOS range, duplicate ids, missing files and,
with --decode, each file's probe facts and the files that cannot be decoded.
Exits non-zero on any problem; --allow-missing tolerates missing files (a
partial download) but not other problems. With --shards DIR it checks a shard
directory instead: manifest, every shard's sha256, row counts, ids, pairs.`,
	}
	ds := addDatasetFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if shardsDir != "" {
			return verifyShards(cmd, shardsDir, asJSON)
		}
		recs, err := ds.load()
		if err != nil {
			return err
		}
		rep := datasets.Verify(recs, datasets.VerifyOptions{Decode: decode, Workers: workers,
			Probe: func(p string) (any, error) { return video.Verify(p) }})
		out := cmd.OutOrStdout()
		if asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else if err := rep.WriteTable(out); err != nil {
			return err
		}
		if probs := rep.Problems(allowMissing); len(probs) > 0 {
			return fmt.Errorf("data verify: %s has problems: %s", ds.name, strings.Join(probs, "; "))
		}
		return nil
	}
	f := cmd.Flags()
	f.BoolVar(&decode, "decode", false, "probe and fully decode every present video")
	f.BoolVar(&allowMissing, "allow-missing", false, "missing video files are not an error")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON instead of a table")
	f.IntVar(&workers, "workers", 2, "videos decoded at once with --decode")
	f.StringVar(&shardsDir, "shards", "", "verify a shard directory (from 'data shards') instead of a dataset")
	return cmd
}

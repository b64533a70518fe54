package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/eval/baseline"
	"github.com/cpllm/cpllm/eval/predictions"
	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/progress"
	"github.com/cpllm/cpllm/model/mobilenet"
)

func newBaselineCmd(g *globals) *cobra.Command {
	var out, testIDs, deepName string
	var cv, frames, jobs, resamples int
	var loo, skipMissing bool
	cmd := &cobra.Command{
		Use:   "baseline --dataset NAME --root DIR [--labels FILE] [--ids FILE] [--test-ids FILE] [--cv K] [--loo] --out DIR",
		Short: "Classic no-reference baselines (bit rate, BRISQUE-style NSS, sharpness; ridge and single features) on a labelled set",
		Long: `Computes per clip: the video stream's bit rate (bits per second per pixel, and
kbps), BRISQUE-style natural-scene statistics (Mittal et al. 2012: MSCN
coefficients, GGD and 4 AGGD fits at native and half resolution, 36 features)
averaged over --frames uniformly spaced frames, and two sharpness statistics
(MSCN variance, log-variance of the Laplacian); with --deep mobilenetv2 also
the features of a frozen pretrained MobileNetV2 (model/mobilenet, make
pretrained-deps: per-stage channel means and standard deviations) of the same
frames, averaged. Features are cached per clip in
DIR/features.jsonl, so reruns are cheap and an interrupted run resumes.

The train set is the dataset (after --ids FILE); --test-ids FILE names a
disjoint test set. Baselines: ridge regression (features z-scored on the
training rows, lambda by leave-one-out on the training rows only) on the
BRISQUE features, on all NSS features and on everything (with --deep: on
the MobileNetV2 features, on the middle stages' channel means, and on those
with the classic features); and every classic feature alone (raw value, sign fixed on the training rows). Protocols: train -> test
(with --test-ids), --cv K seeded K-fold cross-validation over the train set
(out-of-fold predictions), --loo leave-one-out. --seed seeds the folds and
the bootstrap. Writes DIR/report.json, DIR/report.md (SRCC/PLCC with 95%
bootstrap CIs, n, protocol, seed, chosen lambdas) and scatter PNGs of the
ridge baselines.`,
	}
	ds := addDatasetFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := g.load()
		if err != nil {
			return err
		}
		switch {
		case out == "":
			return errors.New("baseline: --out is required")
		case frames <= 0:
			return fmt.Errorf("baseline: --frames must be positive, got %d", frames)
		case cv == 1 || cv < 0:
			return fmt.Errorf("baseline: --cv must be 0 (off) or at least 2, got %d", cv)
		case cv == 0 && !loo && testIDs == "":
			return errors.New("baseline: nothing to evaluate: give --test-ids, --cv K or --loo")
		}
		train, test, err := baselineSets(ds, testIDs, skipMissing, cmd)
		if err != nil {
			return err
		}
		lock, err := lockOut("baseline", out)
		if err != nil {
			return err
		}
		defer lock.Unlock()
		cache, err := baseline.OpenCache(filepath.Join(out, "features.jsonl"))
		if err != nil {
			return err
		}
		clips := append(baselineClips(train), baselineClips(test)...)
		bar := progress.New(cmd.ErrOrStderr(), "baseline features", "clips", len(clips))
		var deep *baseline.Deep
		if deepName != "" {
			fn, err := frameDeepFunc(deepName)
			if err != nil {
				return fmt.Errorf("baseline: --deep: %w", err)
			}
			deep = &baseline.Deep{Name: deepName, Names: mobilenet.FeatureNames(), Fn: fn}
		}
		feats, err := baseline.ExtractAll(cmd.Context(), clips, cache, frames, jobs, deep, bar.Add)
		bar.Finish()
		if err != nil {
			return fmt.Errorf("baseline: %w (clips done so far are cached in %s)", err, filepath.Join(out, "features.jsonl"))
		}
		rep := baseline.Report{Dataset: ds.name, Root: ds.root, Labels: ds.labels, IDsFile: ds.ids, TestIDsFile: testIDs,
			NTrain: len(train), NTest: len(test), Frames: frames, Seed: uint64(cfg.Seed), LOO: loo,
			LambdaGrid: baseline.DefaultLambdas, FeatureVer: baseline.FeatureVersion,
			Command: "cpllm " + strings.Join(os.Args[1:], " ")}
		if cv > 0 {
			rep.CV = cv
		}
		if err := runBaselines(&rep, train, test, feats, resamples); err != nil {
			return err
		}
		if err := rep.WriteJSON(filepath.Join(out, "report.json")); err != nil {
			return err
		}
		if err := rep.WriteMarkdown(filepath.Join(out, "report.md")); err != nil {
			return err
		}
		if err := writeBaselinePredictions(out, rep.Results, append(train, test...)); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		for _, r := range rep.Results {
			if r.Kind == baseline.KindSingle {
				continue
			}
			if _, err := baseline.Scatter(out, r); err != nil {
				return fmt.Errorf("baseline: scatter %s %s: %w", r.Baseline, r.Protocol, err)
			}
			fmt.Fprintf(w, "%-14s %-10s n=%-4d SRCC %.3f [%.3f, %.3f]  PLCC %.3f [%.3f, %.3f]\n", r.Baseline, r.Protocol, r.N,
				r.SRCC.Value, r.SRCC.CILow, r.SRCC.CIHigh, r.PLCC.Value, r.PLCC.CILow, r.PLCC.CIHigh)
		}
		fmt.Fprintf(w, "baseline: %d train, %d test clips -> %s\n", len(train), len(test), filepath.Join(out, "report.md"))
		return nil
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output directory (features cache, reports, plots)")
	f.StringVar(&testIDs, "test-ids", "", "test set: ids of the same dataset, one per line (disjoint from the train set)")
	f.IntVar(&cv, "cv", 5, "K-fold cross-validation over the train set (0 = off)")
	f.BoolVar(&loo, "loo", false, "also leave-one-out over the train set")
	f.IntVar(&frames, "frames", baseline.DefaultFrames, "uniformly spaced frames per clip for the NSS features")
	f.IntVar(&jobs, "jobs", 1, "clips decoded at once")
	f.StringVar(&deepName, "deep", "", "also pretrained features of the same frames: mobilenetv2 (make pretrained-deps)")
	f.IntVar(&resamples, "resamples", 0, "bootstrap resamples for the CIs (0 = 1000)")
	f.BoolVar(&skipMissing, "skip-missing", false, "leave out records whose file is missing (a partial download) instead of failing")
	return cmd
}

// baselineSets loads the train set (the dataset after --ids) and the test
// set (--test-ids over the whole dataset), both with MOS and present files.
func baselineSets(ds *datasetFlags, testIDs string, skipMissing bool, cmd *cobra.Command) (train, test []datasets.Record, err error) {
	ids := ds.ids
	ds.ids = "" // load everything once; both id files select from it
	all, err := ds.load()
	ds.ids = ids
	if err != nil {
		return nil, nil, err
	}
	train = all
	if ids != "" {
		if train, err = datasets.SelectIDs(all, ids); err != nil {
			return nil, nil, fmt.Errorf("dataset %s: --ids: %w", ds.name, err)
		}
	}
	if testIDs != "" {
		if test, err = datasets.SelectIDs(all, testIDs); err != nil {
			return nil, nil, fmt.Errorf("dataset %s: --test-ids: %w", ds.name, err)
		}
		inTest := map[string]bool{}
		for _, r := range test {
			inTest[r.ID] = true
		}
		var keep []datasets.Record
		for _, r := range train {
			if !inTest[r.ID] {
				keep = append(keep, r)
			} else if ids != "" {
				return nil, nil, fmt.Errorf("baseline: id %q is in both --ids %s and --test-ids %s", r.ID, ids, testIDs)
			}
		}
		train = keep // without --ids the train set is the rest of the dataset
	}
	for _, set := range []*[]datasets.Record{&train, &test} {
		var keep []datasets.Record
		missing := 0
		for _, r := range *set {
			if !r.HasMOS() {
				return nil, nil, fmt.Errorf("%s: id %q has no MOS", r.Where(), r.ID)
			}
			if _, err := os.Stat(r.Path); errors.Is(err, fs.ErrNotExist) {
				if !skipMissing {
					return nil, nil, fmt.Errorf("%s: id %q: file %s is missing (--skip-missing leaves such records out)", r.Where(), r.ID, r.Path)
				}
				missing++
				continue
			}
			keep = append(keep, r)
		}
		if missing > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "baseline: left out %d records whose file is missing\n", missing)
		}
		*set = keep
	}
	if len(train) < 3 {
		return nil, nil, fmt.Errorf("baseline: the train set has %d clips with files; need at least 3", len(train))
	}
	if testIDs != "" && len(test) < 3 {
		return nil, nil, fmt.Errorf("baseline: --test-ids %s: %d clips with files; a correlation needs at least 3", testIDs, len(test))
	}
	return train, test, nil
}

func baselineClips(recs []datasets.Record) []baseline.Clip {
	out := make([]baseline.Clip, len(recs))
	for i, r := range recs {
		out[i] = baseline.Clip{ID: r.ID, Path: r.Path, MOS: r.MOS, Where: r.Where()}
	}
	return out
}

// runBaselines evaluates every baseline under the protocols rep asks for,
// on the features common to all clips (stills have no bit rate).
func runBaselines(rep *baseline.Report, train, test []datasets.Record, feats []baseline.ClipFeatures, resamples int) error {
	trainF, testF := feats[:len(train)], feats[len(train):]
	rep.Features = baseline.CommonNames(trainF, testF)
	mos := func(recs []datasets.Record) []float64 {
		v := make([]float64, len(recs))
		for i, r := range recs {
			v[i] = r.MOS
		}
		return v
	}
	trS, err := baseline.NewSet(trainF, mos(train), rep.Features)
	if err != nil {
		return err
	}
	teS, err := baseline.NewSet(testF, mos(test), rep.Features)
	if err != nil {
		return err
	}
	o := baseline.Options{Grid: rep.LambdaGrid, Resamples: resamples, Seed: rep.Seed}
	rep.Results, err = baseline.Evaluate(trS, teS, rep.Features, rep.CV, rep.LOO, o)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	rep.Resamples = resamples
	if rep.Resamples == 0 && len(rep.Results) > 0 {
		rep.Resamples = rep.Results[0].Resamples
	}
	return nil
}

// writeBaselinePredictions writes each fitted (ridge, krr) baseline's predictions as
// predictions/<baseline>.<protocol>.csv (id, pred, mos), with the MOS
// mapped to [1, 5] as shards and `cpllm eval` store it, so `cpllm compare`
// can test a model's predictions on the same ids against a baseline's.
func writeBaselinePredictions(out string, results []baseline.Result, recs []datasets.Record) error {
	norm := make(map[string]float64, len(recs))
	for _, r := range recs {
		norm[r.ID] = r.MOSNorm
	}
	dir := filepath.Join(out, "predictions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, res := range results {
		if res.Kind == baseline.KindSingle {
			continue
		}
		rows := make([]predictions.Row, len(res.IDs))
		for i, id := range res.IDs {
			rows[i] = predictions.Row{ID: id, Pred: res.Pred[i], MOS: norm[id]}
		}
		var buf bytes.Buffer
		if err := predictions.Write(&buf, rows); err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, res.Baseline+"."+res.Protocol+".csv"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Package prep turns a dataset's videos into model-ready shard records:
// sampler views, a quality description, labels, and the pairs of the
// comparison task. It wires data/sample, data/describe and data/shards.
package prep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/cpllm/cpllm/data/augment"
	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/data/stats"
)

// Options configure a shard build.
type Options struct {
	OutDir       string
	Params       sample.Params
	Mode         string // "auto" (train split: Train sampling; others: Eval), "train" or "eval"
	Seed         uint64
	Compression  string // none | zstd | lz4
	MaxRows      int    // rows per shard
	Descriptions map[string]string
	PairMargin   float64 // |dMOS| (on 1-5) above which two videos make a cross pair
	MaxCross     int     // cross pairs at most (0: none, < 0: all)
	Jobs         int
	SourceViews  bool // ladder rungs sample at their source's views (viewKey)
	FrameStats   bool // measure data/stats of the whole frames the patches are cut from (Record.FrameStats)
	// FrameDeep (with FrameStats) appends pretrained features of the same
	// frames, averaged over them, to Record.FrameStats; FrameDeepName names
	// the extractor in the manifest (shards.frame_deep).
	FrameDeep     func(frames [][]byte, w, h int) ([]float64, error)
	FrameDeepName string
	Progress      func(n int)
}

// Summary counts what a build did.
type Summary struct {
	Written, Skipped, Failed, Pairs int
}

// nativeFrames is how many source-resolution frames feed the measurements.
const nativeFrames = 3

// LadderItems adds the CRF-ladder outputs in dir (ladder.jsonl) as records
// derived from their source: same split, CRF set, and no absolute MOS (the
// paper states none; they serve the pairwise task, lower CRF being better).
func LadderItems(recs []datasets.Record, dir string) ([]datasets.Record, error) {
	rows, err := augment.ReadRows(dir)
	if err != nil {
		return nil, err
	}
	byID := map[string]datasets.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	out := append([]datasets.Record{}, recs...)
	for _, row := range rows {
		src, ok := byID[row.SourceID]
		if !ok {
			continue
		}
		crf := row.CRF
		family := src.SourceID // a derived clip's family is its own source's
		if family == "" {
			family = src.ID
		}
		out = append(out, datasets.Record{ID: augment.RungID(src.ID, crf), Path: row.Output,
			MOS: math.NaN(), MOSNorm: math.NaN(), MOSMin: src.MOSMin, MOSMax: src.MOSMax,
			Split: src.Split, Dataset: src.Dataset, SourceID: family, CRF: &crf, File: dir})
	}
	return out, nil
}

// CheckIDs rejects records without an id, or with an id another record
// has, naming their label rows (file:line), before any video is decoded.
func CheckIDs(recs []datasets.Record) error {
	var errs []string
	first := map[string]datasets.Record{}
	for _, r := range recs {
		if r.ID == "" {
			errs = append(errs, fmt.Sprintf("%s: empty id", r.Where()))
			continue
		}
		if prev, dup := first[r.ID]; dup {
			errs = append(errs, fmt.Sprintf("%s: id %q already used at %s", r.Where(), r.ID, prev.Where()))
			continue
		}
		first[r.ID] = r
	}
	if len(errs) == 0 {
		return nil
	}
	const show = 5
	msg := strings.Join(errs[:min(show, len(errs))], "; ")
	if len(errs) > show {
		msg += fmt.Sprintf("; and %d more", len(errs)-show)
	}
	return fmt.Errorf("prep: %d records with an empty or duplicate id: %s", len(errs), msg)
}

// Build samples every record into shards under o.OutDir, in input order (so
// the same inputs and seed give the same shard bytes), resuming a killed
// build. A video that fails is recorded in the manifest's failures. Empty or
// duplicate ids fail before anything is decoded or written (CheckIDs).
func Build(ctx context.Context, recs []datasets.Record, o Options) (shards.Manifest, Summary, error) {
	var sum Summary
	if err := o.Params.Validate(); err != nil {
		return shards.Manifest{}, sum, err
	}
	if err := CheckIDs(recs); err != nil {
		return shards.Manifest{}, sum, err
	}
	if o.Progress == nil {
		o.Progress = func(int) {}
	}
	params := samplerJSON(o)
	dataset := ""
	if len(recs) > 0 {
		dataset = recs[0].Dataset
	}
	w, err := shards.NewWriter(o.OutDir, shards.WriterOptions{FrameSize: o.Params.Size, MaxRows: o.MaxRows,
		Compression: o.Compression, Resume: true, SourceDataset: dataset, Seed: o.Seed, SamplerParams: params})
	if err != nil {
		return shards.Manifest{}, sum, err
	}
	type result struct {
		rec shards.Record
		err error
	}
	jobs := max(1, o.Jobs)
	results := make([]chan result, len(recs))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// Workers take indices in order; a semaphore bounds how far they run ahead
	// of the writer, which consumes in input order.
	ahead := make(chan struct{}, 2*jobs)
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rec, err := makeRecord(recs[i], o, string(params))
				results[i] <- result{rec, err}
			}
		}()
	}
	// Which ids a resumed build already holds, read before any goroutine
	// starts: the writer is not safe for concurrent use.
	done := make([]bool, len(recs))
	for i, r := range recs {
		done[i] = w.Done(r.ID)
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		defer close(next)
		for i := range recs {
			if done[i] {
				results[i] <- result{err: errSkip}
				continue
			}
			select {
			case ahead <- struct{}{}:
			case <-pctx.Done():
				return
			}
			select {
			case next <- i:
			case <-pctx.Done():
				return
			}
		}
	}()
	var werr error
	for i, r := range recs {
		var res result
		select {
		case res = <-results[i]:
		case <-ctx.Done():
			werr = ctx.Err()
		}
		if werr != nil {
			break
		}
		switch {
		case errors.Is(res.err, errSkip):
			sum.Skipped++
			o.Progress(1)
			continue
		case res.err != nil:
			sum.Failed++
			werr = w.AddFailure(shards.Failure{ID: r.ID, Path: r.Path, Error: res.err.Error(), Missing: errors.Is(res.err, ErrVideoMissing)})
		default:
			werr = w.Write(res.rec)
			sum.Written++
		}
		<-ahead
		o.Progress(1)
		if werr != nil {
			break
		}
	}
	stop() // ends the producer; workers finish their current video
	wg.Wait()
	if werr != nil {
		w.Abort() // removes the open shard's temp file; completed shards stay for a resume
		return shards.Manifest{}, sum, werr
	}
	man, err := w.Close()
	if err != nil {
		return man, sum, err
	}
	pairs, err := buildPairs(recs, man, o)
	sum.Pairs = len(pairs)
	return man, sum, err
}

var errSkip = errors.New("already written")

func samplerJSON(o Options) json.RawMessage {
	m := map[string]any{"m": o.Params.M, "k": o.Params.K, "size": o.Params.Size,
		"max_long": o.Params.MaxLong, "max_short": o.Params.MaxShort, "min_side": o.Params.MinSide,
		"mode": o.Mode, "seed": o.Seed}
	if o.SourceViews { // absent when off, so earlier shard directories still resume
		m["source_views"] = true
	}
	if o.FrameStats {
		m["frame_stats"] = true
	}
	if o.FrameDeepName != "" {
		m["frame_deep"] = o.FrameDeepName
	}
	b, _ := json.Marshal(m)
	return b
}

func modeFor(r datasets.Record, mode string) sample.Mode {
	switch mode {
	case "train":
		return sample.Train
	case "eval":
		return sample.Eval
	}
	if r.Split == "train" {
		return sample.Train
	}
	return sample.Eval
}

// viewKey is the id train-mode sampling draws a clip's frames and patch
// positions from: the clip's own, or with SourceViews a ladder rung's
// source (the id LadderItems named it after), so every rung of a source and
// the source itself show the same pixels.
func viewKey(r datasets.Record, o Options) string {
	if o.SourceViews && r.CRF != nil {
		if src, ok := augment.RungSource(r.ID, *r.CRF); ok {
			return src
		}
	}
	return r.ID
}

// ErrVideoMissing marks a record whose file does not exist; its failure
// entry in the manifest has Missing set.
var ErrVideoMissing = errors.New("video missing")

// makeRecord samples one video and describes it.
func makeRecord(r datasets.Record, o Options, params string) (shards.Record, error) {
	if _, err := os.Stat(r.Path); err != nil {
		return shards.Record{}, fmt.Errorf("%w: %w", ErrVideoMissing, err)
	}
	v, err := sample.SampleWith(r.Path, o.Params, modeFor(r, o.Mode), o.Seed, viewKey(r, o),
		sample.Options{Native: nativeFrames, PixelFrames: o.FrameStats})
	if err != nil {
		return shards.Record{}, err
	}
	var fstats []float64
	if o.FrameStats {
		fstats, _ = stats.Of(v.PixelFrames, v.PixelW, v.PixelH) // none when every frame is flat
	}
	if o.FrameDeep != nil && len(fstats) > 0 {
		deep, err := o.FrameDeep(v.PixelFrames, v.PixelW, v.PixelH)
		if err != nil {
			return shards.Record{}, fmt.Errorf("%s: %s features: %w", r.Path, o.FrameDeepName, err)
		}
		fstats = append(fstats, deep...)
	}
	text, ok := o.Descriptions[r.ID]
	if !ok {
		facts := describe.Facts{MOS: r.MOSNorm, Width: v.SrcW, Height: v.SrcH, FPS: v.FPS, CRF: r.CRF,
			Signals: describe.Measure(v.Native, v.SrcW, v.SrcH)}
		text = describe.Describe(facts, o.Seed^idHash(r.ID)).Text
	}
	src := r.SourceID
	if src == "" {
		src = r.ID
	}
	pos := make([]shards.PatchPos, len(v.Patches))
	for i, p := range v.Patches {
		pos[i] = shards.PatchPos{Frame: p.Frame, X: p.X, Y: p.Y}
	}
	return shards.Record{ID: r.ID, Dataset: r.Dataset, Split: r.Split, SourceID: src, CRF: r.CRF,
		MOS: r.MOS, MOSNorm: r.MOSNorm, Context: v.Context, M: o.Params.M, Patches: v.PatchPix, K: o.Params.K,
		PatchPos: pos, PixelW: v.PixelW, PixelH: v.PixelH, Description: text, SamplerSeed: o.Seed,
		SamplerParams: params, FrameStats: fstats}, nil
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// buildPairs writes pairs.jsonl from the written records, within each split.
func buildPairs(recs []datasets.Record, man shards.Manifest, o Options) ([]shards.Pair, error) {
	failed := map[string]bool{}
	for _, f := range man.Failures {
		failed[f.ID] = true
	}
	bySplit := map[string][]shards.PairCandidate{}
	for _, r := range recs {
		if failed[r.ID] {
			continue
		}
		src := r.SourceID
		if src == "" {
			src = r.ID
		}
		bySplit[r.Split] = append(bySplit[r.Split], shards.PairCandidate{ID: r.ID, SourceID: src, CRF: r.CRF, MOSNorm: r.MOSNorm})
	}
	splits := make([]string, 0, len(bySplit))
	for s := range bySplit {
		splits = append(splits, s)
	}
	sort.Strings(splits)
	var pairs []shards.Pair
	for _, s := range splits {
		pairs = append(pairs, shards.BuildPairs(bySplit[s], o.PairMargin, o.MaxCross, o.Seed^idHash(s))...)
	}
	return pairs, shards.WritePairs(filepath.Join(o.OutDir, shards.PairsName), pairs)
}

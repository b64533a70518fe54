package feed

import (
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/data/stats"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/mobilenet"
	"github.com/gomlx/gomlx/core/tensors"
)

// statsCache holds each clip's statistics by the hash of its stored
// patches: a clip's statistics depend on its bytes only, and a training run
// asks for the same clip thousands of times. Copies of a Bridge share it.
type statsCache struct {
	mu sync.Mutex
	m  map[uint64]statsEntry
}

type statsEntry struct {
	feats []float64
	ok    bool
}

// WithFreshStats returns a copy of b with an empty statistics cache, so the
// next batches compute every clip's statistics again (benchmarks of one
// clip scored repeatedly).
func (b *Bridge) WithFreshStats() *Bridge {
	c := *b
	c.cache = &statsCache{m: map[uint64]statsEntry{}}
	return &c
}

// ClipStats are the model's statistics (config stats) of one clip, before
// the model's standardisation: of all K of its stored patches at the
// shard's frame size, of the whole frames the patches were cut from
// (Clip.FrameStats), or both. ok is false when the clip has none (every
// patch or frame flat, or no frame statistics).
func (b *Bridge) ClipStats(c Clip) ([]float64, bool, error) {
	kind := b.M.Cfg.Stats
	if _, known := model.StatsKinds[kind]; !known {
		return nil, false, fmt.Errorf("feed: no statistics of kind %q", kind)
	}
	if kind == "frame-nss-logsignals" {
		return frameStats(c)
	}
	if model.FrameDeepKind(kind) {
		feats, ok, err := frameDeepStats(c)
		if err != nil || !ok || !model.StillKind(kind) {
			return feats, ok, err
		}
		still := 0.0
		if stillContext(c.Context, c.M) {
			still = 1
		}
		return append(feats, still), true, nil
	}
	feats, ok, err := b.patchStats(c)
	if err != nil || !ok || kind != "nss-logsignals+frame" {
		return feats, ok, err
	}
	frame, ok, err := frameStats(c)
	if err != nil || !ok {
		return nil, ok, err
	}
	return slices.Concat(feats, frame), true, nil
}

// frameStats are a clip's whole-frame statistics with the noise on a log
// scale (as nss-logsignals).
func frameStats(c Clip) ([]float64, bool, error) {
	if len(c.FrameStats) == 0 {
		return nil, false, nil
	}
	n := len(stats.Names)
	if len(c.FrameStats) != n && len(c.FrameStats) != n+mobilenet.FeatureDim() {
		return nil, false, fmt.Errorf("feed: clip %s: %d frame statistics, want %d (data/stats) or %d (data/stats, then shards.frame_deep mobilenetv2)",
			c.ID, len(c.FrameStats), n, n+mobilenet.FeatureDim())
	}
	feats := slices.Clone(c.FrameStats[:n])
	logNoise(feats[len(nss.NSSNames):])
	return feats, true, nil
}

// frameDeepStats are frameStats followed by the MNV2Mid entries of the
// clip's pretrained frame features (stored after the statistics).
func frameDeepStats(c Clip) ([]float64, bool, error) {
	feats, ok, err := frameStats(c)
	if err != nil || !ok {
		return nil, ok, err
	}
	if len(c.FrameStats) != len(stats.Names)+mobilenet.FeatureDim() {
		return nil, false, fmt.Errorf("feed: clip %s has whole-frame statistics but no pretrained features: remake its shards with --set shards.frame_deep=mobilenetv2", c.ID)
	}
	deep := c.FrameStats[len(stats.Names):]
	for _, i := range model.MNV2Mid() {
		feats = append(feats, deep[i])
	}
	return feats, true, nil
}

// patchStats are the statistics of a clip's stored patches, cached.
func (b *Bridge) patchStats(c Clip) ([]float64, bool, error) {
	h := fnv.New64a()
	h.Write(c.Patches)
	key := h.Sum64() ^ uint64(c.K)<<56 ^ uint64(b.ShardSize)<<40
	b.cache.mu.Lock()
	e, hit := b.cache.m[key]
	b.cache.mu.Unlock()
	if hit {
		return e.feats, e.ok, nil
	}
	frames, err := stats.Split(c.Patches, c.K, b.ShardSize)
	if err != nil {
		return nil, false, fmt.Errorf("feed: clip %s: %w", c.ID, err)
	}
	var feats []float64
	var ok bool
	if b.M.Cfg.Stats == "nss" {
		feats, ok = nss.FramesNSS(frames, b.ShardSize, b.ShardSize)
	} else if feats, ok = stats.Of(frames, b.ShardSize, b.ShardSize); ok && b.M.Cfg.Stats != "nss-signals" {
		logNoise(feats[len(nss.NSSNames):])
	}
	b.cache.mu.Lock()
	b.cache.m[key] = statsEntry{feats, ok}
	b.cache.mu.Unlock()
	return feats, ok, nil
}

// noiseFloor keeps ln(noise) finite on noiseless (synthetic, flat) patches;
// measured noise of real 540p clips runs from about 0.02 to 1.5.
const noiseFloor = 0.01

// logNoise puts the noise entry of signals (describe.SignalNames order) on
// a log scale in place, for statistics kind nss-logsignals.
func logNoise(signals []float64) []float64 {
	i := slices.Index(describe.SignalNames, "noise_sigma")
	signals[i] = math.Log(signals[i] + noiseFloor)
	return signals
}

// stats builds the float32 [B, F] statistics tensor of clips, or nil when
// the model takes none. A clip without statistics gets the model's current
// standardisation mean: a typical value, not an invented extreme.
func (b *Bridge) stats(clips []Clip) (*tensors.Tensor, error) {
	f := b.M.Cfg.StatsDim()
	if f == 0 {
		return nil, nil
	}
	var fill []float64
	data := make([]float32, len(clips)*f)
	for i, c := range clips {
		v, ok, err := b.ClipStats(c)
		if err != nil {
			return nil, err
		}
		if !ok {
			if fill == nil {
				if fill, _, err = b.M.StatsNorm(); err != nil {
					return nil, err
				}
			}
			v = fill
		}
		if len(v) != f {
			return nil, fmt.Errorf("feed: clip %s: %d statistics, the model takes %d", c.ID, len(v), f)
		}
		for j, x := range v {
			data[i*f+j] = float32(x)
		}
	}
	return tensors.FromFlatDataAndDimensions(data, len(clips), f), nil
}

// StatsNorm computes the standardisation of the model's statistics over a
// stream of clip batches (mean and population std per statistic; a constant
// statistic gets std 1), each batch in parallel, keeping only the
// statistics (and filling the cache). Clips without statistics are left out;
// at least two must have them.
func (b *Bridge) StatsNorm(batches iter.Seq2[[]Clip, error]) (mean, std []float64, err error) {
	var rows [][]float64
	seen := 0
	for clips, err := range batches {
		if err != nil {
			return nil, nil, err
		}
		seen += len(clips)
		out := make([]statsEntry, len(clips))
		errs := make([]error, len(clips))
		var wg sync.WaitGroup
		workers := min(len(clips), runtime.GOMAXPROCS(0))
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(clips); i += workers {
					out[i].feats, out[i].ok, errs[i] = b.ClipStats(clips[i])
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, nil, err
		}
		for _, e := range out {
			if e.ok {
				rows = append(rows, e.feats)
			}
		}
	}
	if len(rows) < 2 {
		hint := ""
		if model.FrameStatsKind(b.M.Cfg.Stats) {
			hint = fmt.Sprintf(" (stats %s reads whole-frame statistics: make the shards with --set shards.frame_stats=true)", b.M.Cfg.Stats)
		}
		return nil, nil, fmt.Errorf("feed: statistics norm needs at least 2 clips with statistics, got %d of %d%s", len(rows), seen, hint)
	}
	f := len(rows[0])
	mean, std = make([]float64, f), make([]float64, f)
	col := make([]float64, len(rows))
	for j := range f {
		for i, r := range rows {
			col[i] = r[j]
		}
		m, v := nss.MeanVar(col)
		mean[j], std[j] = m, math.Sqrt(v)
		if !(std[j] > 1e-12) {
			std[j] = 1
		}
	}
	return mean, std, nil
}

// CheckShardStats fails when the model reads whole-frame statistics and the
// shards at ds were made without them: every record would get the mean
// token, scoring every clip alike instead of failing.
func CheckShardStats(cfg model.Config, ds *shards.Dataset) error {
	if model.FrameDeepKind(cfg.Stats) && ds.Manifest().FrameDeep() != mobilenet.Name {
		return fmt.Errorf("feed: shards %s were made without pretrained frame features, which the model's stats %s reads: remake them with --set shards.frame_stats=true --set shards.frame_deep=mobilenetv2",
			ds.Dir(), cfg.Stats)
	}
	if !model.FrameStatsKind(cfg.Stats) || ds.Manifest().HasFrameStats() {
		return nil
	}
	return fmt.Errorf("feed: shards %s were made without whole-frame statistics, which the model's stats %s reads: remake them with --set shards.frame_stats=true",
		ds.Dir(), cfg.Stats)
}

// Package suite runs evaluation suites: a checkpoint (or several) scores
// every video of the configured datasets, and the run writes prediction
// files, report.json / report.md with bootstrap CIs and scatter plots. It also
// evaluates CRF ladders (score monotonicity under compression). The Scorer
// here is the per-video path shared with `cpllm score`.
package suite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/sample"
	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/data/stats"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/internal/levels"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/generate"
	"github.com/cpllm/cpllm/model/mobilenet"
)

// Timing is where one video's time went, in seconds.
type Timing struct {
	Sample   float64 `json:"sample"`   // probe, decode, resize and crop to the views
	Bridge   float64 `json:"bridge"`   // views -> model batch (area resize to the model input)
	Score    float64 `json:"score"`    // model forward of the score task
	Describe float64 `json:"describe"` // greedy description (0 when not asked for)
}

// Add accumulates o into t.
func (t *Timing) Add(o Timing) {
	t.Sample += o.Sample
	t.Bridge += o.Bridge
	t.Score += o.Score
	t.Describe += o.Describe
}

// Result is one scored video.
type Result struct {
	Score       float64            // expected level in [1, 5]
	Level       string             // level word of Score
	Probs       map[string]float64 // level word -> probability
	Description string
	Tokens      int // generated description tokens
	Timing      Timing
}

// ScoreOptions choose the optional description.
type ScoreOptions struct {
	Describe  bool
	MaxTokens int // description length limit (0 = what input.max_text_len leaves after the prompt)
	// LevelLead opens the description with the score's level in the
	// canonical form ("The quality is good.") and lets the decoder continue
	// from it, so the text never names another level than the number
	// reported beside it (a model whose score bypasses the decoder, like
	// the shipped one, otherwise writes its own reading of the level).
	LevelLead bool
}

// Scorer is a loaded checkpoint ready to score videos. Not safe for
// concurrent use (the compiled graphs hold per-call state).
type Scorer struct {
	Name       string // short name for file names and tables
	Checkpoint string
	Model      *model.Model
	Backend    compute.Backend
	Params     sample.Params // the deterministic sampler settings of every video
	bridge     *feed.Bridge
	pred       *model.Predictor
	gen        *generate.Generator
	deepOnce   sync.Once // loads deepNet for FrameDeepKind statistics
	deepNet    *mobilenet.Net
	deepErr    error
}

// New wraps an initialised model (tests and benchmarks build one directly).
func New(name string, m *model.Model, backend compute.Backend, p sample.Params) (*Scorer, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	br, err := feed.NewBridge(m, p.Size, 0)
	if err != nil {
		return nil, err
	}
	return &Scorer{Name: name, Model: m, Backend: backend, Params: p, bridge: br, pred: model.NewPredictor(m, backend)}, nil
}

// Load restores a checkpoint (a run directory uses its best checkpoint)
// into the model of mc.
func Load(mc model.Config, ckpt string, p sample.Params) (*Scorer, error) {
	m, b, err := model.LoadCheckpoint(mc, ckpt)
	if err != nil {
		return nil, err
	}
	s, err := New(CheckpointName(ckpt), m, b, p)
	if err != nil {
		return nil, err
	}
	s.Checkpoint = ckpt
	return s, nil
}

// ModelConfigFor returns the model config a checkpoint was trained with:
// model.yaml of its run directory (ckpt itself, or two levels up from
// RUN/checkpoints/NAME) when there is one, else the fallback file. A
// checkpoint only loads into the architecture it was saved from, so the
// run's own record beats a global setting.
func ModelConfigFor(ckpt, fallback string) (model.Config, string, error) {
	dirs := []string{ckpt}
	if c := filepath.Clean(ckpt); filepath.Base(filepath.Dir(c)) == "checkpoints" {
		dirs = append(dirs, filepath.Dir(filepath.Dir(c)))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "model.yaml")
		if _, err := os.Stat(p); err == nil {
			mc, err := model.LoadConfig(p)
			return mc, p, err
		}
	}
	if fallback == "" {
		return model.Config{}, "", fmt.Errorf("%s: no model.yaml in the run and no model config given", ckpt)
	}
	mc, err := model.LoadConfig(fallback)
	return mc, fallback, err
}

// CheckpointName is a short name for a checkpoint path: the run directory's
// name, plus the checkpoint's for RUN/checkpoints/NAME.
func CheckpointName(ckpt string) string {
	c := filepath.Clean(ckpt)
	if filepath.Base(filepath.Dir(c)) == "checkpoints" {
		return safeName(filepath.Base(filepath.Dir(filepath.Dir(c))) + "-" + filepath.Base(c))
	}
	return safeName(filepath.Base(c))
}

// safeName keeps letters, digits, '-', '_' and '.' so names work in file names.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
	if strings.Trim(s, ".") == "" {
		return "ckpt"
	}
	return s
}

// SampleVideo decodes path into its deterministic eval views (they depend
// only on the video and p, never on a seed); with frameStats it also
// measures the whole frames the patches are cut from (Clip.FrameStats).
func SampleVideo(path, id string, p sample.Params, frameStats bool) (feed.Clip, error) {
	return SampleVideoDeep(path, id, p, frameStats, nil)
}

// SampleVideoDeep is SampleVideo that, given deep (and frameStats), appends
// the pretrained features deep computes of the same whole frames to
// Clip.FrameStats, as data prep does with shards.frame_deep.
func SampleVideoDeep(path, id string, p sample.Params, frameStats bool, deep func(frames [][]byte, w, h int) ([]float64, error)) (feed.Clip, error) {
	v, err := sample.SampleWith(path, p, sample.Eval, 0, id, sample.Options{PixelFrames: frameStats})
	if err != nil {
		return feed.Clip{}, err
	}
	c := feed.Clip{ID: id, Context: v.Context, M: p.M, Patches: v.PatchPix, K: p.K}
	if frameStats {
		c.FrameStats, _ = stats.Of(v.PixelFrames, v.PixelW, v.PixelH) // none when every frame is flat
	}
	if deep != nil && len(c.FrameStats) > 0 {
		d, err := deep(v.PixelFrames, v.PixelW, v.PixelH)
		if err != nil {
			return feed.Clip{}, fmt.Errorf("%s: pretrained frame features: %w", path, err)
		}
		c.FrameStats = append(c.FrameStats, d...)
	}
	return c, nil
}

// sampleVideo is SampleVideo with what the scorer's model reads: with a
// FrameDeepKind statistics kind, the pretrained MobileNetV2 (loaded once,
// on the scorer's backend) measures the frames too.
func (s *Scorer) sampleVideo(path, id string) (feed.Clip, error) {
	return sampleShared([]*Scorer{s}, path, id)
}

// deepFn is the scorer's pretrained frame-feature extractor, loaded on
// first use.
func (s *Scorer) deepFn() (func(frames [][]byte, w, h int) ([]float64, error), error) {
	s.deepOnce.Do(func() { s.deepNet, s.deepErr = mobilenet.LoadPretrained(s.Backend) })
	if s.deepErr != nil {
		return nil, fmt.Errorf("model stats %s: %w", s.Model.Cfg.Stats, s.deepErr)
	}
	return func(frames [][]byte, w, h int) ([]float64, error) { return s.deepNet.MeanFeatures(frames, h, w) }, nil
}

// sampleShared samples path once for several scorers: with whole-frame
// statistics when any of them reads them, with the pretrained features when
// any reads those (a model of whole-frame statistics alone reads their
// first part). Sampling for the first scorer alone gave the others a clip
// without the statistics they read, which the bridge fills with the mean
// token: plausible, wrong scores. The scorers must share the sampler
// settings (checkSameSampler).
func sampleShared(scs []*Scorer, path, id string) (feed.Clip, error) {
	frameStats := false
	var deep func(frames [][]byte, w, h int) ([]float64, error)
	for _, s := range scs {
		kind := s.Model.Cfg.Stats
		frameStats = frameStats || model.FrameStatsKind(kind)
		if deep == nil && model.FrameDeepKind(kind) {
			fn, err := s.deepFn()
			if err != nil {
				return feed.Clip{}, err
			}
			deep = fn
		}
	}
	return SampleVideoDeep(path, id, scs[0].Params, frameStats, deep)
}

// checkSameSampler fails when scorers would need different samples of a
// video: one decode serves them all.
func checkSameSampler(scs []*Scorer) error {
	for _, s := range scs[1:] {
		if s.Params != scs[0].Params {
			return fmt.Errorf("checkpoints %s and %s use different sampler settings (%+v, %+v): evaluate them in separate runs", scs[0].Name, s.Name, scs[0].Params, s.Params)
		}
	}
	return nil
}

// Score samples and scores one video.
func (s *Scorer) Score(path string, o ScoreOptions) (Result, error) {
	t0 := time.Now()
	clip, err := s.sampleVideo(path, path)
	if err != nil {
		return Result{}, err
	}
	sampled := time.Since(t0).Seconds()
	res, err := s.ScoreClip(clip, o)
	res.Timing.Sample = sampled
	return res, err
}

// ScoreClip scores views sampled with s.Params (SampleVideo), so several
// checkpoints can share one decode: the model's input.eval_views views,
// averaged (feed.Predict); the description is generated from the first
// (canonical) view.
func (s *Scorer) ScoreClip(clip feed.Clip, o ScoreOptions) (Result, error) {
	var res Result
	pr, err := feed.Predict(s.pred, s.bridge, []feed.Clip{clip})
	res.Timing.Bridge, res.Timing.Score = pr.Collate.Seconds(), pr.Forward.Seconds()
	if err != nil {
		return res, fmt.Errorf("%s: %w", clip.ID, err)
	}
	res.Score, res.Level = pr.Scores[0], levels.Word(pr.Scores[0])
	res.Probs = map[string]float64{}
	for i, w := range model.LevelWords {
		res.Probs[w] = pr.Probs[0][i]
	}
	if !o.Describe {
		return res, nil
	}
	t0 := time.Now()
	if s.gen == nil {
		s.gen = generate.NewGenerator(s.Model, s.Backend)
	}
	lead := ""
	if o.LevelLead {
		lead = describe.Canonical(res.Level, nil)
	}
	prompt, _, err := s.Model.Sequence(model.TaskDescribe, lead)
	if err != nil {
		return res, err
	}
	g := generate.DefaultOptions(s.Model)
	g.MaxNew = s.Model.Cfg.Input.MaxTextLen - len(prompt)
	if o.MaxTokens > 0 {
		g.MaxNew = min(g.MaxNew, o.MaxTokens)
	}
	if g.MaxNew <= 0 {
		return res, fmt.Errorf("%s: describe: the prompt and lead fill input.max_text_len %d", clip.ID, s.Model.Cfg.Input.MaxTextLen)
	}
	batch := pr.Canonical
	out, err := s.gen.Generate([]generate.Video{{Frames: batch.Frames, Patches: batch.Patches, Stats: batch.Stats}}, [][]int{prompt}, g)
	if err != nil {
		return res, fmt.Errorf("%s: describe: %w", clip.ID, err)
	}
	res.Description, res.Tokens = s.Model.Tok.Decode(out[0]), len(out[0])
	if lead != "" {
		res.Description = strings.TrimSpace(lead + " " + strings.TrimSpace(res.Description))
	}
	res.Timing.Describe = time.Since(t0).Seconds()
	return res, nil
}

// ScoreShards scores every labelled record of a shard directory in storage
// order (feed.ScoreShards): pre-sampled views, no decoding.
func (s *Scorer) ScoreShards(ctx context.Context, ds *shards.Dataset, batch int) (feed.Scored, error) {
	if batch <= 0 {
		batch = 8
	}
	return feed.ScoreShards(ctx, s.pred, ds, batch)
}

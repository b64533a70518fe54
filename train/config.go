package train

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/internal/strictyaml"
	"github.com/cpllm/cpllm/model"
)

// TaskMix gives one number per task (mix ratios or loss weights).
type TaskMix struct {
	Score    float64 `yaml:"score"`
	Describe float64 `yaml:"describe"`
	Pair     float64 `yaml:"pair"`
}

// Config is the training recipe (configs/train/*.yaml).
type Config struct {
	Steps       int     `yaml:"steps"`
	BatchSize   int     `yaml:"batch_size"`
	GradAccum   int     `yaml:"grad_accum"` // micro-batches of batch_size per optimizer step; 0 = 1
	LR          float64 `yaml:"lr"`
	WeightDecay float64 `yaml:"weight_decay"`
	WarmupSteps int     `yaml:"warmup_steps"`
	Schedule    string  `yaml:"schedule"`     // cosine | constant
	MinLRRatio  float64 `yaml:"min_lr_ratio"` // cosine floor as a fraction of lr
	GradClip    float64 `yaml:"grad_clip"`    // global L2 norm; 0 = off
	Mix         TaskMix `yaml:"mix"`          // task sampling ratios (normalised)
	LossWeights TaskMix `yaml:"loss_weights"` // per-task loss multipliers; 0 = 1
	ScoreL1     float64 `yaml:"score_l1"`     // weight of |expected score - MOS| added to the score loss; 0 = off
	PairRank    float64 `yaml:"pair_rank"`    // weight of the score-ranking term added to the pair loss (model.RankLoss); 0 = off
	PairViews   bool    `yaml:"pair_views"`   // with augment: one view per pair, shared by its two videos
	// StatsLinearInit starts the model's heads.stats_linear path at a
	// closed-form fit before training: "" (zero, the default) or ridge
	// (fitStatsLinear). A run from --init or a resumed run keeps its own.
	StatsLinearInit string `yaml:"stats_linear_init"`
	// StatsLinearLadder, with stats_linear_init: ridge, adds the training
	// sources' CRF-ladder pairs to that fit as a squared-hinge ranking term
	// of this total weight (the score rows weigh 1 in all; ridgeRank); 0 =
	// off.
	StatsLinearLadder float64 `yaml:"stats_linear_ladder"`
	// StatsKernelLadder, with stats_linear_init: ridge and a model with
	// heads.stats_kernel, fits the video kernel ridge to the same ladder
	// pairs as a squared-hinge ranking term of this total weight, its
	// rungs joining the kernel's supports (kernelRank); 0 = off.
	StatsKernelLadder float64 `yaml:"stats_kernel_ladder"`
	EMA               float64 `yaml:"ema"`            // decay of the weight average used for validation and the best checkpoint; 0 = off
	DescribeLen       int     `yaml:"describe_len"`   // padded describe text length; 0 = max_text_len
	DescribeText      string  `yaml:"describe_text"`  // stored (default) | observable: without the file facts no input shows | canonical: those statements in one fixed form, labelled records only (data/describe)
	ShuffleWindow     int     `yaml:"shuffle_window"` // shards.BatchOptions.Window; 0 = default
	Augment           bool    `yaml:"augment"`        // random frame/patch subsets, crop offsets and flips per step
	EvalEvery         int     `yaml:"eval_every"`     // 0 = only at the end (when val data is given)
	// Select is the checkpoint a run hands on (to --init, model ship, a
	// sweep's figures): best (or "", the default) keeps the step of highest
	// validation SRCC apart as checkpoints/best; last hands on the final step
	// and only logs validations, so a figure reported on the validation set
	// was not also used to pick the step it is measured at.
	Select          string `yaml:"select"`
	Seed            uint64 `yaml:"seed"`
	CheckpointEvery int    `yaml:"checkpoint_every"` // 0 = only at the end
	KeepLast        int    `yaml:"keep_last"`        // step checkpoints kept (best is kept apart); default 2
	// StepTimeout fails the run when one step takes longer (a hang guard for
	// the Go backend); the first step of each task, which compiles, gets
	// CompileTimeout instead.
	StepTimeout    time.Duration `yaml:"step_timeout"`
	CompileTimeout time.Duration `yaml:"compile_timeout"`
	// Data lists the training sources (several datasets at once); empty =
	// the one directory given to Run (--train-shards), serving every task.
	Data    []Source `yaml:"data"`
	Holdout Holdout  `yaml:"holdout"` // validation carved out of the sources
}

// DefaultConfig is a small recipe suited to the tiny model on a CPU.
func DefaultConfig() Config {
	return Config{Steps: 200, BatchSize: 8, LR: 1e-3, WeightDecay: 0.01, WarmupSteps: 10,
		Schedule: "cosine", MinLRRatio: 0.1, GradClip: 1, Mix: TaskMix{Score: 1},
		EvalEvery: 50, Seed: 1, CheckpointEvery: 50, KeepLast: 2,
		StepTimeout: 2 * time.Minute, CompileTimeout: 10 * time.Minute}
}

// LoadConfig reads a YAML recipe strictly over DefaultConfig.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(data, path)
}

// ParseConfig reads a YAML recipe strictly over DefaultConfig; name is used
// in errors.
func ParseConfig(data []byte, path string) (Config, error) {
	if strictyaml.IsEmpty(data) {
		return Config{}, fmt.Errorf("%s: train config: the file is empty (write the keys that differ from the defaults, or {} for all defaults)", path)
	}
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: train config: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks ranges.
func (c Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf("train config: "+f, a...)) }
	if c.Steps <= 0 {
		bad("steps must be > 0")
	}
	if c.BatchSize <= 0 {
		bad("batch_size must be > 0")
	}
	if c.GradAccum < 0 {
		bad("grad_accum must be >= 0 (0 and 1 both mean no accumulation)")
	}
	if c.LR <= 0 || c.WeightDecay < 0 || c.GradClip < 0 || c.WarmupSteps < 0 {
		bad("lr must be > 0; weight_decay, grad_clip, warmup_steps >= 0")
	}
	if c.EMA < 0 || c.EMA >= 1 {
		bad("ema %g must be in [0, 1) (0 = off)", c.EMA)
	}
	if c.ScoreL1 < 0 {
		bad("score_l1 %g must be >= 0 (0 = off)", c.ScoreL1)
	}
	if c.PairRank < 0 {
		bad("pair_rank %g must be >= 0 (0 = off)", c.PairRank)
	}
	if c.StatsLinearInit != "" && c.StatsLinearInit != "ridge" {
		bad("stats_linear_init %q is not ridge or empty", c.StatsLinearInit)
	}
	if c.StatsLinearLadder < 0 || math.IsNaN(c.StatsLinearLadder) {
		bad("stats_linear_ladder %g is negative", c.StatsLinearLadder)
	}
	if c.StatsLinearLadder > 0 && c.StatsLinearInit != "ridge" {
		bad("stats_linear_ladder needs stats_linear_init: ridge")
	}
	if c.StatsKernelLadder < 0 || math.IsNaN(c.StatsKernelLadder) {
		bad("stats_kernel_ladder %g is negative", c.StatsKernelLadder)
	}
	if c.StatsKernelLadder > 0 && c.StatsLinearInit != "ridge" {
		bad("stats_kernel_ladder needs stats_linear_init: ridge")
	}
	if !slices.Contains([]string{"", "best", "last"}, c.Select) {
		bad("select %q is not best or last", c.Select)
	}
	if !slices.Contains([]string{"", "stored", "observable", "canonical"}, c.DescribeText) {
		bad("describe_text %q is not stored, observable or canonical", c.DescribeText)
	}
	if c.Schedule != "cosine" && c.Schedule != "constant" {
		bad("schedule %q is not cosine or constant", c.Schedule)
	}
	if c.MinLRRatio < 0 || c.MinLRRatio > 1 {
		bad("min_lr_ratio must be in [0, 1]")
	}
	sum := 0.0
	for t := range model.Task(numTasks) {
		if c.Mix.of(t) < 0 || c.LossWeights.of(t) < 0 {
			bad("mix and loss_weights must be >= 0")
		}
		sum += c.Mix.of(t)
	}
	if sum <= 0 {
		bad("mix: at least one task needs a positive ratio")
	}
	if err := c.validateData(); err != nil {
		errs = append(errs, err)
	}
	if c.EvalEvery < 0 || c.CheckpointEvery < 0 || c.KeepLast < 0 || c.StepTimeout < 0 || c.CompileTimeout < 0 {
		bad("eval_every, checkpoint_every, keep_last and timeouts must be >= 0")
	}
	return errors.Join(errs...)
}

// accum is the number of micro-batches per optimizer step.
func (c Config) accum() int { return max(1, c.GradAccum) }

// weight is the loss multiplier of task (0 in the config means 1).
func (c Config) weight(task model.Task) float64 {
	if w := c.LossWeights.of(task); w > 0 {
		return w
	}
	return 1
}

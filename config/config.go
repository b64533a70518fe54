// Package config holds cpllm's typed configuration and its layered loading:
// defaults < YAML file < CPLLM_* environment < --set key=value flags.
// Every key is known in advance, so typos and wrong types fail with the key,
// where it came from, and what was expected.
package config

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/internal/strictyaml"
	"github.com/cpllm/cpllm/internal/x264"
)

// Config is the whole effective configuration. Later subsystems add sections.
type Config struct {
	Seed        int64        `key:"seed" yaml:"seed"`
	LogLevel    string       `key:"log_level" yaml:"log_level"`
	ModelConfig string       `key:"model_config" yaml:"model_config"` // model architecture YAML (configs/model/*.yaml)
	TrainConfig string       `key:"train_config" yaml:"train_config"` // training recipe YAML (configs/train/*.yaml)
	Checkpoint  string       `key:"checkpoint" yaml:"checkpoint"`     // score/eval model when --checkpoint is not given
	Ladder      LadderConfig `key:"ladder" yaml:"ladder"`
	Synth       SynthConfig  `key:"synth" yaml:"synth"`
	Shards      ShardsConfig `key:"shards" yaml:"shards"`

	// ModelSets and TrainSets are the --set model.KEY=VALUE and
	// train.KEY=VALUE overrides (keys without the prefix), in order, for the
	// command that reads model_config or train_config to apply to the file
	// with strictyaml.Apply before parsing it. Load fills them when
	// Sources.Schemas names the namespace; they are not part of the YAML.
	ModelSets []strictyaml.Override `yaml:"-"`
	TrainSets []strictyaml.Override `yaml:"-"`
}

// LadderConfig configures the H.264 CRF ladder (the paper's compression augmentation).
type LadderConfig struct {
	CRF      string `key:"crf" yaml:"crf"`             // "lo:hi:step" or a list "15,23,31"
	Preset   string `key:"preset" yaml:"preset"`       // libx264 preset
	Jobs     int    `key:"jobs" yaml:"jobs"`           // sources processed at once
	Fanout   int    `key:"fanout" yaml:"fanout"`       // encoders running at once; 0 = all levels
	BufferMB int    `key:"buffer_mb" yaml:"buffer_mb"` // decoded frames kept so encoder groups share one decode
}

// SynthConfig bounds the procedural corpus of `cpllm data synth`.
type SynthConfig struct {
	Videos           int     `key:"videos" yaml:"videos"`
	MinHeight        int     `key:"min_height" yaml:"min_height"` // short side, from 360 480 540 720 1080
	MaxHeight        int     `key:"max_height" yaml:"max_height"`
	MinFPS           int     `key:"min_fps" yaml:"min_fps"` // from 24 25 30 50 60
	MaxFPS           int     `key:"max_fps" yaml:"max_fps"`
	MinSeconds       float64 `key:"min_seconds" yaml:"min_seconds"`
	MaxSeconds       float64 `key:"max_seconds" yaml:"max_seconds"`
	PortraitFraction float64 `key:"portrait_fraction" yaml:"portrait_fraction"`
	LadderCRF        string  `key:"ladder_crf" yaml:"ladder_crf"` // CRF levels every source is re-encoded at
	Variants         int     `key:"variants" yaml:"variants"`     // further distortion chains per source
	Preset           string  `key:"preset" yaml:"preset"`
	Jobs             int     `key:"jobs" yaml:"jobs"`
	TrainFrac        float64 `key:"train_frac" yaml:"train_frac"` // by source; val_frac more go to val, the rest to test
	ValFrac          float64 `key:"val_frac" yaml:"val_frac"`
}

// ShardsConfig sets the sampler views and storage of `cpllm data shards`.
type ShardsConfig struct {
	M           int     `key:"m" yaml:"m"`                 // context frames
	K           int     `key:"k" yaml:"k"`                 // pixel patches
	Size        int     `key:"size" yaml:"size"`           // side of frames and patches
	MaxLong     int     `key:"max_long" yaml:"max_long"`   // pixel view fits within max_long x max_short
	MaxShort    int     `key:"max_short" yaml:"max_short"` //
	MinSide     int     `key:"min_side" yaml:"min_side"`   // upscale only to reach this short side
	Mode        string  `key:"mode" yaml:"mode"`           // auto | train | eval
	Compression string  `key:"compression" yaml:"compression"`
	MaxRows     int     `key:"max_rows" yaml:"max_rows"`       // rows per shard
	PairMargin  float64 `key:"pair_margin" yaml:"pair_margin"` // |dMOS| on 1-5 for cross-video pairs
	MaxCross    int     `key:"max_cross" yaml:"max_cross"`     // cross-video pairs at most (-1: all)
	Jobs        int     `key:"jobs" yaml:"jobs"`
	// SourceViews samples a CRF-ladder rung at its source's frames and patch
	// positions (train-mode sampling keys on the source id, not the rung's):
	// a same-source pair then differs only by compression.
	SourceViews bool `key:"source_views" yaml:"source_views"`
	// FrameStats stores each record's statistics of the whole frames its
	// patches are cut from (data/stats), for models with stats
	// frame-nss-logsignals; it costs about 1 s per 540p clip.
	FrameStats bool `key:"frame_stats" yaml:"frame_stats"`
	// FrameDeep (with frame_stats) appends pretrained features of the same
	// whole frames: "mobilenetv2" (model/mobilenet, make pretrained-deps),
	// for models with stats frame-nss-logsignals+mnv2mid; about 1 s more per
	// 540p clip on ONNX Runtime. "" = none.
	FrameDeep string `key:"frame_deep" yaml:"frame_deep"`
}

// LogLevels are the accepted values of log_level.
var LogLevels = []string{"debug", "info", "warn", "error"}

// Default is the configuration when nothing overrides it; configs/default.yaml mirrors it.
func Default() Config {
	return Config{
		Seed:        1,
		LogLevel:    "info",
		ModelConfig: "configs/model/tiny.yaml",
		TrainConfig: "configs/train/tiny.yaml",
		Checkpoint:  "models/real",
		Ladder: LadderConfig{
			CRF:      "15:53:2",
			Preset:   "medium",
			Jobs:     1,
			Fanout:   4,
			BufferMB: 1024,
		},
		Synth: SynthConfig{
			Videos: 24, MinHeight: 360, MaxHeight: 1080, MinFPS: 24, MaxFPS: 60, MinSeconds: 2, MaxSeconds: 8,
			PortraitFraction: 0.25, LadderCRF: "15,27,39,51", Variants: 4, Preset: "veryfast", Jobs: 2,
			TrainFrac: 0.7, ValFrac: 0.15,
		},
		Shards: ShardsConfig{M: 8, K: 8, Size: 224, MaxLong: 1080, MaxShort: 540, MinSide: 224, Mode: "auto",
			Compression: "none", MaxRows: 256, PairMargin: 0.5, MaxCross: 2000, Jobs: 2},
	}
}

// Validate checks values that are well typed but out of range.
func (c Config) Validate() error {
	if !slices.Contains(LogLevels, c.LogLevel) {
		return &KeyError{Key: "log_level", Value: c.LogLevel, Want: fmt.Sprintf("one of %v", LogLevels)}
	}
	if c.Ladder.Jobs < 1 {
		return &KeyError{Key: "ladder.jobs", Value: c.Ladder.Jobs, Want: "an integer >= 1"}
	}
	if !slices.Contains([]string{"auto", "train", "eval"}, c.Shards.Mode) {
		return &KeyError{Key: "shards.mode", Value: c.Shards.Mode, Want: "auto, train or eval"}
	}
	if c.Shards.FrameDeep != "" && (c.Shards.FrameDeep != "mobilenetv2" || !c.Shards.FrameStats) {
		return &KeyError{Key: "shards.frame_deep", Value: c.Shards.FrameDeep, Want: `"" or "mobilenetv2" (with shards.frame_stats: true)`}
	}
	if c.Shards.MaxRows < 1 {
		return &KeyError{Key: "shards.max_rows", Value: c.Shards.MaxRows, Want: "an integer >= 1 (rows per shard)"}
	}
	if !slices.Contains([]string{"none", "zstd", "lz4"}, c.Shards.Compression) {
		return &KeyError{Key: "shards.compression", Value: c.Shards.Compression, Want: "none, zstd or lz4"}
	}
	if c.Ladder.Fanout < 0 {
		return &KeyError{Key: "ladder.fanout", Value: c.Ladder.Fanout, Want: "an integer >= 0 (0 = all levels)"}
	}
	if c.Ladder.BufferMB < 0 {
		return &KeyError{Key: "ladder.buffer_mb", Value: c.Ladder.BufferMB, Want: "an integer >= 0 (0 = decode per encoder group)"}
	}
	for _, kv := range [][2]string{{"ladder.crf", c.Ladder.CRF}, {"synth.ladder_crf", c.Synth.LadderCRF}} {
		if _, err := x264.ParseCRFs(kv[1]); err != nil {
			return &KeyError{Key: kv[0], Value: fmt.Sprintf("%q (%v)", kv[1], err), Want: x264.CRFWant}
		}
	}
	for _, kv := range [][2]string{{"ladder.preset", c.Ladder.Preset}, {"synth.preset", c.Synth.Preset}} {
		if !slices.Contains(x264.Presets, kv[1]) {
			return &KeyError{Key: kv[0], Value: fmt.Sprintf("%q", kv[1]), Want: fmt.Sprintf("a libx264 preset, one of %v", x264.Presets)}
		}
	}
	return nil
}

// YAML renders the configuration as the YAML a user could load back.
func (c Config) YAML() ([]byte, error) {
	return yaml.Marshal(c)
}

// KeyError reports a bad value for a key and where the value came from.
type KeyError struct {
	Key    string
	Value  any
	Source string // "configs/x.yaml:3", "env CPLLM_SEED", "--set"; empty when unknown
	Want   string
}

func (e *KeyError) Error() string {
	src := ""
	if e.Source != "" {
		src = " (from " + e.Source + ")"
	}
	return fmt.Sprintf("config: key %q%s: got %v, expected %s", e.Key, src, e.Value, e.Want)
}

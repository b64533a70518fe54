// Package nightly runs the evaluation suite on a checkpoint once a day into
// RUNS/<date>/, compares each dataset's predictions with the previous run
// and an optional pinned baseline (paired bootstrap of dSRCC, Williams' t,
// Steiger's z on the same ids), renders summary.md with an SRCC trend plot
// per dataset, and reports significant drops as regressions. A run is built
// in a hidden temp directory and renamed into place only when complete, so a
// crash never leaves a half run or touches an earlier summary.
package nightly

import (
	"fmt"
	"os"

	"github.com/cpllm/cpllm/eval/suite"
	"github.com/cpllm/cpllm/internal/strictyaml"
)

// Config is configs/nightly.yaml.
type Config struct {
	Checkpoint string `yaml:"checkpoint"` // run directory (best checkpoint) or checkpoint directory
	Out        string `yaml:"out"`        // root of the dated runs (default runs/nightly)
	Baseline   string `yaml:"baseline"`   // optional pinned run or eval directory (with predictions/) to compare against too
	Config     string `yaml:"config"`     // cpllm config for the sampler, model_config and seed ("" = defaults)
	// A dataset regresses when its SRCC falls by more than MaxDrop and the
	// configured test gives p < Alpha.
	MaxDrop   float64         `yaml:"max_drop"`
	Alpha     float64         `yaml:"alpha"`
	Test      string          `yaml:"test"`      // bootstrap (paired bootstrap of dSRCC) | williams | steiger
	Resamples int             `yaml:"resamples"` // bootstrap resamples for CIs and the paired test (0 = 1000)
	Datasets  []suite.Dataset `yaml:"datasets"`
}

// Tests are the accepted values of Config.Test.
var Tests = []string{"bootstrap", "williams", "steiger"}

// LoadConfig reads a nightly config strictly (unknown keys fail with
// file:line) and fills defaults.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c := Config{Out: "runs/nightly", MaxDrop: 0.02, Alpha: 0.05, Test: "bootstrap"}
	if err := strictyaml.Decode(path, data, &c); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks the settings and the datasets.
func (c *Config) Validate() error {
	switch {
	case c.Checkpoint == "":
		return fmt.Errorf("nightly: checkpoint is required")
	case c.Out == "":
		return fmt.Errorf("nightly: out is required")
	case c.MaxDrop < 0:
		return fmt.Errorf("nightly: max_drop must be >= 0")
	case c.Alpha <= 0 || c.Alpha >= 1:
		return fmt.Errorf("nightly: alpha must be in (0, 1)")
	case c.Resamples < 0:
		return fmt.Errorf("nightly: resamples must be >= 0")
	}
	ok := false
	for _, t := range Tests {
		ok = ok || c.Test == t
	}
	if !ok {
		return fmt.Errorf("nightly: test %q is not one of %v", c.Test, Tests)
	}
	return suite.Validate(c.Datasets)
}

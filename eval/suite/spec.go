package suite

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cpllm/cpllm/data/datasets"
	"github.com/cpllm/cpllm/internal/strictyaml"
)

// Dataset is one entry of an evaluation suite: a dataset loader over a root
// (and label file, split, ...) or a pre-built shard directory.
type Dataset struct {
	Name   string  `yaml:"name"`    // report and file name; a preset name fills Loader and Split
	Loader string  `yaml:"loader"`  // datasets loader (konvid1k, lsvq, manifest, ...)
	Root   string  `yaml:"root"`    // dataset root directory
	Labels string  `yaml:"labels"`  // label file ("" = the loader's default under Root)
	Split  string  `yaml:"split"`   // e.g. test, test-1080p ("" = all)
	Layout string  `yaml:"layout"`  // youtube-ugc video layout
	MOSMin float64 `yaml:"mos_min"` // MOS scale override (with mos_max)
	MOSMax float64 `yaml:"mos_max"`
	Shards string  `yaml:"shards"` // a shard directory instead of a loader (scored from its stored views)
	Limit  int     `yaml:"limit"`  // score at most this many labelled videos (0 = all); for smoke runs
}

// Config is an evaluation suite file (--eval-config).
type Config struct {
	Datasets  []Dataset `yaml:"datasets"`
	Resamples int       `yaml:"resamples"` // bootstrap resamples (0 = metrics.DefaultResamples)
}

// PresetNames lists the test sets the dataset loaders register (datasets.Presets).
func PresetNames() []string {
	var names []string
	for _, p := range datasets.Presets() {
		names = append(names, p.Name)
	}
	return names
}

// ShardsPrefix marks a shard directory in a --datasets list: "shards:DIR".
const ShardsPrefix = "shards:"

// ParseList turns a --datasets value ("konvid1k,lsvq-test,shards:DIR") into
// entries; roots and labels come from the maps (keyed by dataset name; a
// preset also falls back to its loader's name, e.g. lsvq-test to "lsvq").
func ParseList(list string, roots, labels map[string]string) ([]Dataset, error) {
	var out []Dataset
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if dir, ok := strings.CutPrefix(item, ShardsPrefix); ok {
			out = append(out, Dataset{Name: safeName(filepath.Base(filepath.Clean(dir))), Shards: dir})
			continue
		}
		d := Dataset{Name: item, Root: roots[item], Labels: labels[item]}
		if p, ok := datasets.LookupPreset(item); ok {
			d.Root = cmpOr(d.Root, roots[p.Loader])
			d.Labels = cmpOr(d.Labels, labels[p.Loader])
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no datasets given (presets: %s, or %sDIR)", strings.Join(PresetNames(), ", "), ShardsPrefix)
	}
	return out, Validate(out)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// LoadConfig reads a suite file strictly (unknown keys fail with file:line)
// and validates its datasets.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var c Config
	if err := strictyaml.Decode(path, data, &c); err != nil {
		return Config{}, err
	}
	if err := Validate(c.Datasets); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate fills loaders from presets and checks every entry: a unique,
// file-safe name, either a loader with a root or a shard directory.
func Validate(ds []Dataset) error {
	if len(ds) == 0 {
		return fmt.Errorf("suite: no datasets")
	}
	seen := map[string]bool{}
	for i := range ds {
		d := &ds[i]
		if d.Name == "" || safeName(d.Name) != d.Name {
			return fmt.Errorf("suite: dataset %d: name %q must be non-empty and use only letters, digits, '-', '_', '.'", i+1, d.Name)
		}
		if seen[d.Name] {
			return fmt.Errorf("suite: dataset name %q appears twice", d.Name)
		}
		seen[d.Name] = true
		if d.Limit < 0 {
			return fmt.Errorf("suite: dataset %s: limit must be >= 0", d.Name)
		}
		if d.Shards != "" {
			if d.Loader != "" || d.Root != "" || d.Labels != "" {
				return fmt.Errorf("suite: dataset %s: shards excludes loader, root and labels", d.Name)
			}
			continue
		}
		if p, ok := datasets.LookupPreset(d.Name); ok {
			if d.Loader == "" {
				d.Loader = p.Loader
			}
			if d.Split == "" {
				d.Split = p.Split
			}
		}
		if d.Loader == "" && slices.Contains(datasets.Names(), d.Name) {
			d.Loader = d.Name
		}
		if d.Loader == "" {
			return fmt.Errorf("suite: dataset %s: no loader (presets: %s; loaders: %s) and no shards directory",
				d.Name, strings.Join(PresetNames(), ", "), strings.Join(datasets.Names(), ", "))
		}
		if _, err := datasets.Get(d.Loader); err != nil {
			return fmt.Errorf("suite: dataset %s: %w", d.Name, err)
		}
		if d.Root == "" && d.Labels == "" {
			return fmt.Errorf("suite: dataset %s: root (or labels) is required (--root-%s DIR, or root: in the suite file)", d.Name, d.Name)
		}
	}
	return nil
}

// options maps a loader entry to datasets.Options.
func (d Dataset) options() datasets.Options {
	return datasets.Options{Root: d.Root, Labels: d.Labels, Split: d.Split, Layout: d.Layout, MOSMin: d.MOSMin, MOSMax: d.MOSMax}
}

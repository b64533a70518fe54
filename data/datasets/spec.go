package datasets

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Preset is a named test set of a registered loader: the loader with one
// split. Evaluation takes presets by name (cpllm eval --datasets).
type Preset struct {
	Name   string
	Loader string
	Split  string // "" = every record
}

// spec is a loader described as data; every dataset file registers one.
// Load reads the label file with the parser for its extension, then
// finish applies the scale, paths and split.
type spec struct {
	name       string
	file       string            // default label file under Root
	splitFiles map[string]string // a split's own default label file (lsvq's test-1080p)
	parsers    map[string]parser // by lower-case extension; "" = any other

	// layouts are the accepted Options.Layout values, the first the default;
	// nil rejects any layout. layoutParsers then replaces parsers.
	layouts       []string
	layoutParsers func(layout string) map[string]parser

	mosField string
	lo, hi   float64                                  // MOS scale
	inferFn  func([]Record) (float64, float64, error) // infers the scale instead (labels-txt)
	splits   []string                                 // known splits; nil: any value
	// labelDirBase: relative video paths are relative to the label file's
	// directory (manifests) rather than Root.
	labelDirBase bool

	presets []Preset
}

func (s spec) Name() string { return s.name }

// Presets are the test sets this loader offers.
func (s spec) Presets() []Preset { return s.presets }

func (s spec) Load(opts Options) ([]Record, error) {
	parsers := s.parsers
	switch layout := opts.Layout; {
	case s.layouts == nil && layout != "":
		return nil, fmt.Errorf("%s: Layout %q: only youtube-ugc has video layouts", s.name, layout)
	case s.layouts != nil:
		if layout == "" {
			layout = s.layouts[0]
		}
		if !contains(s.layouts, layout) {
			return nil, fmt.Errorf("%s: unknown layout %q (known: %s)", s.name, layout, strings.Join(s.layouts, ", "))
		}
		parsers = s.layoutParsers(layout)
	}
	def := s.file
	if f, ok := s.splitFiles[opts.Split]; ok {
		def = f
	}
	recs, path, err := readLabels(opts, def, parsers)
	if err != nil {
		return nil, err
	}
	base := opts.Root
	if s.labelDirBase {
		base = filepath.Dir(path)
	}
	return finish(recs, opts, finishing{dataset: s.name, file: path, mosField: s.mosField,
		lo: s.lo, hi: s.hi, base: base, splits: s.splits, inferFn: s.inferFn})
}

// presetLoader is a Loader that offers presets.
type presetLoader interface {
	Presets() []Preset
}

// Presets lists the registered loaders' presets, by loader name.
func Presets() []Preset {
	var out []Preset
	for _, n := range Names() {
		l, _ := Get(n)
		if p, ok := l.(presetLoader); ok {
			out = append(out, p.Presets()...)
		}
	}
	return out
}

// LookupPreset finds a preset by name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// RootKeys are the names that take a dataset root of their own (cpllm eval
// --root-NAME): every preset, then each preset's loader, whose root serves
// the presets that have none.
func RootKeys() []string {
	var keys []string
	seen := map[string]bool{}
	ps := Presets()
	for _, p := range ps {
		keys, seen[p.Name] = append(keys, p.Name), true
	}
	for _, p := range ps {
		if !seen[p.Loader] {
			keys, seen[p.Loader] = append(keys, p.Loader), true
		}
	}
	return keys
}

// Package sweep runs ablation experiments: every variant of an experiment
// file (experiments/*.yaml) trained and evaluated over several seeds, one
// resumable cell per (variant, seed), and a report with significance tests
// against a baseline variant.
package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Experiment is a parsed experiment file. Relative paths in it are relative
// to the file's directory.
type Experiment struct {
	Name      string
	File      string
	ModelPath string // base model config (configs/model/*.yaml)
	TrainPath string // base training recipe (configs/train/*.yaml)
	Data      Data
	Seeds     []int
	Alpha     float64
	Baseline  string
	Variants  []*Variant
}

// Data names the shard directories of an experiment.
type Data struct {
	Train, Val string
	Eval       []EvalSet // test sets, reported one table each
}

// EvalSet is one named test set: a shard directory, or (Holdout) the
// validation records the recipe holds out of its data source of that name.
type EvalSet struct {
	Name    string `yaml:"name"`
	Shards  string `yaml:"shards"`
	Holdout string `yaml:"holdout"`
}

// Variant is one arm of the ablation: dotted-key overrides of the base
// model config and recipe, optional data overrides, optional capacity match.
type Variant struct {
	Name        string
	Line        int
	Model       []Override
	Train       []Override
	TrainData   string // "" = the experiment's
	ValData     string
	DropLadder  bool   // train without the unlabelled CRF-ladder items (and their pairs)
	Capacity    bool   // widen the single encoder to the baseline's trainable count
	CapacityKey string // the model key searched ("" = the encoder's mlp_dim)
	// Init names an earlier variant whose cell of the same seed initialises
	// this one's weights (its best checkpoint; fresh optimizer): a second
	// training stage, such as a describe fine-tune of a trained model.
	Init string

	res resolved // filled by Load
}

// Override sets one dotted key (e.g. variant.encoders) to a YAML value.
type Override struct {
	Key   string
	Value *yaml.Node
	Line  int
}

type rawExperiment struct {
	Name     string       `yaml:"name"`
	Model    string       `yaml:"model"`
	Train    string       `yaml:"train"`
	Data     rawData      `yaml:"data"`
	Seeds    yaml.Node    `yaml:"seeds"`
	Alpha    *float64     `yaml:"alpha"`
	Baseline string       `yaml:"baseline"`
	Variants []rawVariant `yaml:"variants"`
}

type rawData struct {
	Train string    `yaml:"train"`
	Val   string    `yaml:"val"`
	Test  string    `yaml:"test"`
	Eval  []EvalSet `yaml:"eval"`
}

type rawVariant struct {
	Name string    `yaml:"name"`
	Line int       `yaml:"-"`
	Mod  yaml.Node `yaml:"model"`
	Trn  yaml.Node `yaml:"train"`
	Data struct {
		Train      string `yaml:"train"`
		Val        string `yaml:"val"`
		DropLadder bool   `yaml:"drop_ladder"`
	} `yaml:"data"`
	Capacity    string `yaml:"capacity"`
	CapacityKey string `yaml:"capacity_key"`
	Init        string `yaml:"init"`
}

var (
	lineRE     = regexp.MustCompile(`line (\d+): `)
	unknownRE  = regexp.MustCompile(`field (\S+) not found in type .*$`)
	validName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+=-]*$`)
	errNoSeeds = errors.New("seeds: want a count (e.g. 3) or a list of distinct seeds >= 0")
)

// yamlErr rewrites yaml.v3's "line N: ..." errors as "FILE:N: ...", and
// unknown fields as `unknown key "x"`.
func yamlErr(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("%s:%s: %s", file, m[1], lineRE.ReplaceAllString(msg, ""))
		}
		return fmt.Errorf("%s: %s", file, msg)
	}
	var errs []error
	for _, e := range te.Errors {
		e = unknownRE.ReplaceAllString(e, `unknown key "$1"`)
		if m := lineRE.FindStringSubmatch(e); m != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", file, m[1], strings.TrimPrefix(e, m[0])))
		} else {
			errs = append(errs, fmt.Errorf("%s: %s", file, e))
		}
	}
	return errors.Join(errs...)
}

// Load reads an experiment file strictly, applies every variant's
// overrides to the base configs (a bad key fails naming file:line and the
// key), matches capacities and counts parameters. seeds > 0 replaces the
// file's seeds with 1..seeds; a file without seeds has 1..DefaultSeeds.
func Load(path string, seeds int) (*Experiment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw rawExperiment
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, yamlErr(path, err)
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc)
	variantLines(&doc, raw.Variants)
	e := &Experiment{Name: raw.Name, File: path, Alpha: 0.05, Baseline: raw.Baseline}
	base := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	bad := func(f string, a ...any) error { return fmt.Errorf("%s: "+f, append([]any{path}, a...)...) }
	if !validName.MatchString(e.Name) {
		return nil, bad("name %q: want letters, digits, . _ + = - (it names the runs directory)", e.Name)
	}
	if raw.Model == "" || raw.Train == "" {
		return nil, bad("model (base model config) and train (base recipe) are required")
	}
	e.ModelPath, e.TrainPath = rel(raw.Model), rel(raw.Train)
	e.Data = Data{Train: rel(raw.Data.Train), Val: rel(raw.Data.Val)}
	if raw.Data.Test != "" {
		e.Data.Eval = append(e.Data.Eval, EvalSet{Name: "test", Shards: rel(raw.Data.Test)})
	}
	for _, s := range raw.Data.Eval {
		e.Data.Eval = append(e.Data.Eval, EvalSet{Name: s.Name, Shards: rel(s.Shards), Holdout: s.Holdout})
	}
	if (e.Data.Train == "") != (e.Data.Val == "") || len(e.Data.Eval) == 0 {
		return nil, bad("data: train and val (or neither: the base recipe's data section and holdout), and test (or eval: [{name, shards}]) are required")
	}
	seen := map[string]bool{}
	for _, s := range e.Data.Eval {
		if !validName.MatchString(s.Name) || seen[s.Name] || (s.Shards == "") == (s.Holdout == "") {
			return nil, bad("data: eval set %q: names must be unique file-name-safe words, with shards or holdout (a data source of the recipe), not both", s.Name)
		}
		if s.Holdout != "" && e.Data.Train != "" {
			return nil, bad("data: eval set %q: holdout sets need the recipe's data section (leave data.train and data.val out)", s.Name)
		}
		seen[s.Name] = true
	}
	if raw.Alpha != nil {
		e.Alpha = *raw.Alpha
	}
	if !(e.Alpha > 0 && e.Alpha < 1) {
		return nil, bad("alpha %v: want 0 < alpha < 1", e.Alpha)
	}
	if e.Seeds, err = parseSeeds(&raw.Seeds, seeds); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, raw.Seeds.Line, err)
	}
	if len(raw.Variants) < 2 {
		return nil, bad("variants: want at least two (a baseline and one to compare)")
	}
	names := map[string]bool{}
	for _, rv := range raw.Variants {
		v, err := parseVariant(path, rv, rel)
		if err != nil {
			return nil, err
		}
		if names[v.Name] {
			return nil, fmt.Errorf("%s:%d: duplicate variant name %q", path, v.Line, v.Name)
		}
		if v.Init != "" && !names[v.Init] {
			return nil, fmt.Errorf("%s:%d: variant %q: init %q is not a variant listed before it", path, v.Line, v.Name, v.Init)
		}
		names[v.Name] = true
		e.Variants = append(e.Variants, v)
	}
	if e.Baseline == "" {
		e.Baseline = e.Variants[0].Name
	}
	if !names[e.Baseline] {
		return nil, bad("baseline %q is not a variant", e.Baseline)
	}
	return e, e.resolve()
}

// variantLines records each variant's line (for errors) from the node tree.
func variantLines(doc *yaml.Node, vs []rawVariant) {
	if len(doc.Content) == 0 {
		return
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "variants" && m.Content[i+1].Kind == yaml.SequenceNode {
			for j, n := range m.Content[i+1].Content {
				if j < len(vs) {
					vs[j].Line = n.Line
				}
			}
		}
	}
}

// DefaultSeeds is the number of seeds of an experiment file without seeds.
const DefaultSeeds = 5

func parseSeeds(n *yaml.Node, count int) ([]int, error) {
	if count <= 0 && n.Kind == 0 {
		count = DefaultSeeds
	}
	if count > 0 {
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(count)}
	}
	var out []int
	switch n.Kind {
	case yaml.ScalarNode:
		var k int
		if err := n.Decode(&k); err != nil || k < 1 {
			return nil, errNoSeeds
		}
		for i := 1; i <= k; i++ {
			out = append(out, i)
		}
	case yaml.SequenceNode:
		seen := map[int]bool{}
		if err := n.Decode(&out); err != nil || len(out) == 0 {
			return nil, errNoSeeds
		}
		for _, s := range out {
			if s < 0 || seen[s] {
				return nil, errNoSeeds
			}
			seen[s] = true
		}
	default:
		return nil, errNoSeeds
	}
	return out, nil
}

func parseVariant(file string, rv rawVariant, rel func(string) string) (*Variant, error) {
	at := func(line int, f string, a ...any) error {
		return fmt.Errorf("%s:%d: variant %q: "+f, append([]any{file, line, rv.Name}, a...)...)
	}
	if !validName.MatchString(rv.Name) || rv.Name == "report" || rv.Name == "data" {
		return nil, at(rv.Line, "name: want letters, digits, . _ + = - (it names a directory; not report or data)")
	}
	v := &Variant{Name: rv.Name, Line: rv.Line, TrainData: rel(rv.Data.Train), ValData: rel(rv.Data.Val),
		DropLadder: rv.Data.DropLadder, CapacityKey: rv.CapacityKey, Init: rv.Init}
	switch rv.Capacity {
	case "":
	case "match":
		v.Capacity = true
	default:
		return nil, at(rv.Line, "capacity %q: the only value is match", rv.Capacity)
	}
	if v.CapacityKey != "" && !v.Capacity {
		return nil, at(rv.Line, "capacity_key needs capacity: match")
	}
	var err error
	if v.Model, err = overrides(rv.Mod, func(line int, f string, a ...any) error { return at(line, "model: "+f, a...) }); err != nil {
		return nil, err
	}
	if v.Train, err = overrides(rv.Trn, func(line int, f string, a ...any) error { return at(line, "train: "+f, a...) }); err != nil {
		return nil, err
	}
	return v, nil
}

// overrides reads a mapping of dotted keys to values.
func overrides(n yaml.Node, at func(int, string, ...any) error) ([]Override, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, at(n.Line, "want a mapping of dotted keys to values (e.g. variant.encoders: pixel-only)")
	}
	var out []Override
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "" || seen[k.Value] {
			return nil, at(k.Line, "bad or duplicate key %q", k.Value)
		}
		for _, part := range strings.Split(k.Value, ".") {
			if part == "" {
				return nil, at(k.Line, "key %q has an empty part", k.Value)
			}
		}
		seen[k.Value] = true
		out = append(out, Override{Key: k.Value, Value: n.Content[i+1], Line: k.Line})
	}
	return out, nil
}

// Variant returns the variant named name.
func (e *Experiment) Variant(name string) *Variant {
	for _, v := range e.Variants {
		if v.Name == name {
			return v
		}
	}
	return nil
}

package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// CapacityTolerance is how far (relative) a capacity-matched variant's
// trainable parameter count may be from the baseline's.
const CapacityTolerance = 0.05

// resolved is a variant's effective configuration (without the seed).
type resolved struct {
	modelDoc, trainDoc *yaml.Node
	model              model.Config
	train              train.Config
	trainable, frozen  int64
	capKey             string
	capValue           int
}

// Trainable and Frozen are the variant's parameter counts.
func (v *Variant) Trainable() int64 { return v.res.trainable }

// Frozen is the variant's frozen parameter count.
func (v *Variant) Frozen() int64 { return v.res.frozen }

// CapacityMatch returns the key and value chosen to match capacity ("" when
// the variant has no capacity: match).
func (v *Variant) CapacityMatch() (string, int) { return v.res.capKey, v.res.capValue }

// ModelConfig is the variant's model config (before the seed is set).
func (v *Variant) ModelConfig() model.Config { return v.res.model }

// resolve applies every variant's overrides strictly, then matches capacity
// and counts parameters.
func (e *Experiment) resolve() error {
	mdata, err := os.ReadFile(e.ModelPath)
	if err != nil {
		return fmt.Errorf("%s: model: %w", e.File, err)
	}
	tdata, err := os.ReadFile(e.TrainPath)
	if err != nil {
		return fmt.Errorf("%s: train: %w", e.File, err)
	}
	if _, err := model.ParseConfig(mdata); err != nil {
		return fmt.Errorf("%s: %w", e.ModelPath, err)
	}
	if _, err := parseTrain(tdata); err != nil {
		return fmt.Errorf("%s: %w", e.TrainPath, err)
	}
	for _, v := range e.Variants {
		at := func(line int, f string, a ...any) error {
			return fmt.Errorf("%s:%d: variant %q: "+f, append([]any{e.File, line, v.Name}, a...)...)
		}
		if v.res.modelDoc, err = applyAll(mdata, v.Model, func(b []byte) error { return strictDecode(b, &model.Config{}) },
			func(o Override, err error) error { return at(o.Line, "model key %q: %v", o.Key, err) }); err != nil {
			return err
		}
		if v.res.trainDoc, err = applyAll(tdata, v.Train, func(b []byte) error { c := train.DefaultConfig(); return strictDecode(b, &c) },
			func(o Override, err error) error { return at(o.Line, "train key %q: %v", o.Key, err) }); err != nil {
			return err
		}
		if v.res.model, err = model.ParseConfig(marshal(v.res.modelDoc)); err != nil {
			return at(v.Line, "%v", err)
		}
		if v.res.train, err = parseTrain(marshal(v.res.trainDoc)); err != nil {
			return at(v.Line, "%v", err)
		}
	}
	base := e.Variant(e.Baseline)
	if base.Capacity {
		return fmt.Errorf("%s:%d: the baseline %q cannot have capacity: match (it is the target)", e.File, base.Line, base.Name)
	}
	for _, v := range e.Variants {
		if v.Capacity {
			continue
		}
		if v.res.trainable, v.res.frozen, err = model.CountParams(v.res.model); err != nil {
			return fmt.Errorf("%s:%d: variant %q: %w", e.File, v.Line, v.Name, err)
		}
	}
	for _, v := range e.Variants {
		if v.Capacity {
			if err := matchCapacity(v, base.res.trainable); err != nil {
				return fmt.Errorf("%s:%d: variant %q: capacity: %w", e.File, v.Line, v.Name, err)
			}
		}
	}
	return nil
}

// matchCapacity sets the variant's capacity key (default: the mlp_dim of its
// only encoder) to the value whose trainable count is nearest target. The
// count is affine in mlp_dim and in layers, so two counts give the slope.
func matchCapacity(v *Variant, target int64) error {
	key := v.CapacityKey
	if key == "" {
		switch vr, _ := lookup(v); {
		case vr.Context && !vr.Pixel:
			key = "context_encoder.mlp_dim"
		case vr.Pixel && !vr.Context:
			key = "pixel_encoder.mlp_dim"
		default:
			return errors.New("the variant uses both encoders; name the knob with capacity_key")
		}
	}
	cur := getKey(v.res.modelDoc, key)
	if cur == nil {
		return fmt.Errorf("key %q is not in the model config", key)
	}
	v0, err := strconv.Atoi(cur.Value)
	if err != nil || v0 < 1 {
		return fmt.Errorf("key %q = %q is not a positive integer", key, cur.Value)
	}
	count := func(val int) (*yaml.Node, model.Config, int64, int64, error) {
		doc := clone(v.res.modelDoc)
		if err := setKey(doc, key, intNode(val)); err != nil {
			return nil, model.Config{}, 0, 0, err
		}
		mc, err := model.ParseConfig(marshal(doc))
		if err != nil {
			return nil, mc, 0, 0, fmt.Errorf("%s=%d: %w", key, val, err)
		}
		tr, fr, err := model.CountParams(mc)
		return doc, mc, tr, fr, err
	}
	_, _, c0, _, err := count(v0)
	if err != nil {
		return err
	}
	_, _, c1, _, err := count(v0 + 1)
	if err != nil {
		return err
	}
	if c1 <= c0 {
		return fmt.Errorf("the trainable count does not grow with %s", key)
	}
	best := max(1, v0+int(math.Round(float64(target-c0)/float64(c1-c0))))
	doc, mc, tr, fr, err := count(best)
	if err != nil {
		return err
	}
	if off := math.Abs(float64(tr-target)) / float64(target); off > CapacityTolerance {
		return fmt.Errorf("%s=%d gives %d trainable parameters, %.1f%% from the baseline's %d (tolerance %.0f%%); choose another capacity_key",
			key, best, tr, 100*off, target, 100*CapacityTolerance)
	}
	v.res.modelDoc, v.res.model, v.res.trainable, v.res.frozen = doc, mc, tr, fr
	v.res.capKey, v.res.capValue = key, best
	return nil
}

// parseTrain is train.LoadConfig on bytes: strict over the defaults, validated.
func parseTrain(data []byte) (train.Config, error) {
	c := train.DefaultConfig()
	if err := strictDecode(data, &c); err != nil {
		return c, fmt.Errorf("train config: %w", err)
	}
	return c, c.Validate()
}

// strictDecode decodes with unknown keys as errors; messages lose the line
// of the generated YAML (the caller names the key instead).
func strictDecode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, m := range te.Errors {
			m = lineRE.ReplaceAllString(m, "")
			msgs = append(msgs, unknownRE.ReplaceAllString(m, `unknown key "$1"`))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return err
}

// applyAll parses base and applies the overrides one by one, checking after
// each that the document still decodes strictly, so an error names its key.
func applyAll(base []byte, ovs []Override, check func([]byte) error, blame func(Override, error) error) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, err
	}
	for _, o := range ovs {
		if err := setKey(&doc, o.Key, o.Value); err != nil {
			return nil, blame(o, err)
		}
		if err := check(marshal(&doc)); err != nil {
			return nil, blame(o, err)
		}
	}
	return &doc, nil
}

func marshal(doc *yaml.Node) []byte {
	b, err := yaml.Marshal(doc)
	if err != nil {
		panic(err) // a tree built from parsed YAML always encodes
	}
	return b
}

func intNode(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}

// clone deep-copies a node tree (overrides must not alias between variants).
func clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = clone(k)
	}
	return &c
}

// root returns the top mapping of a document, creating it for an empty one.
func root(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
		}
		return doc.Content[0]
	}
	return doc
}

// getKey finds the value node of a dotted key (nil when absent).
func getKey(doc *yaml.Node, key string) *yaml.Node {
	m := root(doc)
	for _, p := range strings.Split(key, ".") {
		if m.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == p {
				next = m.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

// setKey sets a dotted key to a copy of val, creating missing mappings.
func setKey(doc *yaml.Node, key string, val *yaml.Node) error {
	m := root(doc)
	parts := strings.Split(key, ".")
	for i, p := range parts {
		if m.Kind != yaml.MappingNode {
			return fmt.Errorf("%q is not a mapping", strings.Join(parts[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == p {
				if i == len(parts)-1 {
					m.Content[j+1] = clone(val)
					return nil
				}
				next = m.Content[j+1]
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if i == len(parts)-1 {
				next = clone(val)
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, next)
		}
		m = next
	}
	return nil
}

// cellConfigs returns the model config and recipe of one seed, and the
// exact YAML written into the cell (the seed set in both).
func (v *Variant) cellConfigs(seed int) (mc model.Config, tc train.Config, mYAML, tYAML []byte, err error) {
	md, td := clone(v.res.modelDoc), clone(v.res.trainDoc)
	_ = setKey(md, "seed", intNode(seed))
	_ = setKey(td, "seed", intNode(seed))
	mYAML, tYAML = marshal(md), marshal(td)
	if mc, err = model.ParseConfig(mYAML); err != nil {
		return
	}
	tc, err = parseTrain(tYAML)
	return
}

// lookup returns the registered variant (encoders used) of a sweep variant.
func lookup(v *Variant) (model.Variant, error) {
	return model.LookupVariant(v.res.model.Variant.Encoders, v.res.model.Variant.Fusion)
}

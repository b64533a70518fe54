package sweep

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/internal/strictyaml"
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
	// Variants are parsed from bytes, which have no directory of their own.
	if mdata, err = model.AbsTokenizerYAML(mdata, filepath.Dir(e.ModelPath)); err != nil {
		return fmt.Errorf("%s: %w", e.ModelPath, err)
	}
	if _, err := model.ParseConfig(mdata); err != nil {
		return fmt.Errorf("%s: %w", e.ModelPath, err)
	}
	if _, err := train.ParseConfig(tdata, e.TrainPath); err != nil {
		return err
	}
	for _, v := range e.Variants {
		at := func(line int, f string, a ...any) error {
			return fmt.Errorf("%s:%d: variant %q: "+f, append([]any{e.File, line, v.Name}, a...)...)
		}
		if v.res.modelDoc, err = applyAll(mdata, model.Config{}, v.Model,
			func(o Override, err error) error { return at(o.Line, "model: %v", err) }); err != nil {
			return err
		}
		if v.res.trainDoc, err = applyAll(tdata, train.Config{}, v.Train,
			func(o Override, err error) error { return at(o.Line, "train: %v", err) }); err != nil {
			return err
		}
		if v.res.model, err = model.ParseConfig(marshal(v.res.modelDoc)); err != nil {
			return at(v.Line, "%v", err)
		}
		if v.res.train, err = train.ParseConfig(marshal(v.res.trainDoc), e.TrainPath+" (with the variant's train overrides)"); err != nil {
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
	if err := strictyaml.Apply(clone(v.res.modelDoc), model.Config{}, "", strictyaml.Override{Key: key, Value: intNode(1)}); err != nil {
		return err // an unknown key, with a suggestion, or not an integer
	}
	cur := strictyaml.Get(v.res.modelDoc, key)
	if cur == nil {
		return fmt.Errorf("key %q is not in the model config", key)
	}
	v0, err := strconv.Atoi(cur.Value)
	if err != nil || v0 < 1 {
		return fmt.Errorf("key %q = %q is not a positive integer", key, cur.Value)
	}
	count := func(val int) (*yaml.Node, model.Config, int64, int64, error) {
		doc := clone(v.res.modelDoc)
		if err := strictyaml.Apply(doc, model.Config{}, "", strictyaml.Override{Key: key, Value: intNode(val)}); err != nil {
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

// applyAll parses base and applies the overrides one by one with the
// shared strict override engine (strictyaml.Apply, also behind --set), so an
// error names its key and blame can add the override's line.
func applyAll(base []byte, schema any, ovs []Override, blame func(Override, error) error) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, err
	}
	for _, o := range ovs {
		if err := strictyaml.Apply(&doc, schema, "", strictyaml.Override{Key: o.Key, Value: o.Value}); err != nil {
			return nil, blame(o, err)
		}
	}
	return &doc, nil
}

// marshal renders a document as the cell's YAML. It keeps yaml.Marshal's
// layout: a cell's fingerprint hashes these bytes.
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
func clone(n *yaml.Node) *yaml.Node { return strictyaml.Clone(n) }

// cellConfigs returns the model config and recipe of one seed, and the
// exact YAML written into the cell (the seed set in both).
func (v *Variant) cellConfigs(seed int) (mc model.Config, tc train.Config, mYAML, tYAML []byte, err error) {
	md, td := clone(v.res.modelDoc), clone(v.res.trainDoc)
	seedSet := strictyaml.Override{Key: "seed", Value: intNode(seed)}
	if err = strictyaml.Apply(md, model.Config{}, "", seedSet); err != nil {
		return
	}
	if err = strictyaml.Apply(td, train.Config{}, "", seedSet); err != nil {
		return
	}
	mYAML, tYAML = marshal(md), marshal(td)
	if mc, err = model.ParseConfig(mYAML); err != nil {
		return
	}
	tc, err = train.ParseConfig(tYAML, TrainFile)
	return
}

// lookup returns the registered variant (encoders used) of a sweep variant.
func lookup(v *Variant) (model.Variant, error) {
	return model.LookupVariant(v.res.model.Variant.Encoders, v.res.model.Variant.Fusion)
}

package model

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/model/decoder"
	"github.com/cpllm/cpllm/model/layers"
)

// The settings of one component in the model config's trainable section.
const (
	TrainFull   = "full"   // every weight trains
	TrainFrozen = "frozen" // nothing trains: no gradients, no optimizer moments, no EMA
	TrainLoRA   = "lora"   // base weights frozen, LoRA adapters trained (decoder only)
)

// TrainableConfig says what training updates, per component. Fusion
// variables (the cross-attention fusion's sub-layers in the decoder and its
// video-slot embedding) always train.
type TrainableConfig struct {
	ContextEncoder string `yaml:"context_encoder"` // full (default) | frozen
	PixelEncoder   string `yaml:"pixel_encoder"`   // full (default) | frozen
	Projectors     string `yaml:"projectors"`      // full (default) | frozen
	// Decoder: full trains the base weights and the adapters (if lora.rank > 0);
	// lora (default) only the adapters; frozen neither.
	Decoder string `yaml:"decoder"`
	// Heads (the score regressor, heads.stats_linear and heads.level_gate): full (default) |
	// frozen. A second stage that teaches descriptions can keep the first
	// stage's score path as it was.
	Heads string `yaml:"heads"`
}

func (t *TrainableConfig) applyDefaults() {
	for _, p := range []*string{&t.ContextEncoder, &t.PixelEncoder, &t.Projectors, &t.Heads} {
		if *p == "" {
			*p = TrainFull
		}
	}
	if t.Decoder == "" {
		t.Decoder = TrainLoRA
	}
}

// Validate checks every setting; lora is accepted only where adapters exist
// (the decoder, with lora.rank > 0 and at least one target).
func (t TrainableConfig) Validate(lora decoder.LoRAConfig) error {
	var errs []error
	for _, f := range []struct {
		key, val string
		adapters bool
	}{
		{"context_encoder", t.ContextEncoder, false},
		{"pixel_encoder", t.PixelEncoder, false},
		{"projectors", t.Projectors, false},
		{"decoder", t.Decoder, true},
		{"heads", t.Heads, false},
	} {
		switch {
		case f.val == TrainFull || f.val == TrainFrozen:
		case f.val != TrainLoRA:
			errs = append(errs, fmt.Errorf("trainable.%s: %q is not full, frozen or lora", f.key, f.val))
		case !f.adapters:
			errs = append(errs, fmt.Errorf("trainable.%s: lora: the %s has no LoRA adapters (only the decoder has): use full or frozen", f.key, f.key))
		case lora.Rank == 0 || len(lora.Targets) == 0:
			errs = append(errs, fmt.Errorf("trainable.decoder: lora (the default) needs adapters: set lora.rank > 0 and lora.targets, or trainable.decoder: full or frozen"))
		}
	}
	return errors.Join(errs...)
}

// Setting returns the trainable setting of a component (one of Components;
// "full" for fusion, which always trains).
func (t TrainableConfig) Setting(component string) string {
	switch component {
	case "context_encoder":
		return t.ContextEncoder
	case "pixel_encoder":
		return t.PixelEncoder
	case "projectors":
		return t.Projectors
	case "decoder":
		return t.Decoder
	case "heads":
		// unset (a config built in code, defaults not applied) trains
		if t.Heads == TrainFrozen {
			return TrainFrozen
		}
	}
	return TrainFull
}

// Components are the parts a parameter count is split into, in model order.
var Components = []string{"context_encoder", "pixel_encoder", "projectors", "fusion", "decoder", "heads"}

// ComponentOf names the component of a model variable path: its top-level
// scope, except that the decoder's cross-attention sub-layers (added by the
// cross-attention fusion, always trained) count as fusion. "" for a path
// outside the model weights.
func ComponentOf(path string) string {
	top, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	switch top {
	case "projector":
		return "projectors"
	case "decoder":
		if strings.Contains(rest, "/cross_attn") {
			return "fusion"
		}
		return "decoder"
	case "context_encoder", "pixel_encoder", "fusion", "heads":
		return top
	}
	return ""
}

// markTrainable sets the trainable flags of the component scopes in the
// store, before any variable exists: each variable takes its flag from its
// scope when a graph creates or uses it (layers.Var), so the optimizer
// (gradients and moments of trainable variables only) and the EMA follow.
func (m *Model) markTrainable() {
	t, root := m.Cfg.Trainable, m.Store.RootScope()
	root.At("context_encoder").SetParam(layers.ParamTrainable, t.ContextEncoder == TrainFull)
	root.At("pixel_encoder").SetParam(layers.ParamTrainable, t.PixelEncoder == TrainFull)
	root.At("projector").SetParam(layers.ParamTrainable, t.Projectors == TrainFull)
	root.At("fusion").SetParam(layers.ParamTrainable, true)
	root.At("heads").SetParam(layers.ParamTrainable, t.Heads != TrainFrozen)
	dec := root.At("decoder")
	dec.SetParam(layers.ParamTrainable, t.Decoder == TrainFull)
	dec.SetParam(layers.ParamLoRATrainable, t.Decoder != TrainFrozen)
}

// checkRemovedKeys rejects keys that model configs no longer have, naming
// what replaced them (name is used in errors; YAML errors are left to the
// strict decoder).
func checkRemovedKeys(name string, data []byte) error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	dec := mappingValue(doc.Content[0], "decoder")
	if dec == nil {
		return nil
	}
	for i := 0; i+1 < len(dec.Content); i += 2 {
		if k := dec.Content[i]; k.Value == "train_base" {
			return fmt.Errorf("%s:%d: decoder.train_base is replaced by trainable.decoder: "+
				"full (was train_base: true), lora (was train_base: false, with lora.rank > 0) or frozen", name, k.Line)
		}
	}
	return nil
}

// mappingValue is the value of key in mapping n (nil when absent or n is not a mapping).
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.MappingNode {
			return n.Content[i+1]
		}
	}
	return nil
}

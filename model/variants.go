package model

import (
	"fmt"
	"strings"
)

// Variant is one registered (encoders, fusion) combination.
type Variant struct {
	Encoders string // context+pixel | context-only | pixel-only
	Fusion   string // a fusions entry's name
	Context  bool   // uses the context (SigLIP-style) encoder
	Pixel    bool   // uses the pixel (VideoPrism-style) encoder

	fusion *fusionSpec
}

// Name is "encoders/fusion".
func (v Variant) Name() string { return v.Encoders + "/" + v.Fusion }

// Memory reports whether the visual tokens are a cross-attention memory
// rather than positions in the decoder sequence.
func (v Variant) Memory() bool { return v.fusion.Memory }

var encoderSets = []struct {
	name           string
	context, pixel bool
}{
	{"context+pixel", true, true},
	{"context-only", true, false},
	{"pixel-only", false, true},
}

// registry lists every valid variant, default first: each encoder set with
// each fusion it admits.
var registry = func() []Variant {
	var vs []Variant
	for _, e := range encoderSets {
		for i := range fusions {
			f := &fusions[i]
			if f.Both && !(e.context && e.pixel) {
				continue
			}
			vs = append(vs, Variant{Encoders: e.name, Fusion: f.Name, Context: e.context, Pixel: e.pixel, fusion: f})
		}
	}
	return vs
}()

// Variants returns the names ("encoders/fusion") of all registered variants.
func Variants() []string {
	names := make([]string, len(registry))
	for i, v := range registry {
		names[i] = v.Name()
	}
	return names
}

// LookupVariant finds a registered variant.
func LookupVariant(encoders, fusion string) (Variant, error) {
	for _, v := range registry {
		if v.Encoders == encoders && v.Fusion == fusion {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("unknown variant %q (registered: %s)", encoders+"/"+fusion, strings.Join(Variants(), ", "))
}

// WithVariant returns a copy of c using the variant named "encoders/fusion".
func (c Config) WithVariant(name string) (Config, error) {
	enc, fus, ok := strings.Cut(name, "/")
	if !ok {
		return c, fmt.Errorf("variant %q: want encoders/fusion", name)
	}
	if _, err := LookupVariant(enc, fus); err != nil {
		return c, err
	}
	c.Variant.Encoders, c.Variant.Fusion = enc, fus
	return c, nil
}

// VariantInfo is one row of `cpllm model list`: the variant's parameters
// under the config's trainable setting, whole and per component.
type VariantInfo struct {
	Name       string           `json:"name"`
	Encoders   string           `json:"encoders"`
	Fusion     string           `json:"fusion"`
	Total      int64            `json:"total"`
	Trainable  int64            `json:"trainable"`
	Frozen     int64            `json:"frozen"`
	Components []ComponentCount `json:"components"`
}

// ListVariants counts the parameters of every registered variant built from cfg
// (only cfg's variant choice is replaced).
func ListVariants(cfg Config) ([]VariantInfo, error) {
	infos := make([]VariantInfo, 0, len(registry))
	for _, v := range registry {
		c, err := cfg.WithVariant(v.Name())
		if err != nil {
			return nil, err
		}
		pc, err := CountParamsDetail(c)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name(), err)
		}
		infos = append(infos, VariantInfo{Name: v.Name(), Encoders: v.Encoders, Fusion: v.Fusion,
			Total: pc.Total, Trainable: pc.Trainable, Frozen: pc.Total - pc.Trainable, Components: pc.Components})
	}
	return infos, nil
}

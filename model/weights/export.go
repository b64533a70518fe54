package weights

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute/dtypes"
	gm "github.com/gomlx/gomlx/ml/model"
	"go.yaml.in/yaml/v3"
)

// Metadata keys written by Export.
const (
	MetaFormat     = "format"            // "cpllm"
	MetaConfig     = "cpllm.config"      // the model config as YAML
	MetaVariant    = "cpllm.variant"     // encoders/fusion
	MetaLoRAMerged = "cpllm.lora_merged" // "true" when adapters were folded into the base weights
	MetaLoRAScale  = "cpllm.lora_scale"  // alpha/rank used for the merge
	formatCPLLM    = "cpllm"
	loraA, loraB   = "/lora_A", "/lora_B" // adapter variable suffixes
)

// Name is the tensor name of a variable path ("/decoder/model/norm/weight" ->
// "decoder/model/norm/weight").
func Name(path string) string { return strings.TrimPrefix(path, "/") }

// Export writes every model variable to path under its cpllm name, in the
// variable's dtype, with the config in the metadata. With mergeLoRA each
// adapted projection is written as W + (alpha/rank) A B and its lora_A/lora_B
// are left out, giving a plain model with the same outputs.
func Export(m *model.Model, path string, mergeLoRA bool) error {
	vs, err := modelVariables(m)
	if err != nil {
		return err
	}
	cfg, err := yaml.Marshal(m.Cfg)
	if err != nil {
		return err
	}
	f := File{
		Metadata: map[string]string{MetaFormat: formatCPLLM, MetaConfig: string(cfg),
			MetaVariant: m.Variant.Name(), MetaLoRAMerged: strconv.FormatBool(mergeLoRA)},
		Tensors: map[string]Tensor{},
	}
	values := map[string][]float64{}
	byPath := map[string]*gm.Variable{}
	for _, v := range vs {
		if values[v.Path()], err = variableValues(v); err != nil {
			return fmt.Errorf("export %s: %w", path, err)
		}
		byPath[v.Path()] = v
	}
	if mergeLoRA {
		scale := 0.0
		if l := m.Cfg.LoRA; l.Rank > 0 {
			scale = l.Alpha / float64(l.Rank)
		}
		f.Metadata[MetaLoRAScale] = strconv.FormatFloat(scale, 'g', -1, 64)
		for p := range byPath {
			dir, ok := strings.CutSuffix(p, loraA)
			if !ok {
				continue
			}
			if err := merge(byPath, values, dir, scale); err != nil {
				return fmt.Errorf("export %s: %w", path, err)
			}
			delete(values, dir+loraA)
			delete(values, dir+loraB)
		}
	}
	for p, vals := range values {
		v := byPath[p]
		dt := F32
		if v.DType() == dtypes.Float64 {
			dt = F64
		}
		if f.Tensors[Name(p)], err = FromFloat64(dt, v.Shape().Dimensions, vals); err != nil {
			return fmt.Errorf("export %s: %s: %w", path, p, err)
		}
	}
	return Write(path, f)
}

// merge folds dir's adapters into dir/weight: W[in,out] += scale * A[in,r] B[r,out].
func merge(byPath map[string]*gm.Variable, values map[string][]float64, dir string, scale float64) error {
	w, b := byPath[dir+"/weight"], byPath[dir+loraB]
	if w == nil || b == nil {
		return fmt.Errorf("%s has lora_A but no weight or lora_B", dir)
	}
	a := byPath[dir+loraA]
	in, r, out := a.Shape().Dim(0), a.Shape().Dim(1), b.Shape().Dim(1)
	if b.Shape().Dim(0) != r || w.Shape().Dim(0) != in || w.Shape().Dim(1) != out {
		return fmt.Errorf("%s: shapes weight %s, lora_A %s, lora_B %s do not compose", dir, w.Shape(), a.Shape(), b.Shape())
	}
	av, bv := values[dir+loraA], values[dir+loraB]
	merged := append([]float64{}, values[dir+"/weight"]...)
	for i := range in {
		for k := range r {
			s := scale * av[i*r+k]
			for j := range out {
				merged[i*out+j] += s * bv[k*out+j]
			}
		}
	}
	values[dir+"/weight"] = merged
	return nil
}

// Load reads a cpllm-named file written by Export into m, strictly: every
// model variable must be in the file with its shape and every tensor in the
// file must be a model variable; otherwise it returns a *MismatchError and
// changes nothing. From a LoRA-merged file the adapters are absent: lora_A
// keeps its value and lora_B is set to zero so the merged update is not
// applied twice.
func Load(m *model.Model, path string) (Report, error) {
	vs, err := modelVariables(m)
	if err != nil {
		return Report{}, err
	}
	f, err := Read(path)
	if err != nil {
		return Report{}, err
	}
	merged := f.Metadata[MetaLoRAMerged] == "true"
	bad := &MismatchError{What: "load " + path}
	var rep Report
	var plans, zero []*gm.Variable
	seen := map[string]bool{}
	for _, v := range vs {
		n := Name(v.Path())
		seen[n] = true
		t, ok := f.Tensors[n]
		switch {
		case !ok && merged && strings.HasSuffix(v.Path(), loraA):
			rep.Kept = append(rep.Kept, v.Path())
		case !ok && merged && strings.HasSuffix(v.Path(), loraB):
			zero = append(zero, v)
		case !ok:
			bad.Missing = append(bad.Missing, fmt.Sprintf("%s %v", n, v.Shape().Dimensions))
		default:
			if msg := shapeProblem(t, Same, v); msg != "" {
				bad.Misshaped = append(bad.Misshaped, n+": "+msg)
			} else {
				plans = append(plans, v)
			}
		}
	}
	for n, t := range f.Tensors {
		if !seen[n] {
			bad.Unexpected = append(bad.Unexpected, fmt.Sprintf("%s %v", n, t.Shape))
		}
	}
	if !bad.empty() {
		return Report{}, bad
	}
	for _, v := range plans {
		if err := setVariable(v, f.Tensors[Name(v.Path())].Float64()); err != nil {
			return rep, fmt.Errorf("load %s: %s: %w", path, v.Path(), err)
		}
		rep.Loaded = append(rep.Loaded, v.Path())
	}
	for _, v := range zero {
		if err := setVariable(v, make([]float64, v.Shape().Size())); err != nil {
			return rep, fmt.Errorf("load %s: %s: %w", path, v.Path(), err)
		}
		rep.Zeroed = append(rep.Zeroed, v.Path())
	}
	return rep, nil
}

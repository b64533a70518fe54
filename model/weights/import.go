package weights

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cpllm/cpllm/internal/mismatch"
	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// Source is a set of named tensors gathered from one or more safetensors files.
type Source struct {
	Tensors  map[string]Tensor
	Origin   map[string]string // tensor name -> file it came from
	Metadata map[string]string // merged __metadata__ of the files
}

// OpenSource reads path: one .safetensors file, or every *.safetensors file of
// a directory (a sharded HF checkpoint). A name in two shards is an error.
func OpenSource(path string) (*Source, error) {
	files := []string{path}
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if st.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.safetensors")); err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no *.safetensors files", path)
		}
		sort.Strings(files)
	}
	src := &Source{Tensors: map[string]Tensor{}, Origin: map[string]string{}, Metadata: map[string]string{}}
	for _, fn := range files {
		f, err := Read(fn)
		if err != nil {
			return nil, err
		}
		for n, t := range f.Tensors {
			if prev, dup := src.Origin[n]; dup {
				return nil, fmt.Errorf("tensor %q is in both %s and %s", n, prev, fn)
			}
			src.Tensors[n], src.Origin[n] = t, fn
		}
		for k, v := range f.Metadata {
			src.Metadata[k] = v
		}
	}
	return src, nil
}

// Report says what an import or load did.
type Report struct {
	Loaded  []string // variable paths set from the source
	Kept    []string // variables the source does not cover, left as they were
	Zeroed  []string // LoRA B adapters set to zero (their update is merged in the base weights)
	Ignored []string // source tensors deliberately dropped
}

// MismatchError lists every problem found before anything was loaded.
type MismatchError struct {
	What       string   // e.g. "import siglip+gemma from ckpt/"
	Missing    []string // expected tensors the source lacks
	Unexpected []string // source tensors nothing consumes
	Misshaped  []string // tensors whose shape does not fit the variable
	Unmapped   []string // model variables no rule covers
}

func (e *MismatchError) empty() bool {
	return len(e.Missing)+len(e.Unexpected)+len(e.Misshaped)+len(e.Unmapped) == 0
}

func (e *MismatchError) Error() string {
	return mismatch.Format(e.What+": nothing loaded:",
		mismatch.Section{Title: "missing", Items: e.Missing}, mismatch.Section{Title: "unexpected", Items: e.Unexpected},
		mismatch.Section{Title: "mis-shaped", Items: e.Misshaped}, mismatch.Section{Title: "unmapped variables", Items: e.Unmapped})
}

// plan is one variable to set from one source tensor.
type plan struct {
	v      *gm.Variable
	source string
	tr     Transform
}

// modelVariables returns the model's weights, failing when none are declared.
func modelVariables(m *model.Model) ([]*gm.Variable, error) {
	vs := m.Variables()
	if len(vs) == 0 {
		return nil, errors.New("the model has no variables yet: call Init (or DeclareVariables) first")
	}
	return vs, nil
}

// Import sets the model variables covered by maps from src, strictly: it
// either loads every mapped tensor or returns a *MismatchError listing every
// missing, unexpected, mis-shaped and unmapped tensor, having changed nothing.
func Import(m *model.Model, src *Source, what string, maps ...NameMap) (Report, error) {
	vs, err := modelVariables(m)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	bad := &MismatchError{What: what}
	var plans []plan
	claimed := map[string]string{} // source name -> variable path
	for _, nm := range maps {
		for _, v := range vs {
			rel, ok := strings.CutPrefix(v.Path(), nm.Scope+"/")
			if !ok {
				continue
			}
			if matchAny(nm.SkipVars, v.Path()) {
				rep.Kept = append(rep.Kept, v.Path())
				continue
			}
			s, tr, ok := nm.ruleFor(rel)
			if !ok {
				bad.Unmapped = append(bad.Unmapped, fmt.Sprintf("%s %v (no %s rule)", v.Path(), v.Shape().Dimensions, nm.Name))
				continue
			}
			if prev, dup := claimed[s]; dup {
				bad.Unmapped = append(bad.Unmapped, fmt.Sprintf("%s: source %q already feeds %s", v.Path(), s, prev))
				continue
			}
			claimed[s] = v.Path()
			t, ok := src.Tensors[s]
			if !ok {
				bad.Missing = append(bad.Missing, fmt.Sprintf("%s (for %s %v)", s, v.Path(), v.Shape().Dimensions))
				continue
			}
			if msg := shapeProblem(t, tr, v); msg != "" {
				bad.Misshaped = append(bad.Misshaped, fmt.Sprintf("%s in %s: %s", s, src.Origin[s], msg))
				continue
			}
			plans = append(plans, plan{v, s, tr})
		}
	}
	for n := range src.Tensors {
		if _, ok := claimed[n]; ok {
			continue
		}
		ignored := false
		for _, nm := range maps {
			ignored = ignored || matchAny(nm.IgnoreSources, n)
		}
		if ignored {
			rep.Ignored = append(rep.Ignored, n)
		} else {
			bad.Unexpected = append(bad.Unexpected, fmt.Sprintf("%s %v in %s", n, src.Tensors[n].Shape, src.Origin[n]))
		}
	}
	if !bad.empty() {
		return Report{}, bad
	}
	for _, p := range plans {
		t := src.Tensors[p.source]
		if err := setVariable(p.v, transformValues(p.tr, t.Shape, t.Float64())); err != nil {
			return rep, fmt.Errorf("%s -> %s: %w", p.source, p.v.Path(), err)
		}
		rep.Loaded = append(rep.Loaded, p.v.Path())
	}
	return rep, nil
}

// shapeProblem describes why t (after tr) cannot fill v, or returns "".
func shapeProblem(t Tensor, tr Transform, v *gm.Variable) string {
	got, err := transformShape(tr, t.Shape)
	if err != nil {
		return err.Error()
	}
	if want := v.Shape().Dimensions; !slices.Equal(got, want) {
		if tr == Same {
			return fmt.Sprintf("shape %v, variable %s wants %v", t.Shape, v.Path(), want)
		}
		return fmt.Sprintf("shape %v (%v after transform), variable %s wants %v", t.Shape, got, v.Path(), want)
	}
	return ""
}

// ImportSigLIP loads an HF SigLIP vision tower (file or directory) into the
// context encoder.
func ImportSigLIP(m *model.Model, path string) (Report, error) {
	return importPath(m, path, SigLIPMap())
}

// ImportGemma loads an HF Gemma decoder (file or directory) into the decoder.
func ImportGemma(m *model.Model, path string) (Report, error) {
	return importPath(m, path, GemmaMap())
}

func importPath(m *model.Model, path string, nm NameMap) (Report, error) {
	src, err := OpenSource(path)
	if err != nil {
		return Report{}, err
	}
	return Import(m, src, fmt.Sprintf("import %s from %s", nm.Name, path), nm)
}

// setVariable stores row-major values in v with v's dtype and shape.
func setVariable(v *gm.Variable, vals []float64) error {
	dims := v.Shape().Dimensions
	var t *tensors.Tensor
	switch v.DType() {
	case dtypes.Float32:
		f := make([]float32, len(vals))
		for i, x := range vals {
			f[i] = float32(x)
		}
		t = tensors.FromFlatDataAndDimensions(f, dims...)
	case dtypes.Float64:
		t = tensors.FromFlatDataAndDimensions(slices.Clone(vals), dims...)
	default:
		return fmt.Errorf("variable dtype %s is not float32 or float64", v.DType())
	}
	return v.SetValue(t)
}

// variableValues reads v's value as float64.
func variableValues(v *gm.Variable) ([]float64, error) {
	t, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Path(), err)
	}
	var out []float64
	err = t.ConstFlatData(func(a any) {
		switch d := a.(type) {
		case []float32:
			out = make([]float64, len(d))
			for i, x := range d {
				out[i] = float64(x)
			}
		case []float64:
			out = slices.Clone(d)
		}
	})
	if err == nil && out == nil {
		err = fmt.Errorf("dtype %s is not float32 or float64", t.DType())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.Path(), err)
	}
	return out, nil
}

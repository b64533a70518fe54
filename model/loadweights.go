package model

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"

	"github.com/cpllm/cpllm/internal/mismatch"
)

// WeightsMismatchError lists every problem LoadWeights found; when it is
// returned no variable was changed.
type WeightsMismatchError struct {
	Path       string
	Missing    []string // model variables the file lacks
	Unexpected []string // file variables under the model's scopes the model lacks
	Misshaped  []string // variables whose saved shape differs from the model's
}

func (e *WeightsMismatchError) Error() string {
	return mismatch.Format(e.Path+": the checkpoint does not fit the model, nothing loaded:",
		mismatch.Section{Title: "missing", Items: e.Missing}, mismatch.Section{Title: "unexpected", Items: e.Unexpected},
		mismatch.Section{Title: "mis-shaped", Items: e.Misshaped})
}

// LoadWeights sets the initialised model's own variables from a variables
// file (WriteVariables) strictly: every model variable must be there with its
// shape, and the file may hold no other variable under the model's top-level
// scopes (context_encoder, decoder, ...); otherwise a *WeightsMismatchError
// lists them all and nothing is changed. Training state (optimizer moments,
// counters, the /ema averages) is not loaded; with ema, a weight whose
// average the file holds takes the average (the weights a run evaluates).
// Trainable flags stay the model's (its config decides what trains).
func LoadWeights(m *Model, path string, ema bool) error {
	saved, err := readSaved(path)
	if err != nil {
		return err
	}
	scopes := map[string]bool{}
	model := map[string]*gm.Variable{}
	for v := range m.Store.IterVariables() {
		if scope := topScope(v.Path()); !strings.HasPrefix(scope, "#") { // #rngState is the store's, not a weight
			scopes[scope] = true
			model[v.Path()] = v
		}
	}
	bad := &WeightsMismatchError{Path: path}
	for p, sv := range saved {
		if v, ok := model[p]; ok {
			if !v.Shape().Equal(sv.shape()) {
				bad.Misshaped = append(bad.Misshaped, fmt.Sprintf("%s: %s in the checkpoint, %s in the model", p, sv.shape(), v.Shape()))
			}
		} else if scopes[topScope(p)] {
			bad.Unexpected = append(bad.Unexpected, fmt.Sprintf("%s %v", p, sv.Dims))
		}
	}
	for p, v := range model {
		if _, ok := saved[p]; !ok {
			bad.Missing = append(bad.Missing, fmt.Sprintf("%s %v", p, v.Shape().Dimensions))
		}
		if a, ok := saved[EMAPrefix+p]; ok && ema && !a.shape().Equal(v.Shape()) {
			bad.Misshaped = append(bad.Misshaped, fmt.Sprintf("%s: %s in the checkpoint, %s in the model", EMAPrefix+p, a.shape(), v.Shape()))
		}
	}
	if len(bad.Missing)+len(bad.Unexpected)+len(bad.Misshaped) > 0 {
		return bad
	}
	for p, v := range model {
		sv := saved[p]
		if a, ok := saved[EMAPrefix+p]; ok && ema {
			sv = a
		}
		t, err := sv.tensor()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, p, err)
		}
		if err := v.SetValue(t); err != nil {
			return fmt.Errorf("%s: %s: %w", path, p, err)
		}
	}
	return nil
}

// topScope is the first element of a variable path ("/decoder/model/..." ->
// "decoder").
func topScope(p string) string {
	s, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return s
}

// readSaved reads every variable of a variables file, by path.
func readSaved(path string) (map[string]savedVar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReader(f))
	out := map[string]savedVar{}
	for {
		var sv savedVar
		if err := dec.Decode(&sv); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[sv.Path] = sv
	}
}

func (sv savedVar) shape() shapes.Shape { return shapes.Make(dtypes.DType(sv.DType), sv.Dims...) }

func (sv savedVar) tensor() (*tensors.Tensor, error) {
	t := tensors.FromShape(sv.shape())
	if err := t.MutableBytes(func(b []byte) {
		if len(b) == len(sv.Data) {
			copy(b, sv.Data)
		}
	}); err != nil {
		return nil, err
	}
	if n := t.Shape().Memory(); int(n) != len(sv.Data) {
		return nil, fmt.Errorf("%d bytes saved for %s", len(sv.Data), sv.shape())
	}
	return t, nil
}

package model

import (
	"bufio"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// A run directory holds its checkpoints under RUN/checkpoints: step-NNNNNNNN
// (the raw weights, for resume) and best. A checkpoint directory holds the
// store's variables and the trainer's state.json, of which only "averaged"
// matters here: the trainable weights already are the EMA (the best
// checkpoint of an ema run).
const (
	CheckpointsDir = "checkpoints"
	BestCheckpoint = "best"
	VarsFile       = "variables.gob"
	StateFile      = "state.json"
	stepPrefix     = "step-"
	// EMAPrefix is where the weight averages live in the store (non-trainable).
	EMAPrefix = "/ema"
)

// StepCheckpoint is the name of the step checkpoint after step steps.
func StepCheckpoint(step int) string { return fmt.Sprintf("%s%08d", stepPrefix, step) }

// StepCheckpoints lists the steps of dir's step checkpoints, oldest first
// (none when dir does not exist).
func StepCheckpoints(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var steps []int
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), stepPrefix); ok && e.IsDir() {
			if s, err := strconv.Atoi(n); err == nil {
				steps = append(steps, s)
			}
		}
	}
	slices.Sort(steps)
	return steps, nil
}

// ResolveCheckpoint finds the checkpoint of p: p itself when it is one, else
// the run directory p's best checkpoint, else its newest step checkpoint.
func ResolveCheckpoint(p string) (string, error) {
	if _, err := os.Stat(filepath.Join(p, StateFile)); err == nil {
		return p, nil
	}
	ck := filepath.Join(p, CheckpointsDir)
	if _, err := os.Stat(filepath.Join(ck, BestCheckpoint, StateFile)); err == nil {
		return filepath.Join(ck, BestCheckpoint), nil
	}
	steps, err := StepCheckpoints(ck)
	if err != nil || len(steps) == 0 {
		return "", fmt.Errorf("%s: not a checkpoint or a run directory with checkpoints", p)
	}
	return filepath.Join(ck, StepCheckpoint(steps[len(steps)-1])), nil
}

// LoadCheckpoint builds the model of mc on its backend and restores a
// checkpoint's weights into it (see ResolveCheckpoint, LoadCheckpointWeights).
func LoadCheckpoint(mc Config, ckpt string) (*Model, compute.Backend, error) {
	m, err := Build(mc)
	if err != nil {
		return nil, nil, err
	}
	b, err := NewBackend(mc.Backend)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Init(b); err != nil {
		return nil, nil, err
	}
	if _, err := LoadCheckpointWeights(m, ckpt); err != nil {
		return nil, nil, err
	}
	return m, b, nil
}

// LoadCheckpointWeights sets the initialised model's own variables from a
// checkpoint (ResolveCheckpoint) strictly (LoadWeights), taking the EMA of a
// step checkpoint whose run kept one; it returns the checkpoint directory.
// Optimizer state and counters in the checkpoint are not loaded.
func LoadCheckpointWeights(m *Model, ckpt string) (string, error) {
	dir, err := ResolveCheckpoint(ckpt)
	if err != nil {
		return "", err
	}
	var st struct {
		Averaged bool `json:"averaged"`
	}
	js, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err == nil {
		err = json.Unmarshal(js, &st)
	}
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return dir, LoadWeights(m, filepath.Join(dir, VarsFile), !st.Averaged)
}

// savedVar is one store variable: model weights, optimizer moments, the
// global/Adam step counters, the learning rate and the store's RNG state.
type savedVar struct {
	Path      string
	DType     int
	Dims      []int
	Trainable bool
	Data      []byte
}

// WriteVariables writes every store variable to path (gob), fsynced.
func WriteVariables(store *gm.Store, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := gob.NewEncoder(w)
	for v := range store.IterVariables() {
		t, err := v.Value()
		if err != nil {
			f.Close()
			return fmt.Errorf("checkpoint %s: %w", v.Path(), err)
		}
		sv := savedVar{Path: v.Path(), DType: int(t.DType()), Dims: t.Shape().Dimensions, Trainable: v.Trainable}
		if err := t.ConstBytes(func(b []byte) { sv.Data = slices.Clone(b) }); err != nil {
			f.Close()
			return err
		}
		if err := enc.Encode(&sv); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadVariables restores a training checkpoint's variables of path into
// store (resume), creating the ones the store lacks (optimizer moments, EMA
// averages, counters) in their saved order. Loading weights into a model
// for use is LoadWeights, which is strict.
func ReadVariables(store *gm.Store, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReader(f))
	for {
		var sv savedVar
		if err := dec.Decode(&sv); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		shape := shapes.Make(dtypes.DType(sv.DType), sv.Dims...)
		t := tensors.FromShape(shape)
		if err := t.MutableBytes(func(b []byte) { copy(b, sv.Data) }); err != nil {
			return err
		}
		if v := store.GetVariable(sv.Path); v != nil {
			if !v.Shape().Equal(shape) {
				return fmt.Errorf("%s: variable %s is %s in the checkpoint, %s in the model", filepath.Dir(path), sv.Path, shape, v.Shape())
			}
			if err := v.SetValue(t); err != nil {
				return err
			}
			v.SetTrainable(sv.Trainable)
			continue
		}
		v, err := store.CreateVariable(sv.Path, t)
		if err != nil {
			return err
		}
		v.SetTrainable(sv.Trainable)
	}
}

// SwapEMA exchanges every trainable weight with its average under EMAPrefix
// (a second call swaps back). Variables without an average stay.
func SwapEMA(store *gm.Store) error {
	for v := range store.IterVariables() {
		if !v.Trainable {
			continue
		}
		e := store.GetVariable(EMAPrefix + v.Path())
		if e == nil {
			continue
		}
		a, err := v.Value()
		if err != nil {
			return fmt.Errorf("ema swap %s: %w", v.Path(), err)
		}
		b, err := e.Value()
		if err != nil {
			return fmt.Errorf("ema swap %s: %w", e.Path(), err)
		}
		if err := v.SetValuePreservingOld(b); err != nil {
			return err
		}
		if err := e.SetValuePreservingOld(a); err != nil {
			return err
		}
	}
	return nil
}

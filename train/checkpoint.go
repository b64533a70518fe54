package train

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

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	gm "github.com/gomlx/gomlx/ml/model"
)

// State is the host-side training state saved next to the variables.
type State struct {
	Step     int          `json:"step"` // steps completed
	Streams  [3]StreamPos `json:"streams"`
	BestSRCC *float64     `json:"best_srcc,omitempty"`
	BestStep int          `json:"best_step,omitempty"`
	// Averaged: the trainable weights are the EMA (the best checkpoint of an
	// ema run; its /ema holds the raw weights). Step checkpoints hold the raw
	// weights, for resume.
	Averaged bool `json:"averaged,omitempty"`
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

const (
	varsFile  = "variables.gob"
	stateFile = "state.json"
	stepPref  = "step-"
	bestName  = "best"
)

// saveCheckpoint writes every store variable and st into dir/name
// atomically: a temp directory, fsynced, then renamed over the old one.
func saveCheckpoint(store *gm.Store, dir, name string, st State) error {
	tmp, err := os.MkdirTemp(dir, ".tmp-"+name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // gone after the rename
	if err := writeVars(store, filepath.Join(tmp, varsFile)); err != nil {
		return err
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, stateFile), js, 0o644); err != nil {
		return err
	}
	final := filepath.Join(dir, name)
	old := final + ".old"
	_ = os.RemoveAll(old)
	if _, err := os.Stat(final); err == nil {
		if err := os.Rename(final, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	_ = os.RemoveAll(old)
	return fsutil.SyncDir(dir)
}

func writeVars(store *gm.Store, path string) error {
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

// loadCheckpoint restores dir's variables into store (creating the ones the
// store lacks, e.g. optimizer moments, in their saved order) and its state.
func loadCheckpoint(store *gm.Store, dir string) (State, error) {
	var st State
	js, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(js, &st); err != nil {
		return st, fmt.Errorf("%s: %w", dir, err)
	}
	f, err := os.Open(filepath.Join(dir, varsFile))
	if err != nil {
		return st, err
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReader(f))
	for {
		var sv savedVar
		if err := dec.Decode(&sv); err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, fmt.Errorf("%s: %w", dir, err)
		}
		shape := shapes.Make(dtypes.DType(sv.DType), sv.Dims...)
		t := tensors.FromShape(shape)
		if err := t.MutableBytes(func(b []byte) { copy(b, sv.Data) }); err != nil {
			return st, err
		}
		if v := store.GetVariable(sv.Path); v != nil {
			if !v.Shape().Equal(shape) {
				return st, fmt.Errorf("%s: variable %s is %s in the checkpoint, %s in the model", dir, sv.Path, shape, v.Shape())
			}
			if err := v.SetValue(t); err != nil {
				return st, err
			}
			v.SetTrainable(sv.Trainable)
			continue
		}
		v, err := store.CreateVariable(sv.Path, t)
		if err != nil {
			return st, err
		}
		v.SetTrainable(sv.Trainable)
	}
}

// stepCheckpoints lists dir's step checkpoints, oldest first.
func stepCheckpoints(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var steps []int
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), stepPref); ok && e.IsDir() {
			if s, err := strconv.Atoi(n); err == nil {
				steps = append(steps, s)
			}
		}
	}
	slices.Sort(steps)
	return steps, nil
}

func stepName(step int) string { return fmt.Sprintf("%s%08d", stepPref, step) }

// prune keeps the newest keep step checkpoints.
func prune(dir string, keep int) error {
	steps, err := stepCheckpoints(dir)
	if err != nil {
		return err
	}
	for len(steps) > max(keep, 1) {
		if err := os.RemoveAll(filepath.Join(dir, stepName(steps[0]))); err != nil {
			return err
		}
		steps = steps[1:]
	}
	return nil
}

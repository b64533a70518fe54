package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/model"
	gm "github.com/gomlx/gomlx/ml/model"
)

// State is the host-side training state saved next to the variables.
type State struct {
	Step     int                 `json:"step"` // steps completed
	Streams  [numTasks]StreamPos `json:"streams"`
	BestSRCC *float64            `json:"best_srcc,omitempty"`
	BestStep int                 `json:"best_step,omitempty"`
	// Averaged: the trainable weights are the EMA (the best checkpoint of an
	// ema run; its /ema holds the raw weights). Step checkpoints hold the raw
	// weights, for resume. model.LoadCheckpoint reads this flag.
	Averaged bool `json:"averaged,omitempty"`
	// Backend is the concrete backend spec that trained up to Step (rounding
	// differs between backends; a run resumed on another one says so).
	Backend string `json:"backend,omitempty"`
}

// The checkpoint layout is model's (model.LoadCheckpoint reads it).
const (
	stateFile = model.StateFile
	bestName  = model.BestCheckpoint
)

func stepName(step int) string { return model.StepCheckpoint(step) }

// saveCheckpoint writes every store variable and st into dir/name
// atomically: a temp directory, fsynced, then renamed over the old one.
func saveCheckpoint(store *gm.Store, dir, name string, st State) error {
	tmp, err := os.MkdirTemp(dir, ".tmp-"+name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // gone after the rename
	if err := model.WriteVariables(store, filepath.Join(tmp, model.VarsFile)); err != nil {
		return err
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, stateFile), js, 0o644); err != nil {
		return err
	}
	return fsutil.ReplaceDir(tmp, filepath.Join(dir, name))
}

// loadCheckpoint restores dir's variables into store and returns its state.
func loadCheckpoint(store *gm.Store, dir string) (State, error) {
	var st State
	js, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(js, &st); err != nil {
		return st, fmt.Errorf("%s: %w", dir, err)
	}
	return st, model.ReadVariables(store, filepath.Join(dir, model.VarsFile))
}

// prune keeps the newest keep step checkpoints.
func prune(dir string, keep int) error {
	steps, err := model.StepCheckpoints(dir)
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

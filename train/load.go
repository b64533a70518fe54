package train

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"

	"github.com/cpllm/cpllm/model"
)

// LoadModel builds the model of mc on its backend and restores the variables
// of a checkpoint: a checkpoint directory, or a run directory (its best
// checkpoint, else its latest). Weights are the EMA where the run kept one.
func LoadModel(mc model.Config, ckpt string) (*model.Model, compute.Backend, error) {
	dir, err := resolveCheckpoint(ckpt)
	if err != nil {
		return nil, nil, err
	}
	m, err := model.Build(mc)
	if err != nil {
		return nil, nil, err
	}
	b, err := model.NewBackend(mc.Backend)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Init(b); err != nil {
		return nil, nil, err
	}
	st, err := loadCheckpoint(m.Store, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if !st.Averaged { // a step checkpoint: swap in its averages, if any
		if err := swapEMA(m.Store); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
	}
	return m, b, nil
}

func resolveCheckpoint(p string) (string, error) {
	if _, err := os.Stat(filepath.Join(p, stateFile)); err == nil {
		return p, nil
	}
	ck := filepath.Join(p, "checkpoints")
	if _, err := os.Stat(filepath.Join(ck, "best", stateFile)); err == nil {
		return filepath.Join(ck, "best"), nil
	}
	steps, err := stepCheckpoints(ck)
	if err != nil || len(steps) == 0 {
		return "", fmt.Errorf("%s: not a checkpoint or a run directory with checkpoints", p)
	}
	return filepath.Join(ck, stepName(steps[len(steps)-1])), nil
}

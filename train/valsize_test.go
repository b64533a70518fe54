package train

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
)

// Issue: a validation set too small for SRCC failed only at the first
// evaluation, after training up to it. It fails before the first step,
// naming the val shard dir and the count.
func TestValidationTooSmallFailsBeforeTraining(t *testing.T) {
	root := t.TempDir()
	trainDir, valDir := filepath.Join(root, "train"), filepath.Join(root, "val")
	writeShards(t, trainDir, 16, 1, -1)
	writeShards(t, valDir, 3, 2, 1) // 3 rows, one without a MOS: 2 scored
	cfg := testConfig(4)
	cfg.EvalEvery = 2
	steps := 0
	_, err := Run(context.Background(), Options{ModelConfig: tinyModel(t), Train: cfg, TrainDir: trainDir, ValDir: valDir,
		OutDir: t.TempDir(), Hooks: Hooks{BeforeStep: func(int, model.Task) { steps++ }}})
	if err == nil {
		t.Fatal("a validation set of 2 scored records: no error")
	}
	if !strings.Contains(err.Error(), valDir) || !strings.Contains(err.Error(), "hold 2 scored records") {
		t.Errorf("error %q must name %s and the count 2", err, valDir)
	}
	if steps != 0 {
		t.Errorf("%d training steps ran before the error", steps)
	}
}

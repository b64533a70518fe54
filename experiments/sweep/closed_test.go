package sweep

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// closedStages are the model configs of experiments/real-closed.yaml's two
// stages: real-still's (the statistics token of whole frames, the linear
// path with its domains' weights) plus the level gate and the kernel
// reading, the heads frozen in both.
func closedStages(t *testing.T) (stage1, stage2 model.Config) {
	stage1, stage2 = realStages(t)
	for _, c := range []*model.Config{&stage1, &stage2} {
		c.Stats, c.Heads.StatsLinear, c.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid+still", true, true
		c.Heads.LevelGate, c.Heads.StatsKernel = true, 640
		c.Trainable.Heads = model.TrainFrozen
	}
	return stage1, stage2
}

// configs/train/real-closed.yaml is real-deep.yaml (real-still's first
// stage) with only what its header names changed: the ladder ranking term
// in the start, no score task or ranking term (the score path is frozen)
// and one validation at the end. Every fold of experiments/real-closed.yaml
// is that recipe and real-deep-describe.yaml (real-still's second stage)
// but for holdout.fold, on the closed-form model configs.
func TestClosedRecipeIsTheDeepRecipeFrozen(t *testing.T) {
	closed, deep := loadRecipe(t, "real-closed.yaml"), loadRecipe(t, "real-deep.yaml")
	if closed.StatsLinearLadder != 0.3 {
		t.Fatalf("real-closed.yaml: stats_linear_ladder %g, want 0.3 (select.md)", closed.StatsLinearLadder)
	}
	deep.StatsLinearLadder = 0.3
	deep.Mix = train.TaskMix{Describe: 0.2, Pair: 0.8}
	deep.PairRank, deep.EvalEvery = 0, 0
	if !reflect.DeepEqual(closed, deep) {
		t.Fatalf("configs/train/real-closed.yaml is not real-deep.yaml with the documented changes:\n%+v\n%+v", closed, deep)
	}
	stage1, stage2 := closedStages(t)
	checkFolds(t, "real-closed.yaml", stage1, stage2, closed)
}

// checkFolds checks that every fold of experiments/NAME is the first-stage
// recipe first on model config stage1 and real-deep-describe.yaml on
// stage2, but for holdout.fold.
func checkFolds(t *testing.T, name string, stage1, stage2 model.Config, first train.Config) {
	t.Helper()
	e, err := Load(filepath.Join(repo(), "experiments", name), 0)
	if err != nil {
		t.Fatal(err)
	}
	describe := loadRecipe(t, "real-deep-describe.yaml")
	for k := range 5 {
		r1, r2 := first, describe
		r1.Holdout.Fold, r2.Holdout.Fold = k, k
		checkCell(t, e, fmt.Sprintf("fold%d", k), "", stage1, r1)
		checkCell(t, e, fmt.Sprintf("fold%d-describe", k), fmt.Sprintf("fold%d", k), stage2, r2)
	}
}

// configs/train/real-kernelrank.yaml is real-closed.yaml with the kernel's
// ladder term added, and every fold of experiments/real-kernelrank.yaml is
// that recipe and real-deep-describe.yaml on the closed-form model configs
// with room for the rungs among the kernel's supports.
func TestKernelRankRecipeIsTheClosedRecipe(t *testing.T) {
	ranked, closed := loadRecipe(t, "real-kernelrank.yaml"), loadRecipe(t, "real-closed.yaml")
	if ranked.StatsKernelLadder != 10 {
		t.Fatalf("real-kernelrank.yaml: stats_kernel_ladder %g, want 10 (select.md)", ranked.StatsKernelLadder)
	}
	closed.StatsKernelLadder = 10
	if !reflect.DeepEqual(ranked, closed) {
		t.Fatalf("configs/train/real-kernelrank.yaml is not real-closed.yaml with stats_kernel_ladder:\n%+v\n%+v", ranked, closed)
	}
	stage1, stage2 := closedStages(t)
	stage1.Heads.StatsKernel, stage2.Heads.StatsKernel = 1024, 1024
	checkFolds(t, "real-kernelrank.yaml", stage1, stage2, ranked)
}

package sweep

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// experiments/real-last.yaml is real-cv-deep.yaml (the shipped recipe's two
// stages once per holdout fold) with stage 1 handing on its final step
// (select: last) and nothing else changed; real-still.yaml is real-last
// with the still-image indicator, per-domain linear weights and their
// ridge start, and nothing else changed; its -heads variants are its
// second stage with the heads frozen, and nothing else changed;
// real-still-w3.yaml is real-still's first stage with CLIVE at weight 3 and
// the ladder pairs at 4, and its frozen-heads second stage; real-gate.yaml
// is real-still's first stage and frozen-heads second stage with
// heads.level_gate, real-kernel.yaml real-gate's with heads.stats_kernel,
// and real-kernel-slow.yaml real-kernel's with heads.stats_linear_gain 0.01.
func TestLastAndStillAreTheDeepRecipe(t *testing.T) {
	load := func(name string, stages int) *Experiment {
		e, err := Load(filepath.Join(repo(), "experiments", name), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Variants) != 5*stages {
			t.Fatalf("%s: %d variants, want 5 folds x %d stages", name, len(e.Variants), stages)
		}
		return e
	}
	last, still, w3 := load("real-last.yaml", 2), load("real-still.yaml", 3), load("real-still-w3.yaml", 2)
	gate, kernel, slow := load("real-gate.yaml", 2), load("real-kernel.yaml", 2), load("real-kernel-slow.yaml", 2)
	base, stage2 := realStages(t)
	base.Heads.StatsLinear, base.Stats = true, "frame-nss-logsignals+mnv2mid"
	stage2.Heads.StatsLinear, stage2.Stats = true, "frame-nss-logsignals+mnv2mid"
	stillBase, stillStage2 := base, stage2
	stillBase.Stats, stillBase.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid+still", true
	stillStage2.Stats, stillStage2.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid+still", true
	stillHeads := stillStage2
	stillHeads.Trainable.Heads = "frozen"
	gateBase, gateHeads := stillBase, stillHeads
	gateBase.Heads.LevelGate, gateHeads.Heads.LevelGate = true, true
	kernelBase, kernelHeads := gateBase, gateHeads
	kernelBase.Heads.StatsKernel, kernelHeads.Heads.StatsKernel = 640, 640
	slowBase, slowHeads := kernelBase, kernelHeads
	slowBase.Heads.StatsLinearGain, slowHeads.Heads.StatsLinearGain = 0.01, 0.01
	ladder, _, describeLadder := ladderRecipes(t)
	onDeepShards(&ladder, &describeLadder)
	for k := range 5 {
		l, d := ladder, describeLadder
		l.Holdout.Fold, d.Holdout.Fold = k, k
		l.Select = "last"
		checkCell(t, last, fmt.Sprintf("fold%d", k), "", base, l)
		checkCell(t, last, fmt.Sprintf("fold%d-describe-ladder", k), fmt.Sprintf("fold%d", k), stage2, d)
		l.StatsLinearInit = "ridge"
		checkCell(t, still, fmt.Sprintf("fold%d", k), "", stillBase, l)
		checkCell(t, still, fmt.Sprintf("fold%d-describe-ladder", k), fmt.Sprintf("fold%d", k), stillStage2, d)
		checkCell(t, still, fmt.Sprintf("fold%d-describe-ladder-heads", k), fmt.Sprintf("fold%d", k), stillHeads, d)
		checkCell(t, gate, fmt.Sprintf("fold%d", k), "", gateBase, l)
		checkCell(t, gate, fmt.Sprintf("fold%d-describe-ladder-heads", k), fmt.Sprintf("fold%d", k), gateHeads, d)
		checkCell(t, kernel, fmt.Sprintf("fold%d", k), "", kernelBase, l)
		checkCell(t, kernel, fmt.Sprintf("fold%d-describe-ladder-heads", k), fmt.Sprintf("fold%d", k), kernelHeads, d)
		checkCell(t, slow, fmt.Sprintf("fold%d", k), "", slowBase, l)
		checkCell(t, slow, fmt.Sprintf("fold%d-describe-ladder-heads", k), fmt.Sprintf("fold%d", k), slowHeads, d)
		l.Data = slices.Clone(l.Data)
		if l.Data[1].Name != "clive" || l.Data[2].Name != "konvid1k-ladder" {
			t.Fatalf("the ladder recipe's sources are %+v, want konvid1k, clive, konvid1k-ladder", l.Data)
		}
		l.Data[1].Weight, l.Data[2].Weight = 3, 4
		checkCell(t, w3, fmt.Sprintf("fold%d", k), "", stillBase, l)
		checkCell(t, w3, fmt.Sprintf("fold%d-describe-ladder-heads", k), fmt.Sprintf("fold%d", k), stillHeads, d)
	}
}

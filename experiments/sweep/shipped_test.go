package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// The two stages make model trains (Makefile) are the sweep cells whose
// figures the model card reports: stage 1 is the fold0 variant of
// experiments/real-kernelrank.yaml, stage 2 its fold0-describe variant,
// configs and init alike (TestKernelRankRecipeIsTheClosedRecipe: its other
// folds are those cells but for holdout.fold). The recipes shipped before,
// real-closed's (TestClosedRecipeIsTheDeepRecipeFrozen) and real-still's
// fold0 and fold0-describe-ladder-heads, stay configs/train/real-closed.yaml,
// real-deep.yaml and real-deep-describe.yaml.
func TestShippedModelIsSweepCells(t *testing.T) {
	ranked, err := Load(filepath.Join(repo(), "experiments", "real-kernelrank.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Load(filepath.Join(repo(), "experiments", "real-still.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join(repo(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"model: model-data-deep", "train_config=configs/train/real-kernelrank.yaml", "train_config=configs/train/real-deep-describe.yaml",
		"MODEL_STAGE1 := --set model.stats=frame-nss-logsignals+mnv2mid+still --set model.heads.stats_linear=true --set model.heads.stats_linear_domains=true --set model.heads.level_gate=true --set model.heads.stats_kernel=1024 --set model.trainable.heads=frozen",
		"MODEL_STAGE2 := --set model.trainable.pixel_encoder=frozen --set model.trainable.projectors=frozen --set model.trainable.heads=frozen --set model.input.max_text_len=96",
		"$(MODEL_STAGE1) train --out $(MODEL_RUN)",
		"$(MODEL_STAGE1) $(MODEL_STAGE2) train --init $(MODEL_RUN) --out $(MODEL_RUN)-describe", "model ship --run $(MODEL_RUN)-describe --out models/real"} {
		if !strings.Contains(string(mk), want) {
			t.Fatalf("Makefile's model target lacks %q", want)
		}
	}
	c1, c2 := closedStages(t)
	c1.Heads.StatsKernel, c2.Heads.StatsKernel = 1024, 1024
	checkCell(t, ranked, "fold0", "", c1, loadRecipe(t, "real-kernelrank.yaml"))
	checkCell(t, ranked, "fold0-describe", "fold0", c2, loadRecipe(t, "real-deep-describe.yaml"))

	stage1, stage2 := realStages(t)
	for _, c := range []*model.Config{&stage1, &stage2} {
		c.Stats, c.Heads.StatsLinear, c.Heads.StatsLinearDomains = "frame-nss-logsignals+mnv2mid+still", true, true
	}
	stage2.Trainable.Heads = model.TrainFrozen
	// the recipes are real-ladder.yaml's stage 1 and ladder-describe-ladder
	// stage 2 on the shards with whole-frame statistics and pretrained features
	ladder, _, describe := ladderRecipes(t)
	onDeepShards(&ladder, &describe)
	recipe1, recipe2 := loadRecipe(t, "real-deep.yaml"), loadRecipe(t, "real-deep-describe.yaml")
	last := ladder
	last.Select, last.StatsLinearInit = "last", "ridge"
	if !reflect.DeepEqual(recipe1, last) {
		t.Fatalf("configs/train/real-deep.yaml is not real-ladder.yaml on runs/real/shards-fd with select: last and stats_linear_init: ridge:\n%+v\n%+v", recipe1, last)
	}
	if !reflect.DeepEqual(recipe2, describe) {
		t.Fatalf("configs/train/real-deep-describe.yaml is not the ladder-keeping describe stage on runs/real/shards-fd:\n%+v\n%+v", recipe2, describe)
	}
	checkCell(t, fs, "fold0", "", stage1, recipe1)
	checkCell(t, fs, "fold0-describe-ladder-heads", "fold0", stage2, recipe2)
	// the previous shipped recipe's configs stay real-framestats' cells
	fr1, fr2 := loadRecipe(t, "real-frames.yaml"), loadRecipe(t, "real-frames-describe.yaml")
	frameLadder, _, frameDescribe := ladderRecipes(t)
	onFrameShards(&frameLadder, &frameDescribe)
	if !reflect.DeepEqual(fr1, frameLadder) || !reflect.DeepEqual(fr2, frameDescribe) {
		t.Fatal("configs/train/real-frames{,-describe}.yaml are no longer real-framestats' frame / frame-describe-ladder recipes")
	}
}

// experiments/real-rank.yaml's logsignals-pixel-only cells and their
// -describe-long second stage are configs/model/real.yaml on
// configs/train/real.yaml and real-describe.yaml (the patch-token recipe the
// later experiments change one thing of), and fold 0 of
// experiments/real-cv.yaml (fold0, fold0-describe) is the same two stages,
// its other folds the same but for holdout.fold.
func TestPatchTokenRecipeIsSweepCells(t *testing.T) {
	rank, err := Load(filepath.Join(repo(), "experiments", "real-rank.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := Load(filepath.Join(repo(), "experiments", "real-cv.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, stage2 := realStages(t)
	for _, s := range []struct {
		e                     *Experiment
		variant, init, recipe string
		model                 model.Config
		fold                  int // the cell validates on this fold of the recipe's holdout
	}{
		{rank, "logsignals-pixel-only", "", "real.yaml", base, 0},
		{rank, "logsignals-pixel-only-describe-long", "logsignals-pixel-only", "real-describe.yaml", stage2, 0},
		{cv, "fold0", "", "real.yaml", base, 0},
		{cv, "fold0-describe", "fold0", "real-describe.yaml", stage2, 0},
		{cv, "fold3", "", "real.yaml", base, 3},
		{cv, "fold4-describe", "fold4", "real-describe.yaml", stage2, 4},
	} {
		rc := loadRecipe(t, s.recipe)
		rc.Holdout.Fold = s.fold
		checkCell(t, s.e, s.variant, s.init, s.model, rc)
	}
}

// experiments/real-ladder.yaml changes only which pairs train: its stage 1
// is the patch-token model on configs/train/real-ladder.yaml, which is
// configs/train/real.yaml plus one pair-only source of ladder pairs over the
// KoNViD shards (ladder6: the same at weight 6); its stage 2 is the patch-token second stage with a pair share
// fed by that source alone. So its per-seed figures pair with
// experiments/real-rank.yaml's patch-token cells.
func TestLadderExperimentIsPatchTokenPlusLadderPairs(t *testing.T) {
	e, err := Load(filepath.Join(repo(), "experiments", "real-ladder.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, stage2 := realStages(t)
	stage1, heavy, describe := ladderRecipes(t)
	if got := loadRecipe(t, "real-ladder.yaml"); !reflect.DeepEqual(got, stage1) {
		t.Fatalf("configs/train/real-ladder.yaml is not real.yaml plus the ladder source:\n%+v\n%+v", got, stage1)
	}
	for _, s := range []struct {
		variant, init string
		model         model.Config
		recipe        train.Config
	}{
		{"ladder", "", base, stage1},
		{"ladder6", "", base, heavy},
		{"ladder-describe-ladder", "ladder", stage2, describe},
	} {
		checkCell(t, e, s.variant, s.init, s.model, s.recipe)
	}
}

// experiments/real-statslinear.yaml adds heads.stats_linear and nothing
// else: to the patch-token stage 1, and to real-ladder.yaml's ladder and
// ladder-describe-ladder cells; experiments/real-statshead.yaml is its
// statslinear-ladder with the ladder source cut to neighbouring rungs, and
// with the head's gain at 10.
func TestStatsLinearExperimentIsHeadOnly(t *testing.T) {
	e, err := Load(filepath.Join(repo(), "experiments", "real-statslinear.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, stage2 := realStages(t)
	base.Heads.StatsLinear, stage2.Heads.StatsLinear = true, true
	ladder, _, describe := ladderRecipes(t)
	adjacent, _, _ := ladderRecipes(t)
	adjacent.Data[len(adjacent.Data)-1].PairKinds = []string{train.PairLadderAdjacent}
	for _, s := range []struct {
		variant, init string
		model         model.Config
		recipe        train.Config
	}{
		{"statslinear", "", base, loadRecipe(t, "real.yaml")},
		{"statslinear-ladder", "", base, ladder},
		{"statslinear-ladder-describe-ladder", "statslinear-ladder", stage2, describe},
	} {
		checkCell(t, e, s.variant, s.init, s.model, s.recipe)
	}
	if e, err = Load(filepath.Join(repo(), "experiments", "real-statshead.yaml"), 0); err != nil {
		t.Fatal(err)
	}
	checkCell(t, e, "statslinear-adjacent", "", base, adjacent)
	base.Heads.StatsLinearGain = 10
	checkCell(t, e, "statsgain10-ladder", "", base, ladder)

}

// experiments/real-framestats.yaml is real-statslinear.yaml's
// statslinear-ladder on shards that also carry whole-frame statistics
// (runs/real/shards-fs, the same records otherwise), with the statistics
// token on the patches (patch), the whole frames (frame) or both; and make
// model's second stage from frame (frame-describe).
func TestFrameStatsExperimentIsStatsOnly(t *testing.T) {
	e, err := Load(filepath.Join(repo(), "experiments", "real-framestats.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, stage2 := realStages(t)
	base.Heads.StatsLinear = true
	if base.Stats != "nss-logsignals" {
		t.Fatalf("configs/model/real.yaml's statistics are %q", base.Stats)
	}
	ladder, _, _ := ladderRecipes(t)
	onFrameShards(&ladder)
	for _, s := range []struct{ variant, stats string }{
		{"patch", "nss-logsignals"}, {"frame", "frame-nss-logsignals"}, {"patch-frame", "nss-logsignals+frame"},
	} {
		m := base
		m.Stats = s.stats
		checkCell(t, e, s.variant, "", m, ladder)
	}
	// frame-describe: real-describe.yaml's second stage (no pairs) from frame
	stage2.Heads.StatsLinear, stage2.Stats = true, "frame-nss-logsignals"
	describe := loadRecipe(t, "real-describe.yaml")
	onFrameShards(&describe)
	checkCell(t, e, "frame-describe", "frame", stage2, describe)

	// frame-ladder6 and frame-describe-ladder: real-ladder's ladder6 and
	// ladder-describe-ladder on the frame token
	_, heavy, describeLadder := ladderRecipes(t)
	onFrameShards(&heavy, &describeLadder)
	m := base
	m.Stats = "frame-nss-logsignals"
	checkCell(t, e, "frame-ladder6", "", m, heavy)
	checkCell(t, e, "frame-describe-ladder", "frame", stage2, describeLadder)
}

// experiments/real-cv-frames.yaml is real-framestats' frame, frame-describe
// and frame-describe-ladder recipes once per holdout fold; fold 0 is exactly those
// cells, which its README reuses instead of training them twice.
func TestFrameCVIsFrameStatsFolds(t *testing.T) {
	fs, err := Load(filepath.Join(repo(), "experiments", "real-framestats.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := Load(filepath.Join(repo(), "experiments", "real-cv-frames.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Variants) != 15 {
		t.Fatalf("%d variants, want 5 folds x 3 stages", len(cv.Variants))
	}
	for _, stage := range []struct{ ref, suffix string }{{"frame", ""}, {"frame-describe", "-describe"}, {"frame-describe-ladder", "-describe-ladder"}} {
		refM, refR, _, _, err := fs.Variant(stage.ref).cellConfigs(1)
		if err != nil {
			t.Fatal(err)
		}
		for k := range 5 {
			name := fmt.Sprintf("fold%d%s", k, stage.suffix)
			init := ""
			if stage.suffix != "" {
				init = fmt.Sprintf("fold%d", k)
			}
			rc := refR
			rc.Holdout.Fold = k
			checkCell(t, cv, name, init, refM, rc)
		}
	}
}

// ladderRecipes are real.yaml plus the ladder source at weight 2 (stage1)
// and 6 (heavy), and real-describe.yaml with the pair task fed by the
// ladder source at weight 1 and the other sources on score and describe.
func ladderRecipes(t *testing.T) (stage1, heavy, describe train.Config) {
	t.Helper()
	ladder := train.Source{Name: "konvid1k-ladder", Shards: "runs/real/shards/konvid-train-views", Weight: 2,
		Tasks: []string{"pair"}, PairKinds: []string{"ladder"}}
	stage1 = loadRecipe(t, "real.yaml")
	stage1.Data = append(stage1.Data, ladder)
	heavy = loadRecipe(t, "real.yaml")
	heavy.Data = append(heavy.Data, ladder)
	heavy.Data[len(heavy.Data)-1].Weight = 6
	describe = loadRecipe(t, "real-describe.yaml")
	describe.Mix = train.TaskMix{Score: 0.3, Describe: 0.5, Pair: 0.2}
	for i := range describe.Data {
		describe.Data[i].Tasks = []string{"score", "describe"}
	}
	ladder.Weight = 1
	describe.Data = append(describe.Data, ladder)
	return stage1, heavy, describe
}

// onFrameShards points recipes at make model-data-frames' shards (the same
// records with whole-frame statistics) instead of make model-data's.
func onFrameShards(recipes ...*train.Config) {
	for _, r := range recipes {
		for i := range r.Data {
			r.Data[i].Shards = strings.Replace(r.Data[i].Shards, "runs/real/shards/", "runs/real/shards-fs/", 1)
		}
	}
}

// realStages is configs/model/real.yaml (stage 1) and the same with the
// second stage's frozen parts and longer text (Makefile's MODEL_STAGE2).
func realStages(t *testing.T) (stage1, stage2 model.Config) {
	t.Helper()
	stage1, err := model.LoadConfig(filepath.Join(repo(), "configs", "model", "real.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stage2 = stage1
	stage2.Trainable.PixelEncoder, stage2.Trainable.Projectors = "frozen", "frozen"
	stage2.Input.MaxTextLen = 96
	return stage1, stage2
}

func loadRecipe(t *testing.T, name string) train.Config {
	t.Helper()
	c, err := train.LoadConfig(filepath.Join(repo(), "configs", "train", name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCell fails unless variant's seed-1 cell starts from init and trains
// the model config mc and the recipe rc (names and tokenizer paths aside).
func checkCell(t *testing.T, e *Experiment, variant, init string, mc model.Config, rc train.Config) {
	t.Helper()
	v := e.Variant(variant)
	if v == nil || v.Init != init {
		t.Fatalf("variant %s missing or its init is not %q", variant, init)
	}
	gotM, gotR, _, _, err := v.cellConfigs(1)
	if err != nil {
		t.Fatal(err)
	}
	gotM.Name, gotM.Tokenizer, mc.Tokenizer = mc.Name, "", "" // names and paths differ, the architecture may not
	if !reflect.DeepEqual(gotM, mc) {
		t.Errorf("%s: model config differs from the expected stage:\n%+v\n%+v", variant, gotM, mc)
	}
	if !reflect.DeepEqual(gotR, rc) {
		t.Errorf("%s: recipe differs:\n%+v\n%+v", variant, gotR, rc)
	}
}

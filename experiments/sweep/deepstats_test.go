package sweep

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/train"
)

// onDeepShards points recipes at make model-data-deep's shards.
func onDeepShards(recipes ...*train.Config) {
	for _, r := range recipes {
		for i := range r.Data {
			r.Data[i].Shards = strings.Replace(r.Data[i].Shards, "runs/real/shards/", "runs/real/shards-fd/", 1)
		}
	}
}

// experiments/real-deepstats.yaml is real-framestats' frame and
// frame-describe-ladder (the shipped model's stages) with the statistics
// kind frame-nss-logsignals+mnv2mid on shards that carry the pretrained
// features, and nothing else changed; real-cv-deep.yaml is the same once per
// holdout fold, fold 0 being real-deepstats' cells.
func TestDeepStatsIsShippedRecipePlusFeatures(t *testing.T) {
	e, err := Load(filepath.Join(repo(), "experiments", "real-deepstats.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := Load(filepath.Join(repo(), "experiments", "real-cv-deep.yaml"), 0)
	if err != nil {
		t.Fatal(err)
	}
	base, stage2 := realStages(t)
	base.Heads.StatsLinear, base.Stats = true, "frame-nss-logsignals+mnv2mid"
	stage2.Heads.StatsLinear, stage2.Stats = true, "frame-nss-logsignals+mnv2mid"
	ladder, _, describeLadder := ladderRecipes(t)
	onDeepShards(&ladder, &describeLadder)
	checkCell(t, e, "mnv2", "", base, ladder)
	checkCell(t, e, "mnv2-describe-ladder", "mnv2", stage2, describeLadder)
	if len(cv.Variants) != 10 {
		t.Fatalf("real-cv-deep: %d variants, want 5 folds x 2 stages", len(cv.Variants))
	}
	for k := range 5 {
		l, d := ladder, describeLadder
		l.Holdout.Fold, d.Holdout.Fold = k, k
		checkCell(t, cv, fmt.Sprintf("fold%d", k), "", base, l)
		checkCell(t, cv, fmt.Sprintf("fold%d-describe-ladder", k), fmt.Sprintf("fold%d", k), stage2, d)
	}
}

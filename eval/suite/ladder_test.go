package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/augment"
	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/internal/testutil"
)

func ladderLevels(crfs []int, scores []float64) []LadderLevel {
	out := make([]LadderLevel, len(crfs))
	for i := range crfs {
		out[i] = LadderLevel{CRF: crfs[i], Score: scores[i]}
	}
	return out
}

// Hand-computed: scores (4, 3, 3.5) at CRF (20, 35, 50) rank (3, 1, 2)
// against -CRF ranks (3, 2, 1): r = 1/2; of the two adjacent pairs only
// 4 >= 3 is ordered.
func TestLadderStats(t *testing.T) {
	for _, c := range []struct {
		scores         []float64
		srcc           float64
		pairs, ordered int
	}{
		{[]float64{4, 3, 3.5}, 0.5, 2, 1},
		{[]float64{4, 3, 2}, 1, 2, 2},
		{[]float64{2, 3, 4}, -1, 2, 0},
		{[]float64{3, 3, 3}, math.NaN(), 2, 2}, // constant: SRCC undefined, ties count as ordered
	} {
		srcc, pairs, ordered := LadderStats(ladderLevels([]int{20, 35, 50}, c.scores))
		same := math.Abs(srcc-c.srcc) < 1e-12 || math.IsNaN(srcc) && math.IsNaN(c.srcc)
		if !same || pairs != c.pairs || ordered != c.ordered {
			t.Errorf("%v: srcc %v pairs %d ordered %d, want %v %d %d", c.scores, srcc, pairs, ordered, c.srcc, c.pairs, c.ordered)
		}
	}
	// Means over sources skip undefined SRCCs and count them.
	by := map[string][]LadderLevel{
		"a": ladderLevels([]int{35, 20, 50}, []float64{3, 4, 3.5}), // unsorted input
		"b": ladderLevels([]int{20, 35, 50}, []float64{4, 3, 2}),
		"c": ladderLevels([]int{20, 35, 50}, []float64{3, 3, 3}),
	}
	lc, err := summarizeLadder("m", []string{"a", "b", "c"}, by, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lc.SRCC.Value-0.75) > 1e-12 || lc.Undefined != 1 || math.Abs(lc.PairAccuracy.Value-(0.5+1+1)/3) > 1e-12 {
		t.Fatalf("summary %+v", lc)
	}
	if lc.SRCC.CILow > lc.SRCC.Value || lc.SRCC.CIHigh < lc.SRCC.Value || lc.SRCC.CILow < 0.5-1e-12 || lc.SRCC.CIHigh > 1+1e-12 {
		t.Fatalf("CI %+v outside the source values", lc.SRCC)
	}
	js, err := json.Marshal(lc.Sources[2])
	if err != nil || !strings.Contains(string(js), `"srcc":null`) {
		t.Fatalf("undefined SRCC as JSON: %s %v", js, err)
	}
}

// A tiny real ladder: 2 sources x 3 CRFs scored by the fixture model.
func TestEvalLadder(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	testutil.Clip(t, src, "a.mp4", "testsrc2=size=128x96:rate=10:duration=1")
	testutil.Clip(t, src, "b.mp4", "smptebars=size=128x96:rate=10:duration=1")
	srcs, err := augment.SourcesFromPath(src)
	if err != nil {
		t.Fatal(err)
	}
	lad := filepath.Join(dir, "ladder")
	if _, err := augment.Run(context.Background(), srcs, augment.Options{OutDir: lad, CRFs: []int{20, 35, 50}, Preset: "ultrafast"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lad, "a", augment.OutputName(35)), []byte("garbage"), 0o644) // one corrupt output
	sc := loadScorer(t, checkpoint(t))
	out := t.TempDir()
	rep, err := RunLadder(context.Background(), LadderOptions{Dir: lad, Scorers: []*Scorer{sc}, OutDir: out, Resamples: 100, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].ID != "a/crf35" || len(rep.Checkpoints) != 1 {
		t.Fatalf("failed %+v", rep.Failed)
	}
	c := rep.Checkpoints[0]
	if len(c.Sources) != 2 || len(c.Sources[0].Levels)+len(c.Sources[1].Levels) != 5 {
		t.Fatalf("sources %+v", c.Sources)
	}
	var sum float64
	var n int
	for _, s := range c.Sources {
		for _, l := range s.Levels {
			res, err := sc.Score(l.Path, ScoreOptions{})
			if err != nil || res.Score != l.Score {
				t.Errorf("%s: rescored %v (%v), ladder %v", l.Path, res.Score, err, l.Score)
			}
		}
		srcc, pairs, ordered := LadderStats(s.Levels)
		if pairs != s.Pairs || ordered != s.Ordered || !(srcc == s.SRCC || math.IsNaN(srcc) && math.IsNaN(s.SRCC)) {
			t.Errorf("%s: stats %v %d %d vs %+v", s.SourceID, srcc, pairs, ordered, s)
		}
		if !math.IsNaN(s.SRCC) {
			sum += s.SRCC
			n++
		}
	}
	if n > 0 && math.Abs(c.SRCC.Value-sum/float64(n)) > 1e-12 {
		t.Errorf("mean SRCC %v, want %v", c.SRCC.Value, sum/float64(n))
	}
	md, _ := os.ReadFile(filepath.Join(out, "ladder.md"))
	if !strings.Contains(string(md), "`a/crf35`") || !strings.Contains(string(md), fmt.Sprintf("| b | 3 | %s |", f4(c.Sources[1].SRCC))) {
		t.Errorf("ladder.md:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(out, "ladder.json")); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(out, c.Plot))
}

// The rungs of one source are scored on the same eval views (keyed on the
// source, not the rung): two rungs holding the same bytes get the same
// score, so a ladder's score differences come from compression alone.
func TestLadderSharesViews(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	testutil.Clip(t, src, "a.mp4", "testsrc2=size=128x96:rate=10:duration=1")
	srcs, err := augment.SourcesFromPath(src)
	if err != nil {
		t.Fatal(err)
	}
	lad := filepath.Join(dir, "ladder")
	if _, err := augment.Run(context.Background(), srcs, augment.Options{OutDir: lad, CRFs: []int{20, 35}, Preset: "ultrafast"}); err != nil {
		t.Fatal(err)
	}
	same, err := os.ReadFile(filepath.Join(lad, "a", augment.OutputName(20)))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lad, "a", augment.OutputName(35)), same, 0o644)
	ckpt := checkpoint(t)
	mc, _, err := ModelConfigFor(ckpt, "")
	if err != nil {
		t.Fatal(err)
	}
	mc.Input.EvalViews = 4 // views 1-3 are seeded augmentations
	sc, err := Load(mc, ckpt, evaltest.Params())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunLadder(context.Background(), LadderOptions{Dir: lad, Scorers: []*Scorer{sc}, OutDir: t.TempDir(), Resamples: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	lv := rep.Checkpoints[0].Sources[0].Levels
	if len(lv) != 2 || lv[0].Score != lv[1].Score {
		t.Fatalf("identical rungs scored %+v", lv)
	}
	// The views do vary: scored on its own (views keyed on the file), the
	// same video gets another score.
	if res, err := sc.Score(lv[0].Path, ScoreOptions{}); err != nil || res.Score == lv[0].Score {
		t.Fatalf("rescored alone: %v (%v), in the ladder %v: the views did not vary", res.Score, err, lv[0].Score)
	}
}

package suite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/generate"
)

// Every readable file is described by the fixture model and graded against
// its own measurements (independently recomputed here); an unreadable one
// is listed; the summary adds up the per-file grades.
func TestEvalDescribe(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	a := testutil.Clip(t, dir, "a.mp4", "testsrc2=size=128x96:rate=10:duration=1")
	b := testutil.Clip(t, dir, "b.mp4", "smptebars=size=128x96:rate=10:duration=1")
	bad := filepath.Join(dir, "bad.mp4")
	os.WriteFile(bad, []byte("garbage"), 0o644)
	sc := loadScorer(t, checkpoint(t))
	out := t.TempDir()
	rep, err := RunDescribe(context.Background(), DescribeOptions{Paths: []string{a, bad, b}, Scorers: []*Scorer{sc}, OutDir: out, MaxTokens: 24})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Path != bad || len(rep.Files) != 2 || len(rep.Checkpoints) != 1 {
		t.Fatalf("failed %+v, files %d", rep.Failed, len(rep.Files))
	}
	var grades []describe.Grade
	for _, f := range rep.Files {
		sig, err := describe.MeasureVideo(f.Path, 3)
		if err != nil || sig != f.Signals {
			t.Fatalf("%s: signals %+v, measured again %+v (%v)", f.Path, f.Signals, sig, err)
		}
		res, err := sc.Score(f.Path, ScoreOptions{Describe: true, MaxTokens: 24})
		if err != nil || res.Description != f.Texts[0].Text || res.Level != f.Texts[0].Level {
			t.Fatalf("%s: rescored %q %s (%v), report %+v", f.Path, res.Description, res.Level, err, f.Texts[0])
		}
		g := describe.CheckText(res.Description, sig, res.Level)
		js1, _ := json.Marshal(g)
		js2, _ := json.Marshal(f.Texts[0].Grade)
		if string(js1) != string(js2) {
			t.Fatalf("%s: grade %s, report %s", f.Path, js1, js2)
		}
		grades = append(grades, g)
	}
	want := describe.Summarise(grades)
	got := rep.Checkpoints[0]
	if got.Summary.Texts != 2 || got.Summary.Claims != want.Claims || got.ClaimsRight.K != want.Right || got.ClaimsRight.N != want.Claims ||
		got.QualityAgrees.K != want.QualityAgrees || got.FileFacts.K != want.FileFacts || got.Repeating.K != want.Repeating {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
	md, _ := os.ReadFile(filepath.Join(out, "describe.md"))
	if !strings.Contains(string(md), "`"+bad+"`") || !strings.Contains(string(md), "| "+sc.Name+" | 2 |") {
		t.Errorf("describe.md:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(out, "describe.json")); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(out, rep.Plot))
}

// The majority reference: each kind's most frequent measured word (silent
// bands count as ""), and a claim is majority-right when its measured word
// is that word.
func TestDescribeMajority(t *testing.T) {
	sig := func(sharp, dark float64) describe.Signals {
		return describe.Signals{Sharpness: sharp, DarkFrac: dark, Noise: 1, Blockiness: 1, MeanLuma: 100, Contrast: 50, Colorfulness: 40}
	}
	files := []DescribedFile{{Signals: sig(300, 0)}, {Signals: sig(200, 0.5)}, {Signals: sig(10, 0)}}
	maj := majorityWords(files)
	if maj[describe.KindSharpness] != "sharp" || maj[describe.KindShadows] != "" || maj[describe.KindNoise] != "clean" {
		t.Fatalf("majority %v", maj)
	}
	gs := []describe.Grade{
		describe.CheckText("The picture is blurry.", files[0].Signals, ""),                                 // measured sharp: majority right, model wrong
		describe.CheckText("The picture is blurry. There are some crushed shadows.", files[2].Signals, ""), // blurry right; shadows wrong for both
	}
	c, err := summariseDescribe("m", gs, maj)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClaimsRight.K != 1 || c.ClaimsRight.N != 3 || c.MajorityRight.K != 2 || c.MajorityRight.N != 3 {
		t.Fatalf("right %+v, majority %+v", c.ClaimsRight, c.MajorityRight)
	}
}

// LevelLead: the description opens with the score's level in the canonical
// form, and the rest is the decoder's greedy continuation of the prompt
// with that sentence appended (generated again here from the same view),
// not a text generated without it; the quality word agrees by
// construction.
func TestLevelLead(t *testing.T) {
	testutil.RequireFFmpeg(t)
	a := testutil.Clip(t, t.TempDir(), "a.mp4", "testsrc2=size=128x96:rate=10:duration=1")
	sc := loadScorer(t, checkpoint(t))
	clip, err := sc.sampleVideo(a, a)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.ScoreClip(clip, ScoreOptions{Describe: true, MaxTokens: 12, LevelLead: true})
	if err != nil {
		t.Fatal(err)
	}
	lead := "The quality is " + res.Level + "."
	if !strings.HasPrefix(res.Description, lead+" ") {
		t.Fatalf("description %q does not open with %q", res.Description, lead)
	}
	pr, err := feed.Predict(sc.pred, sc.bridge, []feed.Clip{clip})
	if err != nil {
		t.Fatal(err)
	}
	prompt, _, err := sc.Model.Sequence(model.TaskDescribe, lead)
	if err != nil {
		t.Fatal(err)
	}
	g := generate.DefaultOptions(sc.Model)
	g.MaxNew = 12
	v := generate.Video{Frames: pr.Canonical.Frames, Patches: pr.Canonical.Patches, Stats: pr.Canonical.Stats}
	out, err := sc.gen.Generate([]generate.Video{v}, [][]int{prompt}, g)
	if err != nil {
		t.Fatal(err)
	}
	if want := lead + " " + strings.TrimSpace(sc.Model.Tok.Decode(out[0])); res.Description != want {
		t.Fatalf("description %q, want the continuation of the prompt and lead %q", res.Description, want)
	}
	free, err := sc.ScoreClip(clip, ScoreOptions{Describe: true, MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	if g := describe.CheckText(res.Description, describe.Signals{}, res.Level); !g.QualityAgrees {
		t.Fatalf("%q: the quality word does not agree with level %s", res.Description, res.Level)
	}
	t.Logf("with lead: %q; free: %q", res.Description, free.Description)
}

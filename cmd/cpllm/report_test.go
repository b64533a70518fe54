package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/eval/suite"
	"github.com/cpllm/cpllm/internal/testutil"
)

// cpllm report: test metrics under their dataset key with CIs equal to the
// eval report's, training facts from metrics.jsonl, described videos.
func TestReportCLI(t *testing.T) {
	dir := t.TempDir()
	runDir := evaltest.Train(t, filepath.Join(dir, "run"), evaltest.TrainOptions{Steps: 30})
	test := filepath.Join(dir, "test")
	evaltest.WriteShards(t, test, 12, 5, false)
	evalDir := filepath.Join(dir, "eval")
	if out, err := run(t, "eval", "--checkpoint", runDir, "--datasets", "shards:"+test, "--out", evalDir, "--resamples", "100"); err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	// two short clips in a manifest for the descriptions
	vids := filepath.Join(dir, "vids")
	os.MkdirAll(vids, 0o755)
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=1", "-pix_fmt", "yuv420p", filepath.Join(vids, "a.mp4"))
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "mandelbrot=size=96x64:rate=10", "-t", "1", "-pix_fmt", "yuv420p", filepath.Join(vids, "b.mp4"))
	man := filepath.Join(vids, "manifest.csv")
	os.WriteFile(man, []byte("id,path,mos,split\na,a.mp4,2.0,test\nb,b.mp4,4.5,test\nc,c.mp4,3.0,train\n"), 0o644)

	stdout, err := run(t, "--set", "shards.size=64", "report", "--run", runDir, "--eval", evalDir, "--manifest", man, "--describe", "3", "--out", dir)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	var got map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || json.Unmarshal(data, &got) != nil {
		t.Fatalf("report.json: %v\n%s", err, data)
	}
	ev, err := suite.ReadReport(filepath.Join(evalDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	tm := got["test"].(map[string]any)
	want := ev.Datasets["test"].Metrics
	if tm["srcc"].(float64) != want.SRCC.Value || tm["plcc"].(float64) != want.PLCC.Value ||
		tm["srcc_ci"].([]any)[0].(float64) != want.SRCC.CILow || tm["n"].(float64) != 12 {
		t.Fatalf("test entry %v, eval report SRCC %+v PLCC %+v", tm, want.SRCC, want.PLCC)
	}
	tr := got["train"].(map[string]any)
	if tr["steps"].(float64) != 30 || tr["step_seconds"].(float64) <= 0 {
		t.Fatalf("train summary %v", tr)
	}
	desc := got["descriptions"].([]any)
	if len(desc) != 2 || desc[0].(map[string]any)["id"] != "a" || desc[1].(map[string]any)["id"] != "b" {
		t.Fatalf("descriptions (test split, lowest MOS first): %v", desc)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "| test | 12 | 0 | 0 |") || !strings.Contains(stdout, "| test | 12") {
		t.Fatalf("report.md:\n%s", md)
	}
}

// cpllm score on every real clip of ../shared/realdata (including the
// 192x144 and the portrait ones) plus a corrupt file: one valid JSON object
// per video, an error entry for the corrupt one, a non-zero exit.
func TestScoreRealClips(t *testing.T) {
	root := testutil.RealData(t)
	var clips []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mp4") {
			clips = append(clips, p)
		}
		return nil
	})
	if len(clips) == 0 {
		t.Skip("no .mp4 clips under " + root)
	}
	dir := t.TempDir()
	runDir := evaltest.Train(t, filepath.Join(dir, "run"), evaltest.TrainOptions{Steps: 10})
	corrupt := filepath.Join(dir, "corrupt.mp4")
	os.WriteFile(corrupt, []byte("\x00\x00\x00\x18ftypmp42 truncated"), 0o644)
	args := append([]string{"--set", "shards.size=64", "score", "--checkpoint", runDir, "--max-tokens", "4"}, clips...)
	stdout, err := run(t, append(args, corrupt)...)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("1 of %d videos failed", len(clips)+1)) {
		t.Fatalf("score: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(clips)+1 {
		t.Fatalf("%d JSON lines for %d videos", len(lines), len(clips)+1)
	}
	for i, line := range lines {
		var r scoreResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, line)
		}
		if i < len(clips) {
			if r.Path != clips[i] || r.Error != "" || r.Score < 1 || r.Score > 5 || r.Level == "" {
				t.Errorf("%s: %+v", clips[i], r)
			}
		} else if r.Error == "" || !strings.Contains(r.Error, "corrupt.mp4") {
			t.Errorf("corrupt file: %+v", r)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/eval/evaltest"
	"github.com/cpllm/cpllm/eval/suite"
)

// eval (one and two checkpoints, suite file errors) and nightly through the CLI.
func TestEvalAndNightlyCLI(t *testing.T) {
	dir := t.TempDir()
	good := evaltest.Train(t, filepath.Join(dir, "good"), evaltest.TrainOptions{Steps: 40})
	bad := evaltest.Train(t, filepath.Join(dir, "bad"), evaltest.TrainOptions{Steps: 40, Invert: true})
	test := filepath.Join(dir, "test")
	evaltest.WriteShards(t, test, 16, 5, false)

	out := filepath.Join(dir, "eval1")
	stdout, err := run(t, "eval", "--checkpoint", good, "--datasets", "shards:"+test, "--out", out, "--resamples", "100")
	if err != nil || !strings.Contains(stdout, "test: 16 of 16 scored (0 missing, 0 failed, 0 unlabeled); SRCC ") {
		t.Fatalf("eval: %v\n%s", err, stdout)
	}
	rep, err := suite.ReadReport(filepath.Join(out, "report.json"))
	if err != nil || rep.Datasets["test"].Metrics.SRCC.Value < 0.9 || rep.Resamples != 100 {
		t.Fatalf("report: %v %+v", err, rep)
	}
	// the fixture's pairs.jsonl holds cross-video pairs only; a model that
	// ranks the test set orders them by score
	pr := rep.Datasets["test"].Pairs
	if pr == nil || pr.Ladder != 0 || pr.Cross == 0 || pr.Checkpoints[0].CrossScores.Value < 0.9 || pr.Checkpoints[0].LadderScores.N != 0 ||
		!strings.Contains(stdout, "test pairs, good: ladder (0): answer n/a (no pairs), scores n/a (no pairs); cross-video (") {
		t.Fatalf("pairs: %+v\n%s", pr, stdout)
	}
	out2 := filepath.Join(dir, "eval2")
	if stdout, err = run(t, "eval", "--checkpoint", good, "--checkpoint", bad, "--datasets", "shards:"+test, "--out", out2, "--resamples", "50"); err != nil {
		t.Fatalf("eval with two checkpoints: %v\n%s", err, stdout)
	}
	for _, f := range []string{"test.csv", "test.good.csv", "test.bad.csv"} {
		if _, err := os.Stat(filepath.Join(out2, "predictions", f)); err != nil {
			t.Errorf("missing predictions/%s", f)
		}
	}
	suiteFile := filepath.Join(dir, "suite.yaml")
	os.WriteFile(suiteFile, []byte("datasets:\n  - name: x\n    shards: "+test+"\n    lodaer: y\n"), 0o644)
	if _, err := run(t, "eval", "--checkpoint", good, "--eval-config", suiteFile); err == nil || !strings.Contains(err.Error(), "suite.yaml:4: unknown key \"datasets[0].lodaer\"") {
		t.Fatalf("suite typo: %v", err)
	}
	if _, err := run(t, "eval", "--checkpoint", good, "--datasets", "konvid1k"); err == nil || !strings.Contains(err.Error(), "--root-konvid1k") {
		t.Fatalf("preset without root: %v", err)
	}

	// nightly: --config is the nightly file.
	nc := filepath.Join(dir, "nightly.yaml")
	os.WriteFile(nc, []byte("checkpoint: "+good+"\nout: "+filepath.Join(dir, "nightly")+"\nresamples: 200\ndatasets:\n  - name: synth\n    shards: "+test+"\n"), 0o644)
	if stdout, err = run(t, "nightly", "--config", nc, "--date", "2026-02-01"); err != nil || !strings.Contains(stdout, "synth: SRCC") {
		t.Fatalf("nightly 1: %v\n%s", err, stdout)
	}
	_, err = run(t, "nightly", "--config", nc, "--date", "2026-02-02", "--checkpoint", bad)
	if err == nil || !strings.Contains(err.Error(), "1 regression(s): synth: SRCC") || !strings.Contains(err.Error(), "bootstrap p<0.005") {
		t.Fatalf("nightly 2 must fail naming the dataset and p: %v", err)
	}
	sum, _ := os.ReadFile(filepath.Join(dir, "nightly", "summary.md"))
	if !strings.Contains(string(sum), "**REGRESSION** synth: SRCC") {
		t.Fatalf("summary:\n%s", sum)
	}
	if _, err := run(t, "nightly", "--config", nc, "--date", "2026-2-3"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Fatalf("bad date: %v", err)
	}
}

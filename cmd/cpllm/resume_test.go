package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cpllm/cpllm/internal/testutil"
)

// TestMain lets a test run the CLI in a child process (to SIGKILL it).
func TestMain(m *testing.M) {
	if args := os.Getenv("CPLLM_CLI_CHILD"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			os.Exit(3)
		}
		cmd := newRootCmd()
		cmd.SetArgs(argv)
		if err := cmd.Execute(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Issue 7, acceptance 3: 2N steps straight vs N steps, kill -9, --resume to
// 2N: byte-equal final checkpoint tensors and identical losses.
func TestTrainKillResume(t *testing.T) {
	testutil.RequireFFmpeg(t)
	dir := t.TempDir()
	synth := filepath.Join(dir, "synth")
	if _, err := run(t, "data", "synth", "--out", synth, "--videos", "3", "--set", "synth.max_height=360", "--set", "synth.max_fps=25",
		"--set", "synth.min_seconds=0.5", "--set", "synth.max_seconds=0.5", "--set", "synth.variants=1",
		"--set", "synth.ladder_crf=30", "--set", "synth.preset=ultrafast"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "data", "shards", "--dataset", "manifest", "--root", synth, "--out", filepath.Join(dir, "sh"),
		"--set", "shards.size=32", "--set", "shards.min_side=32", "--set", "shards.m=4", "--set", "shards.k=2"); err != nil {
		t.Fatal(err)
	}
	recipe, _ := os.ReadFile("../../configs/train/tiny.yaml")
	rp := filepath.Join(dir, "recipe.yaml")
	os.WriteFile(rp, []byte(strings.NewReplacer("steps: 2000", "steps: 120", "eval_every: 200", "eval_every: 0",
		"checkpoint_every: 200", "checkpoint_every: 60", "batch_size: 8", "batch_size: 4").Replace(string(recipe))), 0o644)
	args := func(out string) []string {
		return []string{"train", "--train-shards", filepath.Join(dir, "sh"), "--val-shards", filepath.Join(dir, "sh"), "--out", out,
			"--set", "model_config=../../configs/model/tiny.yaml", "--set", "train_config=" + rp}
	}
	straight := filepath.Join(dir, "straight")
	if _, err := run(t, args(straight)...); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(dir, "killed")
	argv, _ := json.Marshal(args(killed))
	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), "CPLLM_CLI_CHILD="+string(argv))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	mid := filepath.Join(killed, "checkpoints", "step-00000060", "state.json")
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(mid); err == nil {
			break
		}
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if _, err := os.Stat(filepath.Join(killed, "checkpoints", "step-00000120")); err == nil {
		t.Skip("the child finished before the kill; nothing to resume (machine too fast for this test)")
	}
	if _, err := run(t, append(args(killed), "--resume")...); err != nil {
		t.Fatalf("resume: %v", err)
	}
	losses := func(run string) string {
		data, _ := os.ReadFile(filepath.Join(run, "metrics.jsonl"))
		var out []string
		for _, line := range strings.Split(string(data), "\n") {
			var m struct {
				Step int
				Loss *float64
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Loss != nil {
				out = append(out, strings.TrimSpace(line[:strings.Index(line, `"grad_norm"`)]))
			}
		}
		return strings.Join(out, "\n")
	}
	a, _ := os.ReadFile(filepath.Join(straight, "checkpoints", "step-00000120", "variables.gob"))
	b, _ := os.ReadFile(filepath.Join(killed, "checkpoints", "step-00000120", "variables.gob"))
	if la, lb := losses(straight), losses(killed); la != lb {
		al, bl := strings.Split(la, "\n"), strings.Split(lb, "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				t.Logf("first difference at line %d:\n%s\n%s", i, al[i], bl[i])
				break
			}
		}
	}
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("final variables differ after kill -9 and resume (%d vs %d bytes)", len(a), len(b))
	}
	if la, lb := losses(straight), losses(killed); la != lb || la == "" {
		t.Fatal("metrics.jsonl losses differ after kill -9 and resume")
	}
}

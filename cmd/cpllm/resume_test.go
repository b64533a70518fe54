package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/train"
)

// killAtCheckpoint runs the CLI with args in a child process, waits until the
// child has written step checkpoint step of the run whose checkpoint dir
// contains dirPart, and SIGKILLs it there.
func killAtCheckpoint(t *testing.T, args []string, dirPart string, step int) {
	t.Helper()
	argv, _ := json.Marshal(args)
	marker := filepath.Join(t.TempDir(), "hung")
	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), "CPLLM_CLI_CHILD="+string(argv),
		fmt.Sprintf("CPLLM_CLI_HANG=%s:%d:%s", dirPart, step, marker))
	var stderr bytes.Buffer
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the child exited before checkpoint %d of %s: %v\n%s", step, dirPart, err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("no checkpoint %d of %s within 5 minutes", step, dirPart)
		}
	}
	child.Process.Signal(syscall.SIGKILL)
	<-exited
}

// TestMain lets a test run the CLI in a child process (to SIGKILL it).
// With CPLLM_CLI_HANG="DIRPART:STEP:MARKER" the child stops for good once the
// step checkpoint STEP of a run whose checkpoint dir contains DIRPART is on
// disk, and creates MARKER: the kill then lands at an exact point.
func TestMain(m *testing.M) {
	// the CLI's own child processes (a sweep's cells) are this binary too
	selfCommand = func(args []string) (*exec.Cmd, error) {
		argv, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		c := exec.Command(os.Args[0], "-test.run", "^$")
		c.Env = append(os.Environ(), "CPLLM_CLI_CHILD="+string(argv))
		return c, nil
	}
	if args := os.Getenv("CPLLM_CLI_CHILD"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			os.Exit(3)
		}
		if hang := os.Getenv("CPLLM_CLI_HANG"); hang != "" {
			parts := strings.SplitN(hang, ":", 3)
			step, err := strconv.Atoi(parts[1])
			if len(parts) != 3 || err != nil {
				os.Exit(3)
			}
			train.AfterCheckpoint = func(dir string, s int) {
				if s == step && strings.Contains(dir, parts[0]) {
					os.WriteFile(parts[2], nil, 0o644)
					select {} // wait for the parent's SIGKILL
				}
			}
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
	killAtCheckpoint(t, args(killed), filepath.Join("killed", "checkpoints"), 60)
	if _, err := os.Stat(filepath.Join(killed, "checkpoints", "step-00000120")); err == nil {
		t.Fatal("the run got past the kill point")
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

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpllm/cpllm/internal/fsutil"
	"github.com/cpllm/cpllm/internal/testutil"
)

// In a child started by holdInChild (TestMain runs the CLI there from
// CPLLM_CLI_CHILD), CPLLM_LOCK_HOLD=MARKER makes the command stop once it
// holds its output lock: it creates MARKER and waits for its stdin to close,
// then finishes its work.
func init() {
	marker := os.Getenv("CPLLM_LOCK_HOLD")
	if marker == "" {
		return
	}
	afterLock = func(string) {
		os.WriteFile(marker, nil, 0o644)
		io.Copy(io.Discard, os.Stdin)
	}
}

// holdInChild runs the CLI with args in a child process and returns once the
// child holds its output lock; release lets it go on and returns its error.
func holdInChild(t *testing.T, args ...string) (pid int, release func() error) {
	t.Helper()
	argv, _ := json.Marshal(args)
	marker := filepath.Join(t.TempDir(), "locked")
	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), "CPLLM_CLI_CHILD="+string(argv), "CPLLM_LOCK_HOLD="+marker)
	var stderr bytes.Buffer
	child.Stderr = &stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	t.Cleanup(func() { child.Process.Kill() })
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the child exited before taking its lock: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the child took no lock within 2 minutes")
		}
	}
	return child.Process.Pid, func() error {
		stdin.Close()
		if err := <-exited; err != nil {
			return fmt.Errorf("%v\n%s", err, stderr.String())
		}
		return nil
	}
}

// wantLocked checks that a second run into dir failed at once, naming the
// directory and the holder's pid.
func wantLocked(t *testing.T, err error, took time.Duration, dir string, pid int) {
	t.Helper()
	if err == nil {
		t.Errorf("a second run into %s while pid %d holds it: no error", dir, pid)
		return
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", pid)) {
		t.Fatalf("error %q must name %s and pid %d", err, dir, pid)
	}
	if took > 5*time.Second {
		t.Fatalf("the second run took %s to fail; it must fail at once", took)
	}
}

// Issue: two `data ladder` runs into one directory interleaved, wrote false
// failures and duplicate journal lines. The second fails at once; the first
// completes a clean directory.
func TestLadderOutputLock(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	testutil.Clip(t, in, "a.mp4", "testsrc2=size=96x64:rate=10:duration=0.3")
	testutil.Clip(t, in, "b.mp4", "testsrc2=size=64x96:rate=10:duration=0.3")
	out := filepath.Join(dir, "out")
	args := []string{"data", "ladder", "--in", in, "--out", out, "--crf", "30,40", "--preset", "ultrafast"}
	pid, release := holdInChild(t, args...)
	start := time.Now()
	_, err := run(t, args...)
	wantLocked(t, err, time.Since(start), out, pid)
	if err := release(); err != nil {
		t.Fatalf("the first run: %v", err)
	}
	journal, err := os.ReadFile(filepath.Join(out, "ladder.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(journal)), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Errorf("duplicate journal line %s", l)
		}
		seen[l] = true
	}
	if len(lines) != 4 {
		t.Errorf("ladder.jsonl holds %d lines, want 4 (2 sources x 2 levels)", len(lines))
	}
	if _, err := os.Stat(filepath.Join(out, "failures.jsonl")); err == nil {
		t.Fatal("failures.jsonl written")
	}
	if _, err := os.Stat(filepath.Join(out, fsutil.LockName)); !os.IsNotExist(err) {
		t.Fatalf("lock file left after the run: %v", err)
	}
	// The lock went with the first run: the directory resumes.
	stdout, err := run(t, args...)
	if err != nil || !strings.Contains(stdout, "4 already complete") {
		t.Fatalf("rerun after the lock was released: %v\n%s", err, stdout)
	}
}

// The same for `data shards` (the partition outputs of --shard i/N are
// ordinary --out directories).
func TestShardsOutputLock(t *testing.T) {
	dir := t.TempDir()
	testutil.Clip(t, dir, "a.mp4", "testsrc2=size=96x64:rate=10:duration=0.5")
	os.WriteFile(filepath.Join(dir, "manifest.csv"), []byte("id,path,mos\na,a.mp4,3.5\nb,a.mp4,2\nc,a.mp4,4\n"), 0o644)
	out := filepath.Join(dir, "shards")
	args := []string{"data", "shards", "--dataset", "manifest", "--root", dir, "--out", out,
		"--set", "shards.size=32", "--set", "shards.min_side=32", "--set", "shards.m=2", "--set", "shards.k=2"}
	pid, release := holdInChild(t, args...)
	start := time.Now()
	_, err := run(t, args...)
	wantLocked(t, err, time.Since(start), out, pid)
	// A partition output is locked the same way.
	part := append(append([]string{}, args...), "--shard", "0/2")
	part[7] = filepath.Join(dir, "part0")
	ppid, prelease := holdInChild(t, part...)
	start = time.Now()
	_, err = run(t, part...)
	wantLocked(t, err, time.Since(start), part[7], ppid)
	if err := prelease(); err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Fatalf("the first run: %v", err)
	}
	if stdout, err := run(t, "data", "verify", "--shards", out); err != nil || !strings.Contains(stdout, "rows     3") {
		t.Fatalf("verify after the first run: %v\n%s", err, stdout)
	}
}

// merge, synth and train lock their output directory too.
func TestOtherOutputsLocked(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args func(out string) []string
	}{
		{"merge", func(out string) []string {
			return []string{"data", "merge", "--out", out, filepath.Join(dir, "nopart")}
		}},
		{"synth", func(out string) []string { return []string{"data", "synth", "--out", out, "--videos", "3"} }},
		{"train", func(out string) []string {
			return []string{"train", "--train-shards", filepath.Join(dir, "none"), "--val-shards", filepath.Join(dir, "none"), "--out", out,
				"--set", "model_config=../../configs/model/tiny.yaml", "--set", "train_config=../../configs/train/tiny.yaml"}
		}},
	} {
		out := filepath.Join(dir, c.name)
		l, err := fsutil.LockDir(out)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = run(t, c.args(out)...)
		wantLocked(t, err, time.Since(start), out, os.Getpid())
		l.Unlock()
	}
}

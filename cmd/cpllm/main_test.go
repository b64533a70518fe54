package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// run executes the CLI in-process and returns stdout and the error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// Acceptance 7: typo keys fail with the key; --set beats the file; env works.
func TestConfigCLI(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("seed: 2\nladder:\n  prest: fast\n"), 0o644)
	if _, err := run(t, "config", "show", "--config", bad); err == nil || !strings.Contains(err.Error(), "ladder.prest") || !strings.Contains(err.Error(), "bad.yaml:3") {
		t.Fatalf("typo: %v", err)
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("seed: 2\nladder:\n  preset: fast\n"), 0o644)
	out, err := run(t, "config", "show", "--config", good, "--set", "ladder.preset=slow")
	if err != nil || !strings.Contains(out, "preset: slow") || !strings.Contains(out, "seed: 2") {
		t.Fatalf("--set over file: %v\n%s", err, out)
	}
	t.Setenv("CPLLM_SEED", "7")
	out, err = run(t, "config", "show")
	if err != nil || !strings.Contains(out, "seed: 7") {
		t.Fatalf("CPLLM_SEED=7: %v\n%s", err, out)
	}
	out, err = run(t, "config", "show", "--seed", "11")
	if err != nil || !strings.Contains(out, "seed: 11") {
		t.Fatalf("--seed beats env: %v\n%s", err, out)
	}
	if _, err := run(t, "config", "show", "--set", "ladder.jobs=lots"); err == nil || !strings.Contains(err.Error(), "expected an integer") {
		t.Fatalf("type error: %v", err)
	}
}

func TestLadderCLIExitsNonZeroOnFailure(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	testutil.Clip(t, in, "ok.mp4", "testsrc2=size=96x64:rate=10:duration=0.3")
	os.WriteFile(filepath.Join(in, "zero.mp4"), nil, 0o644)
	out := filepath.Join(dir, "out")
	stdout, err := run(t, "data", "ladder", "--in", in, "--out", out, "--crf", "20,30", "--preset", "ultrafast")
	if err == nil || !strings.Contains(err.Error(), "1 of 2 sources failed") {
		t.Fatalf("want failure exit: %v\n%s", err, stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "ok", "crf30.mp4")); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "data", "ladder", "--in", in, "--out", out, "--preset", "medum"); err == nil || !strings.Contains(err.Error(), "ladder.preset") {
		t.Fatalf("bad preset: %v", err)
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
	"github.com/cpllm/cpllm/model/tokenizer"
)

// make tokenizer reproduces the committed configs/tokenizer/cpllm.{model,vocab}
// byte for byte, and the answer words and the description vocabulary are
// whole word-initial pieces in it (checked with spm_encode).
func TestBuiltinTokenizerIsReproducible(t *testing.T) {
	if _, err := exec.LookPath("spm_train"); err != nil {
		testutil.MissingOracle(t, "spm_train (Debian package sentencepiece)")
	}
	prefix := filepath.Join(t.TempDir(), "cpllm")
	if out, err := run(t, "tokenizer", "train", "--builtin", "--out", prefix, "--vocab", "512"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, ext := range []string{".model", ".vocab"} {
		got, err := os.ReadFile(prefix + ext)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "configs", "tokenizer", "cpllm"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("retrained cpllm%s differs from configs/tokenizer/cpllm%s (run make tokenizer and commit it)", ext, ext)
		}
	}
	if _, err := exec.LookPath("spm_encode"); err != nil {
		testutil.MissingOracle(t, "spm_encode (Debian package sentencepiece)")
	}
	cmd := exec.Command("spm_encode", "--model="+prefix+".model", "--output_format=piece")
	cmd.Stdin = strings.NewReader(" excellent good fair poor bad first second sharp noisy clean contrast colours quality video\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), "▁excellent ▁good ▁fair ▁poor ▁bad ▁first ▁second ▁sharp ▁noisy ▁clean ▁contrast ▁colours ▁quality ▁video"; got != want {
		t.Errorf("spm_encode pieces %q, want %q", got, want)
	}
	sp, err := tokenizer.Load(prefix + ".model")
	if err != nil {
		t.Fatal(err)
	}
	if sp.BOS() != 2 || sp.EOS() != 1 || sp.Pad() != 0 || sp.Unk() != 3 {
		t.Errorf("specials bos %d eos %d pad %d unk %d, want Gemma's 2 1 0 3", sp.BOS(), sp.EOS(), sp.Pad(), sp.Unk())
	}
}

// --set model.tokenizer=PATH is relative to the working directory (the
// file's own key to the file); a run directory carries a copy of the
// tokenizer as tokenizer.model, which its model.yaml names.
func TestTrainRecordsTokenizer(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	tok := filepath.Join("..", "..", "configs", "tokenizer", "cpllm.model")
	_, err := run(t, append([]string{"train", "--train-shards", filepath.Join(dir, "none"), "--val-shards", filepath.Join(dir, "none"),
		"--out", out, "--set", "model.tokenizer=" + tok}, repoConfigs...)...)
	if err == nil || strings.Contains(err.Error(), "config") || strings.Contains(err.Error(), "tokenizer") {
		t.Fatalf("want the missing shards to stop the run, got %v", err)
	}
	want, _ := os.ReadFile(tok)
	got, err := os.ReadFile(filepath.Join(out, "tokenizer.model"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("run tokenizer.model: %v (equal %v)", err, bytes.Equal(got, want))
	}
	y, _ := os.ReadFile(filepath.Join(out, "model.yaml"))
	if !strings.Contains(string(y), "tokenizer: tokenizer.model") {
		t.Fatalf("run model.yaml does not name tokenizer.model:\n%s", y)
	}
	// A relative --set path that is not under the working directory fails naming it.
	_, err = run(t, append([]string{"model", "list", "--set", "model.tokenizer=tokenizer/cpllm.model"}, repoConfigs...)...)
	if err == nil || !strings.Contains(err.Error(), filepath.Join("cmd", "cpllm", "tokenizer", "cpllm.model")) {
		t.Fatalf("--set tokenizer relative to the working directory: %v", err)
	}
}

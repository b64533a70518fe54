package model

import (
	"strings"
	"testing"
)

func TestSequenceLayout(t *testing.T) {
	cfg, err := LoadConfig("../configs/model/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prompts.Score = "how good is it"
	m, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	toks, pos, err := m.Sequence(TaskScore, "good")
	if err != nil {
		t.Fatal(err)
	}
	p := m.Tok.Encode("how good is it")
	good, _ := m.Tok.ID(" good") // the answer follows the prompt after a space
	if pos != len(p)-1 || toks[pos+1] != good || toks[len(toks)-1] != m.EOS {
		t.Fatalf("tokens %v, answer position %d (prompt %d tokens), good=%d", toks, pos, len(p), good)
	}
	if got := m.Tok.Decode(toks[:pos+1]); got != "how good is it" {
		t.Fatalf("prompt decodes to %q", got)
	}
	long := strings.Repeat("very ", 200)
	toks, _, err = m.Sequence(TaskDescribe, long)
	if err != nil || len(toks) != cfg.Input.MaxTextLen {
		t.Fatalf("long description: %d tokens, %v", len(toks), err)
	}
	if _, _, err := m.Sequence(Task(9), "x"); err == nil {
		t.Fatal("unknown task accepted")
	}
}

package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/model/weights"
)

func TestWeightsCLI(t *testing.T) {
	mc, err := model.LoadConfig("../../configs/model/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(mc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(b); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "tiny.safetensors")
	if err := weights.Export(m, ckpt, false); err != nil {
		t.Fatal(err)
	}
	set := []string{"--set", "model_config=../../configs/model/tiny.yaml"}
	inspect := func(path string) (names []string) {
		out, err := run(t, "weights", "inspect", path, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Tensors []struct{ Name string } `json:"tensors"`
		}
		if err := json.Unmarshal([]byte(out), &f); err != nil {
			t.Fatal(err)
		}
		for _, x := range f.Tensors {
			names = append(names, x.Name)
		}
		return names
	}
	hasLoRA := func(names []string) bool {
		for _, n := range names {
			if strings.Contains(n, "lora") {
				return true
			}
		}
		return false
	}
	if !hasLoRA(inspect(ckpt)) {
		t.Fatal("the unmerged checkpoint should hold LoRA tensors")
	}
	merged := filepath.Join(dir, "merged.safetensors")
	if _, err := run(t, append([]string{"weights", "export", "--in", ckpt, "--out", merged, "--merge-lora"}, set...)...); err != nil {
		t.Fatal(err)
	}
	if hasLoRA(inspect(merged)) {
		t.Fatal("--merge-lora left LoRA tensors")
	}
	if _, err := run(t, append([]string{"weights", "import", "--out", filepath.Join(dir, "x"), "--gemma", merged}, set...)...); err == nil {
		t.Fatal("a cpllm-named file imported as Gemma must fail")
	}
}

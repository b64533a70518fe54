package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/model"
	"github.com/cpllm/cpllm/train"
)

// The repository's configs, seen from this package's directory.
var repoConfigs = []string{"--set", "model_config=../../configs/model/tiny.yaml", "--set", "train_config=../../configs/train/tiny.yaml"}

// --set reaches the model config and the recipe (model.KEY, train.KEY), and
// `config show` prints both with the overrides applied.
func TestSetModelAndTrainKeys(t *testing.T) {
	out, err := run(t, append([]string{"config", "show", "--set", "train.steps=40", "--set", "model.variant.fusion=average",
		"--set", "model.backend=go", "--set", "train.mix={score: 1, pair: 0.5}", "--set", "seed=5"}, repoConfigs...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	docs := strings.Split(out, "\n---\n")
	if len(docs) != 3 || !strings.Contains(docs[0], "seed: 5") || !strings.Contains(docs[0], "model_config: ../../configs/model/tiny.yaml") {
		t.Fatalf("want the config, the model config and the recipe:\n%s", out)
	}
	for _, want := range []string{"--set model.variant.fusion, model.backend", "\nmodel:\n", "  backend: go\n", "    fusion: average\n",
		"    encoders: context+pixel\n", "  context_encoder:\n    patch_size: 16\n", "  prompts:\n    score: 'rate the quality"} {
		if !strings.Contains(docs[1], want) {
			t.Errorf("model section lacks %q:\n%s", want, docs[1])
		}
	}
	for _, want := range []string{"\ntrain:\n", "  steps: 40\n", "  mix:\n    score: 1\n    describe: 0\n    pair: 0.5\n", "  step_timeout: 2m0s\n"} {
		if !strings.Contains(docs[2], want) {
			t.Errorf("train section lacks %q:\n%s", want, docs[2])
		}
	}

	// The loaders every command uses give the overridden configs.
	g := &globals{sets: []string{"model.variant.fusion=average", "train.steps=40", "model_config=../../configs/model/tiny.yaml",
		"train_config=../../configs/train/tiny.yaml"}}
	cfg, err := g.load()
	if err != nil {
		t.Fatal(err)
	}
	mc, my, err := loadModel(cfg)
	if err != nil || mc.Variant.Fusion != "average" || !strings.Contains(string(my), "fusion: average") {
		t.Fatalf("model: %v %+v\n%s", err, mc.Variant, my)
	}
	base, _ := model.LoadConfig("../../configs/model/tiny.yaml")
	if base.Variant.Fusion != "concat" || mc.Decoder != base.Decoder {
		t.Fatalf("only the overridden key may change: %+v vs %+v", mc.Decoder, base.Decoder)
	}
	tc, ty, err := loadRecipe(cfg)
	if err != nil || tc.Steps != 40 || !strings.Contains(string(ty), "steps: 40") {
		t.Fatalf("recipe: %v %d\n%s", err, tc.Steps, ty)
	}
	tiny, _ := train.LoadConfig("../../configs/train/tiny.yaml")
	if tiny.Steps == 40 || tc.BatchSize != tiny.BatchSize || tc.LR != tiny.LR {
		t.Fatalf("only steps may change: %+v vs %+v", tc, tiny)
	}
	// Without overrides the files' bytes are used as they are.
	cfg.ModelSets, cfg.TrainSets = nil, nil
	_, my, _ = loadModel(cfg)
	if file, _ := os.ReadFile("../../configs/model/tiny.yaml"); string(my) != string(file) {
		t.Error("no overrides: the effective model YAML must be the file")
	}
}

// `cpllm train --set train.steps=40` takes effect: the run records the
// recipe and model config it trains with (train.Run gets the same parsed
// configs); here the run stops at the missing shards right after that.
func TestTrainUsesSets(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	_, err := run(t, append([]string{"train", "--train-shards", filepath.Join(dir, "none"), "--val-shards", filepath.Join(dir, "none"),
		"--out", out, "--set", "train.steps=40", "--set", "model.variant.fusion=average"}, repoConfigs...)...)
	if err == nil || strings.Contains(err.Error(), "config") {
		t.Fatalf("want the missing shards to stop the run, got %v", err)
	}
	recipe, err1 := train.LoadConfig(filepath.Join(out, "recipe.yaml"))
	mc, err2 := model.LoadConfig(filepath.Join(out, "model.yaml"))
	if err1 != nil || err2 != nil || recipe.Steps != 40 || mc.Variant.Fusion != "average" {
		t.Fatalf("recorded run config: %v %v steps %d fusion %q", err1, err2, recipe.Steps, mc.Variant.Fusion)
	}
}

// `model list` builds the variants from the overridden model config.
func TestModelListUsesSets(t *testing.T) {
	count := func(sets ...string) int64 {
		out, err := run(t, append([]string{"model", "list", "--json", "--set", "model_config=../../configs/model/tiny.yaml"}, sets...)...)
		var infos []struct {
			Name      string `json:"name"`
			Trainable int64  `json:"trainable"`
		}
		if err != nil || json.Unmarshal([]byte(out), &infos) != nil || len(infos) == 0 || infos[0].Name != "context+pixel/concat" {
			t.Fatalf("%v\n%s", err, out)
		}
		return infos[0].Trainable
	}
	if a, b := count(), count("--set", "model.context_encoder.mlp_dim=128"); a == b {
		t.Fatalf("--set model.context_encoder.mlp_dim=128 did not change the trainable count (%d)", a)
	}
}

// Unknown keys fail naming the key and the closest one; bad values name the
// key and the type; a command that reads no recipe refuses train.* keys.
func TestSetErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(empty, []byte("# nothing yet\n"), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"config", "show", "--set", "train.stepz=40"}, []string{`--set "train.stepz=40"`, `unknown key "train.stepz"`, `did you mean "train.steps"?`}},
		{[]string{"config", "show", "--set", "steps=40"}, []string{`unknown key "steps"`, `did you mean "train.steps"?`}},
		{[]string{"config", "show", "--set", "model.variant.fuson=average"}, []string{`unknown key "model.variant.fuson"`, `did you mean "model.variant.fusion"?`}},
		{[]string{"config", "show", "--set", "train.steps=lots"}, []string{`key "train.steps"`, `got "lots", expected an integer`}},
		{[]string{"config", "show", "--set", "model.input.size=big"}, []string{`key "model.input.size"`, "expected an integer"}},
		{[]string{"config", "show", "--set", "train.step_timeout=soon"}, []string{`key "train.step_timeout"`, "expected a duration"}},
		{[]string{"config", "show", "--set", "model.heads.regression=maybe"}, []string{`key "model.heads.regression"`, "true or false"}},
		{append([]string{"config", "show", "--set", "model.variant.fusion=bogus"}, repoConfigs...), []string{"model_config", "tiny.yaml (with --set model.variant.fusion)", "variant"}},
		{[]string{"config", "show", "--set", "train_config=" + empty}, []string{"train_config", empty, "is empty"}},
		{[]string{"data", "probe", "x.mp4", "--set", "train.steps=40"}, []string{`--set train.steps`, `"cpllm data probe" does not read the training recipe`, "cpllm train"}},
		{[]string{"sweep", "x.yaml", "--set", "model.seed=2"}, []string{`"cpllm sweep" does not read the model config`}},
		{[]string{"config", "show", "--set", "ladder.crf=60:10:2"}, []string{`"ladder.crf"`, "is empty"}},
		{[]string{"config", "show", "--set", "ladder.preset=bogus"}, []string{`"ladder.preset"`, "libx264 preset"}},
		{[]string{"data", "ladder", "--in", "x", "--out", "y", "--crf", "15:70:5"}, []string{`"ladder.crf"`, "outside 0..63"}},
	} {
		_, err := run(t, c.args...)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v lacks %q", c.args, err, w)
			}
		}
	}
	// An empty recipe is an error on its own, but overrides make it a recipe.
	if _, err := run(t, "config", "show", "--set", "train.steps=40", "--set", "train_config="+empty, "--set", "model_config=../../configs/model/tiny.yaml"); err != nil {
		t.Errorf("empty recipe + --set train.steps=40: %v", err)
	}
}

// Every command named in readers exists, so an override is never refused by
// a stale name.
func TestReadersExist(t *testing.T) {
	paths := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		paths[c.CommandPath()] = true
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd())
	for p := range readers {
		if !paths[p] {
			t.Errorf("readers names %q, which is not a command", p)
		}
	}
}

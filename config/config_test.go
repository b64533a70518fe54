package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/x264"
)

func writeYAML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultYAMLMatchesDefault(t *testing.T) {
	cfg, err := Load(Sources{File: "../configs/default.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("configs/default.yaml differs from Default():\n%+v\n%+v", cfg, Default())
	}
}

func TestPrecedence(t *testing.T) {
	f := writeYAML(t, "seed: 3\nladder:\n  preset: fast\n  jobs: 2\n")
	cfg, err := Load(Sources{File: f})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 3 || cfg.Ladder.Preset != "fast" || cfg.Ladder.Jobs != 2 || cfg.Ladder.CRF != "15:53:2" {
		t.Fatalf("file layer: %+v", cfg)
	}
	cfg, err = Load(Sources{File: f, Env: []string{"CPLLM_SEED=7", "CPLLM_LADDER_JOBS=4"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 7 || cfg.Ladder.Jobs != 4 {
		t.Fatalf("env must beat file: %+v", cfg)
	}
	cfg, err = Load(Sources{File: f, Env: []string{"CPLLM_SEED=7"}, Sets: []string{"seed=9", "ladder.preset=slow", "ladder.crf=15,23"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 9 || cfg.Ladder.Preset != "slow" || cfg.Ladder.CRF != "15,23" {
		t.Fatalf("--set must beat env and file: %+v", cfg)
	}
}

func TestErrorsNameKeyAndSource(t *testing.T) {
	cases := []struct {
		name, yaml string
		src        Sources
		want       []string
	}{
		{"typo", "seed: 1\nladder:\n  presett: fast\n", Sources{}, []string{"c.yaml:3", `"ladder.presett"`, `did you mean "ladder.preset"`}},
		{"top typo", "sed: 1\n", Sources{}, []string{"c.yaml:1", `unknown key "sed"`}},
		{"section scalar", "ladder: 5\n", Sources{}, []string{`"ladder"`, "expects a mapping"}},
		{"type", "ladder:\n  jobs: many\n", Sources{}, []string{`"ladder.jobs"`, "c.yaml:2", "expected an integer"}},
		{"env type", "", Sources{Env: []string{"CPLLM_SEED=abc"}}, []string{`"seed"`, "env CPLLM_SEED", "integer"}},
		{"set unknown", "", Sources{Sets: []string{"ladder.jbos=2"}}, []string{`unknown key "ladder.jbos"`}},
		{"set no value", "", Sources{Sets: []string{"seed"}}, []string{"expected key=value"}},
		{"value", "log_level: loud\n", Sources{}, []string{`"log_level"`, "one of", "c.yaml:1"}},
		{"jobs range", "", Sources{Sets: []string{"ladder.jobs=0"}}, []string{`"ladder.jobs"`, "--set", ">= 1"}},
		{"frame_deep name", "", Sources{Sets: []string{"shards.frame_stats=true", "shards.frame_deep=resnet"}}, []string{`"shards.frame_deep"`, "mobilenetv2"}},
		{"frame_deep alone", "", Sources{Sets: []string{"shards.frame_deep=mobilenetv2"}}, []string{`"shards.frame_deep"`, "shards.frame_stats: true"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.src
			if c.yaml != "" {
				src.File = writeYAML(t, c.yaml)
			}
			_, err := Load(src)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	cfg := Default()
	cfg.Seed = 42
	cfg.Ladder.Preset = "veryfast"
	b, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(Sources{File: writeYAML(t, string(b))})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Fatalf("round trip: %+v != %+v", got, cfg)
	}
}

func TestLadderValuesValidated(t *testing.T) {
	for _, c := range []struct {
		set  string
		want []string
	}{
		{"ladder.crf=60:10:2", []string{`"ladder.crf"`, "--set ladder.crf", "is empty", "lo <= hi"}},
		{"ladder.crf=15:53:0", []string{`"ladder.crf"`, "is empty"}},
		{"ladder.crf=15:70:5", []string{`"ladder.crf"`, "level 65 is outside 0..63"}},
		{"ladder.crf=15,,23", []string{`"ladder.crf"`, "not an integer"}},
		{"synth.ladder_crf=-1,20", []string{`"synth.ladder_crf"`, "-1 is outside 0..63"}},
		{"ladder.preset=bogus", []string{`"ladder.preset"`, "--set ladder.preset", "libx264 preset", "veryslow"}},
		{"synth.preset=Fast", []string{`"synth.preset"`, "libx264 preset"}},
	} {
		if _, err := Load(Sources{Sets: []string{c.set}}); err == nil {
			t.Errorf("%s: accepted", c.set)
		} else {
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q lacks %q", c.set, err, w)
				}
			}
		}
	}
	for _, ok := range []string{"ladder.crf=15:53:2", "ladder.crf=0:63:63", "ladder.crf=20", "ladder.crf=31,15,23", "ladder.preset=ultrafast", "synth.preset=placebo"} {
		if _, err := Load(Sources{Sets: []string{ok}}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if got, err := x264.ParseCRFs("15:21:3"); err != nil || !reflect.DeepEqual(got, []int{15, 18, 21}) {
		t.Errorf("ParseCRFs: %v %v", got, err)
	}
}

type testModel struct {
	Variant struct {
		Fusion string `yaml:"fusion"`
	} `yaml:"variant"`
}

type testRecipe struct {
	Steps int     `yaml:"steps"`
	LR    float64 `yaml:"lr"`
}

func TestNamespacedSets(t *testing.T) {
	schemas := map[string]any{ModelNS: testModel{}, TrainNS: testRecipe{}}
	cfg, err := Load(Sources{Schemas: schemas, Sets: []string{"train.steps=40", "seed=3", "model.variant.fusion=average", "train.lr=0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 3 || len(cfg.TrainSets) != 2 || cfg.TrainSets[0].Key != "steps" || cfg.TrainSets[0].Value.Value != "40" ||
		cfg.TrainSets[1].Key != "lr" || len(cfg.ModelSets) != 1 || cfg.ModelSets[0].Key != "variant.fusion" || cfg.ModelSets[0].Value.Value != "average" {
		t.Fatalf("sets: %+v %+v", cfg.ModelSets, cfg.TrainSets)
	}
	if b, _ := cfg.YAML(); strings.Contains(string(b), "sets") {
		t.Errorf("the overrides leaked into the YAML:\n%s", b)
	}
	for _, c := range []struct {
		sets    []string
		schemas map[string]any
		want    string
	}{
		{[]string{"train.stepz=40"}, schemas, `config: --set "train.stepz=40": unknown key "train.stepz" (did you mean "train.steps"?)`},
		{[]string{"train.steps=many"}, schemas, `key "train.steps": got "many", expected an integer`},
		{[]string{"model.variant.fuson=x"}, schemas, `did you mean "model.variant.fusion"?`},
		{[]string{"model.variant=x"}, schemas, `key "model.variant": got "x", expected a mapping`},
		{[]string{"steps=40"}, schemas, `unknown key "steps" (did you mean "train.steps"?)`},
		{[]string{"train..steps=40"}, schemas, `empty part`},
		{[]string{"train.steps=40"}, nil, `unknown key "train.steps"`},
	} {
		_, err := Load(Sources{Schemas: c.schemas, Sets: c.sets})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.sets, err, c.want)
		}
	}
}

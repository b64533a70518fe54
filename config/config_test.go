package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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

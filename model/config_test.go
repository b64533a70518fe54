package model

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestConfigsLoad(t *testing.T) {
	for _, name := range []string{"tiny", "paper"} {
		c, err := LoadConfig(configPath(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Name != name || c.Variant.Name() != "context+pixel/concat" || c.LoRA.Rank != 4 {
			t.Errorf("%s: unexpected %+v", name, c.Variant)
		}
	}
}

func TestConfigStrict(t *testing.T) {
	data, err := os.ReadFile(configPath("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "  mlp_dim: 512", "  mlp_dim: 512\n  mlp_dimm: 3", 1)
	if _, err := ParseConfig([]byte(bad)); err == nil || !strings.Contains(err.Error(), "mlp_dimm") {
		t.Errorf("unknown key: got %v, want an error naming mlp_dimm", err)
	}
	// From a file, the error names the file and the line of the key.
	p := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(bad[:strings.Index(bad, "mlp_dimm")], "\n") + 1
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: unknown key \"decoder.mlp_dimm\"", p, line)) {
		t.Errorf("unknown key in a file: got %v, want %s:%d and the key", err, p, line)
	}
	cases := map[string]string{
		"fusion: concat":          "fusion: average\n  # pixel-only cannot average\n",
		"heads: 4\n  kv_heads: 1": "heads: 4\n  kv_heads: 3",
		"size: 32":                "size: 40",
		"type: mlp":               "type: conv",
		"rank: 4":                 "rank: -1",
	}
	for from, to := range cases {
		s := strings.Replace(string(data), from, to, 1)
		if from == "fusion: concat" {
			s = strings.Replace(s, "encoders: context+pixel", "encoders: pixel-only", 1)
		}
		if _, err := ParseConfig([]byte(s)); err == nil {
			t.Errorf("%q -> %q: no validation error", from, to)
		} else {
			t.Logf("%q -> %q: %v", from, to, err)
		}
	}
}

func TestVariantsRegistry(t *testing.T) {
	want := []string{
		"context+pixel/concat", "context+pixel/cross-attention", "context+pixel/average", "context+pixel/early-concat",
		"context-only/concat", "context-only/cross-attention", "pixel-only/concat", "pixel-only/cross-attention",
	}
	if got := Variants(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Variants() = %v", got)
	}
	if _, err := tinyConfig(t).WithVariant("context-only/average"); err == nil {
		t.Error("context-only/average accepted")
	}
}

func TestNewBackend(t *testing.T) {
	for _, spec := range []string{"", "go", "go:parallelism=-1", "go:ops_sequential"} {
		b, err := NewBackend(spec)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		if !strings.Contains(strings.ToLower(b.Name()), "go") {
			t.Errorf("%q: got backend %q", spec, b.Name())
		}
		b.Finalize()
	}
	// A plugin that no machine has must fail, naming the plugin (or saying XLA
	// is not compiled in); "xla:cpu" may work where a PJRT CPU plugin is
	// installed, and otherwise must fail the same way.
	for _, spec := range []string{"xla:cpllm-no-such-plugin", "xla:cpu"} {
		b, err := NewBackend(spec)
		if err == nil {
			if spec != "xla:cpu" {
				t.Errorf("%q: no error", spec)
			}
			t.Logf("%q: PJRT plugin present (%s)", spec, b.Name())
			b.Finalize()
			continue
		}
		plugin := strings.TrimPrefix(spec, "xla:")
		if !(strings.Contains(err.Error(), "PJRT plugin \""+plugin+"\"") && strings.Contains(err.Error(), "is the plugin installed")) &&
			!strings.Contains(err.Error(), "not compiled") {
			t.Errorf("%q: error does not name the missing plugin: %v", spec, err)
		}
	}
	if _, err := NewBackend("cuda"); err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Errorf("\"cuda\": %v, want an unknown-backend error", err)
	}
	if _, err := NewBackend("go:bogus"); err == nil {
		t.Error("go:bogus accepted")
	}
}

func TestEmptyConfigNamesTheFile(t *testing.T) {
	for _, body := range []string{"", "\n# only a comment\n", "~\n"} {
		p := t.TempDir() + "/empty.yaml"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "is empty") || strings.Contains(err.Error(), "EOF") {
			t.Errorf("%q: got %v, want an error naming %s and saying it is empty", body, err, p)
		}
	}
}

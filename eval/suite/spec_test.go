package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/model"
)

func TestParseList(t *testing.T) {
	ds, err := ParseList("konvid1k, lsvq-test,lsvq-1080p,shards:/x/test/", map[string]string{"konvid1k": "/k", "lsvq": "/l"},
		map[string]string{"lsvq-1080p": "/l/1080.csv"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Dataset{
		{Name: "konvid1k", Loader: "konvid1k", Root: "/k"},
		{Name: "lsvq-test", Loader: "lsvq", Split: "test", Root: "/l"},
		{Name: "lsvq-1080p", Loader: "lsvq", Split: "test-1080p", Root: "/l", Labels: "/l/1080.csv"},
		{Name: "test", Shards: "/x/test/"},
	}
	if len(ds) != len(want) {
		t.Fatalf("%+v", ds)
	}
	for i := range want {
		if ds[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, ds[i], want[i])
		}
	}
	for _, c := range []struct{ list, want string }{
		{"konvid1k", "root (or labels) is required (--root-konvid1k"},
		{"nope", `dataset nope: no loader`},
		{"shards:/a/t,shards:/b/t", `"t" appears twice`},
		{"", "no datasets"},
	} {
		if _, err := ParseList(c.list, nil, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.list, err, c.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "suite.yaml")
	os.WriteFile(good, []byte("resamples: 500\ndatasets:\n  - name: livevqc\n    root: /v\n  - name: mine\n    loader: manifest\n    labels: /m.csv\n    limit: 3\n  - name: synth\n    shards: /s\n"), 0o644)
	c, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Resamples != 500 || len(c.Datasets) != 3 || c.Datasets[0].Loader != "livevqc" || c.Datasets[1].Limit != 3 || c.Datasets[2].Shards != "/s" {
		t.Fatalf("%+v", c)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("datasets:\n  - name: livevqc\n    rot: /v\n"), 0o644)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "bad.yaml:3: unknown key \"datasets[0].rot\"") {
		t.Fatalf("unknown key: %v", err)
	}
	os.WriteFile(bad, []byte("datasets:\n  - name: x\n    shards: /s\n    root: /r\n"), 0o644)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "shards excludes") {
		t.Fatalf("shards with root: %v", err)
	}
}

func TestCheckpointName(t *testing.T) {
	for in, want := range map[string]string{
		"runs/tiny":                           "tiny",
		"runs/tiny/":                          "tiny",
		"runs/tiny/checkpoints/best":          "tiny-best",
		"runs/a b/checkpoints/step-00000040/": "a_b-step-00000040",
	} {
		if got := CheckpointName(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestModelConfigFor(t *testing.T) {
	run := t.TempDir()
	best := filepath.Join(run, "checkpoints", "best")
	os.MkdirAll(best, 0o755)
	tiny := filepath.Join("..", "..", "configs", "model", "tiny.yaml")
	data, _ := os.ReadFile(tiny)
	data, err := model.AbsTokenizerYAML(data, filepath.Dir(tiny)) // the copy lives elsewhere
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(run, "model.yaml"), []byte(strings.Replace(string(data), "name: tiny", "name: recorded", 1)), 0o644)
	for _, ckpt := range []string{run, best, best + "/"} {
		mc, from, err := ModelConfigFor(ckpt, tiny)
		if err != nil || mc.Name != "recorded" || from != filepath.Join(run, "model.yaml") {
			t.Errorf("%s: %q from %s (%v)", ckpt, mc.Name, from, err)
		}
	}
	other := filepath.Join(t.TempDir(), "ckpt")
	os.MkdirAll(other, 0o755)
	if mc, from, err := ModelConfigFor(other, tiny); err != nil || mc.Name != "tiny" || from != tiny {
		t.Errorf("fallback: %q from %s (%v)", mc.Name, from, err)
	}
	if _, _, err := ModelConfigFor(other, ""); err == nil {
		t.Error("no model config anywhere must fail")
	}
}

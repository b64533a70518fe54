package describe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "desc.jsonl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadJSONL(t *testing.T) {
	p := writeFile(t, `{"id": "a/1", "text": "Sharp and clean."}

{"text": "Blurry, \"poor\".", "id": "b", "annotator": 3}
  {"id":"c","text":"no trailing newline"}`)
	got, err := LoadJSONL(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a/1": "Sharp and clean.", "b": `Blurry, "poor".`, "c": "no trailing newline"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

func TestLoadJSONLErrors(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"id": "a", "text": "x"}` + "\n" + `{"id": "b", "text": `, ":2: not a JSON object"},
		{`["a", "x"]`, ":1: not a JSON object"},
		{`{"id": 3, "text": "x"}`, ":1: not a JSON object"},
		{`{"id": "a", "text": "x"} {"id": "b"}`, ":1: more than one JSON value"},
		{"\n" + `{"text": "x"}`, `:2: missing or empty "id"`},
		{`{"id": "", "text": "x"}`, `:1: missing or empty "id"`},
		{`{"id": "a", "text": "  "}`, `:1: id "a" has an empty "text"`},
		{`{"id": "a"}`, `:1: id "a" has an empty "text"`},
		{`{"id": "a", "text": "x"}` + "\n" + `{"id": "b", "text": "y"}` + "\n" + `{"id": "a", "text": "z"}`, `:3: duplicate id "a" (first on line 1)`},
	}
	for _, c := range cases {
		p := writeFile(t, c.body)
		_, err := LoadJSONL(p)
		if err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, p+c.want)
		}
	}
	missing := filepath.Join(t.TempDir(), "none.jsonl")
	if _, err := LoadJSONL(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

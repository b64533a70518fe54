package strictyaml

import (
	"strings"
	"testing"
	"time"
)

type item struct {
	Name  string  `yaml:"name"`
	Score float64 `yaml:"score"`
}

type doc struct {
	Items   []item        `yaml:"items"`
	Timeout time.Duration `yaml:"timeout"`
	Sub     struct {
		Flag bool `yaml:"flag"`
	} `yaml:"sub"`
}

func TestDecode(t *testing.T) {
	var d doc
	if err := Decode("ok.yaml", []byte("items:\n  - name: a\n    score: 2\ntimeout: 3s\nsub:\n  flag: true\n"), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != 1 || d.Items[0].Score != 2 || d.Timeout != 3*time.Second || !d.Sub.Flag {
		t.Fatalf("%+v", d)
	}
	for _, c := range []struct{ text, want string }{
		{"items:\n  - name: a\n    scor: 2\n", `bad.yaml:3: unknown key "items[0].scor" (valid keys under items[0]: name, score)`},
		{"sub:\n  flg: true\n", `bad.yaml:2: unknown key "sub.flg"`},
		{"itemz: []\n", `bad.yaml:1: unknown key "itemz" (valid keys: items, sub, timeout)`},
		{"items:\n  - name: a\n    score: high\n", `bad.yaml:3: cannot unmarshal`},
		{"items: [\n", `bad.yaml:`},
	} {
		err := Decode("bad.yaml", []byte(c.text), &doc{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
	if err := Decode("empty.yaml", nil, &d); err != nil || len(d.Items) != 1 {
		t.Fatalf("empty document: %v %+v", err, d)
	}
}

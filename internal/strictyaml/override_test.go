package strictyaml

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type inner struct {
	Width int `yaml:"width"`
	Depth int `yaml:"depth"`
}

type outer struct {
	inner `yaml:",inline"`
	Extra int `yaml:"extra"`
}

type schema struct {
	Name    string         `yaml:"name"`
	Steps   int            `yaml:"steps"`
	LR      float64        `yaml:"lr"`
	On      bool           `yaml:"on"`
	Timeout time.Duration  `yaml:"timeout"`
	Tags    []string       `yaml:"tags"`
	Enc     inner          `yaml:"enc"`
	Pix     outer          `yaml:"pix"`
	Extras  map[string]int `yaml:"extras"`
}

func mustSet(t *testing.T, s string) Override {
	t.Helper()
	o, err := ParseOverride(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestApply(t *testing.T) {
	base := "# a comment\nname: a\nsteps: 5\nenc:\n  width: 4\npix:\n"
	got, err := ApplyBytes("base.yaml", []byte(base), schema{}, "",
		mustSet(t, "steps=40"), mustSet(t, "enc.depth=3"), mustSet(t, "pix.width=8"), mustSet(t, "pix.extra=1"),
		mustSet(t, "timeout=90s"), mustSet(t, "tags=[x, y]"), mustSet(t, "lr=1e-3"), mustSet(t, "name=15,23"),
		mustSet(t, "extras.k=2"), mustSet(t, "on=true"))
	if err != nil {
		t.Fatal(err)
	}
	var s schema
	if err := Decode("out.yaml", got, &s); err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	want := schema{Name: "15,23", Steps: 40, LR: 1e-3, On: true, Timeout: 90 * time.Second, Tags: []string{"x", "y"},
		Enc: inner{Width: 4, Depth: 3}, Pix: outer{inner: inner{Width: 8}, Extra: 1}, Extras: map[string]int{"k": 2}}
	if s.Name != want.Name || s.Steps != want.Steps || s.LR != want.LR || !s.On || s.Timeout != want.Timeout ||
		strings.Join(s.Tags, ",") != "x,y" || s.Enc != want.Enc || s.Pix != want.Pix || s.Extras["k"] != 2 {
		t.Fatalf("got %+v\n%s", s, got)
	}
	if !strings.Contains(string(got), "# a comment") {
		t.Errorf("comments lost:\n%s", got)
	}
	if same, _ := ApplyBytes("base.yaml", []byte(base), schema{}, ""); string(same) != base {
		t.Errorf("no overrides must return the file unchanged")
	}
	// An empty document gets a top mapping.
	var doc yaml.Node
	if err := Apply(&doc, &schema{}, "", mustSet(t, "enc.width=2")); err != nil {
		t.Fatal(err)
	}
	if n := Get(&doc, "enc.width"); n == nil || n.Value != "2" {
		t.Fatalf("Get after Apply on an empty document: %v", n)
	}
}

func TestApplyErrors(t *testing.T) {
	for _, c := range []struct{ set, want string }{
		{"stepz=40", `unknown key "train.stepz" (did you mean "train.steps"?)`},
		{"enc.widht=40", `unknown key "train.enc.widht" (did you mean "train.enc.width"?)`},
		{"pix.qqqqqq=1", `unknown key "train.pix.qqqqqq" (valid keys under train.pix: depth, extra, width)`},
		{"zzzzzzzz=1", `unknown key "train.zzzzzzzz" (valid keys under train: enc, extras, lr, name, on, pix, steps, tags, timeout)`},
		{"steps=lots", `key "train.steps": got "lots", expected an integer`},
		{"lr=fast", `key "train.lr": got "fast", expected a number`},
		{"on=maybe", `key "train.on": got "maybe", expected true or false`},
		{"timeout=soon", `key "train.timeout": got "soon", expected a duration`},
		{"tags=x", `key "train.tags": got "x", expected a list`},
		{"enc=5", `key "train.enc": got "5", expected a mapping of depth, width`},
		{"enc={width: 2, dept: 3}", `unknown key "train.enc.dept" (did you mean "train.enc.depth"?)`},
		{"enc={width: two}", `key "train.enc": expected a mapping of depth, width: cannot unmarshal !!str`},
		{"steps.x=1", `key "train.steps.x": "train.steps" is an integer, not a section with keys`},
		{"name=[a]", `key "train.name": expected a string`},
		{"enc..width=1", `empty part`},
	} {
		o, err := ParseOverride(c.set)
		if err == nil {
			err = Apply(&yaml.Node{}, schema{}, "train.", o)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.set, err, c.want)
		}
	}
	if _, err := ParseOverride("steps"); err == nil || !strings.Contains(err.Error(), "expected key=value") {
		t.Errorf("no '=': %v", err)
	}
	// The document's own errors keep its name and line.
	if _, err := ApplyBytes("base.yaml", []byte("steps: 1\nenc:\n  wdth: 2\n"), schema{}, "", mustSet(t, "steps=2")); err == nil ||
		!strings.Contains(err.Error(), `base.yaml:3: unknown key "enc.wdth"`) {
		t.Errorf("file error: %v", err)
	}
	// A key that is a scalar in the document cannot be descended into.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("extras: 5\n"), &doc); err != nil {
		t.Fatal(err)
	}
	if err := Apply(&doc, schema{}, "", mustSet(t, "extras.k=1")); err == nil || !strings.Contains(err.Error(), `"extras" is not a mapping`) {
		t.Errorf("scalar section: %v", err)
	}
}

func TestParseValue(t *testing.T) {
	for raw, want := range map[string]string{"7": "!!int", "fast": "!!str", "": "!!str", "null": "!!str", "[a, b]": "!!seq", "{a: 1}": "!!map", "a: b: c": "!!str"} {
		if n := ParseValue(raw); n.ShortTag() != want {
			t.Errorf("%q: tag %s, want %s", raw, n.ShortTag(), want)
		}
	}
	if n := ParseValue(""); n.Value != "" {
		t.Errorf("empty: %q", n.Value)
	}
}

func TestDecodeInline(t *testing.T) {
	var s schema
	if err := Decode("x.yaml", []byte("pix:\n  width: 3\n  extra: 2\n"), &s); err != nil || s.Pix.Width != 3 || s.Pix.Extra != 2 {
		t.Fatalf("inline: %v %+v", err, s)
	}
	if err := Decode("x.yaml", []byte("pix:\n  wdth: 3\n"), &s); err == nil || !strings.Contains(err.Error(), `x.yaml:2: unknown key "pix.wdth" (valid keys under pix: depth, extra, width)`) {
		t.Fatalf("inline unknown: %v", err)
	}
}

func TestClosest(t *testing.T) {
	if c := Closest("stepz", []string{"steps", "seed"}); c != "steps" {
		t.Errorf("got %q", c)
	}
	if c := Closest("completely", []string{"steps"}); c != "" {
		t.Errorf("got %q", c)
	}
}

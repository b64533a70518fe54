package train

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// An empty recipe is an error naming the file, not "train config: EOF";
// {} is the explicit way to ask for every default.
func TestEmptyRecipe(t *testing.T) {
	for _, body := range []string{"", "  \n# nothing yet\n", "null\n"} {
		_, err := ParseConfig([]byte(body), "configs/train/new.yaml")
		if err == nil || !strings.Contains(err.Error(), "configs/train/new.yaml: train config: the file is empty") {
			t.Errorf("%q: got %v", body, err)
		}
	}
	c, err := ParseConfig([]byte("{}\n"), "all-defaults.yaml")
	if err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
		t.Errorf("{}: got %+v, %v; want the defaults", c, err)
	}
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig("../configs/train/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Steps != 2000 || c.Mix.Pair != 0.15 || c.StepTimeout.Minutes() != 2 || c.Schedule != "cosine" {
		t.Fatalf("%+v", c)
	}
	// warmup then cosine down to the floor
	if c.LRAt(0) != c.LR/100 || c.LRAt(99) != c.LR || math.Abs(c.LRAt(c.Steps-1)-c.LR*c.MinLRRatio) > 1e-12 {
		t.Fatalf("lr %v %v %v", c.LRAt(0), c.LRAt(99), c.LRAt(c.Steps-1))
	}
	n := [3]int{}
	for s := range 10000 {
		n[c.TaskAt(s)]++
	}
	if n[0] < 6700 || n[0] > 7300 || n[1] < 1300 || n[2] < 1300 {
		t.Fatalf("task counts %v for mix 0.7/0.15/0.15", n)
	}
}

// pair_rank is a loss weight: negative values are refused, naming the key.
func TestPairRankValidated(t *testing.T) {
	_, err := ParseConfig([]byte("pair_rank: -1\n"), "r.yaml")
	if err == nil || !strings.Contains(err.Error(), "pair_rank -1 must be >= 0") {
		t.Fatalf("pair_rank -1: %v", err)
	}
	c, err := ParseConfig([]byte("pair_rank: 0.5\npair_views: true\n"), "r.yaml")
	if err != nil || c.PairRank != 0.5 || !c.PairViews {
		t.Fatalf("pair_rank 0.5: %+v %v", c, err)
	}
}

// describe_text takes stored, observable or canonical; anything else is refused by name.
func TestDescribeTextValidated(t *testing.T) {
	_, err := ParseConfig([]byte("describe_text: seen\n"), "r.yaml")
	if err == nil || !strings.Contains(err.Error(), `describe_text "seen" is not stored, observable or canonical`) {
		t.Fatalf("describe_text seen: %v", err)
	}
	for _, v := range []string{"stored", "observable", "canonical"} {
		if c, err := ParseConfig([]byte("describe_text: "+v+"\n"), "r.yaml"); err != nil || c.DescribeText != v {
			t.Fatalf("describe_text %s: %+v %v", v, c, err)
		}
	}
}

// select takes best or last; anything else is refused by name.
func TestSelectValues(t *testing.T) {
	_, err := ParseConfig([]byte("select: final\n"), "r.yaml")
	if err == nil || !strings.Contains(err.Error(), `select "final" is not best or last`) {
		t.Fatalf("select final: %v", err)
	}
	for _, v := range []string{"best", "last"} {
		if c, err := ParseConfig([]byte("select: "+v+"\n"), "r.yaml"); err != nil || c.Select != v {
			t.Fatalf("select %s: %+v %v", v, c, err)
		}
	}
}

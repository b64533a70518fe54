package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/feed/feedtest"
)

// `train holdout` writes the recipe's validation and training ids per score
// source: disjoint, together every scored record, the fraction held out.
func TestTrainHoldoutCmd(t *testing.T) {
	dir := t.TempDir()
	pool := filepath.Join(dir, "pool")
	feedtest.WriteShards(t, pool, 20, 1, 3) // record 3 has no MOS
	recipe := filepath.Join(dir, "recipe.yaml")
	body := fmt.Sprintf("data: [{name: pool, shards: %s}]\nholdout: {fraction: 0.25, seed: 2}\n", pool)
	if err := os.WriteFile(recipe, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ids")
	if _, err := run(t, "--set", "train_config="+recipe, "train", "holdout", "--out", out); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(b))
	}
	val, fit := read("pool.val.txt"), read("pool.fit.txt")
	seen := map[string]bool{}
	for _, id := range append(val, fit...) {
		if seen[id] || id == "v003" {
			t.Fatalf("id %s repeated or unscored (val %v, fit %v)", id, val, fit)
		}
		seen[id] = true
	}
	if len(val) != 5 || len(fit) != 14 {
		t.Fatalf("%d validation and %d training ids; want 5 and 14 of 19 scored", len(val), len(fit))
	}
	// --set train.holdout.fold=K writes fold K: the 4 folds partition the
	// 19 scored records.
	all := map[string]int{}
	for k := range 4 {
		fold := filepath.Join(dir, fmt.Sprint("fold", k))
		if _, err := run(t, "--set", "train_config="+recipe, "--set", fmt.Sprint("train.holdout.fold=", k), "train", "holdout", "--out", fold); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(fold, "pool.val.txt"))
		if err != nil {
			t.Fatal(err)
		}
		ids := strings.Fields(string(b))
		if k == 0 && strings.Join(ids, " ") != strings.Join(val, " ") {
			t.Errorf("fold 0 %v, want the plain holdout %v", ids, val)
		}
		for _, id := range ids {
			all[id]++
		}
	}
	for id := range seen {
		if all[id] != 1 {
			t.Errorf("id %s in %d folds, want 1", id, all[id])
		}
	}
	if _, err := run(t, "--set", "train_config=../../configs/train/tiny.yaml", "train", "holdout", "--out", out); err == nil || !strings.Contains(err.Error(), "no data section") {
		t.Fatalf("recipe without data: %v", err)
	}
}

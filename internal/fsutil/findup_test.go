package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

// FindUpward finds a path under a parent of the working directory, and
// reports a path that exists nowhere above as not found.
func TestFindUpward(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, ".deps", "x", "model.json")
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	got, ok := FindUpward(filepath.Join(".deps", "x", "model.json"))
	if !ok || got != want {
		t.Fatalf("FindUpward = %q, %v; want %q", got, ok, want)
	}
	if p, ok := FindUpward(filepath.Join(".deps", "no-such-thing-here")); ok {
		t.Fatalf("found %q, which does not exist", p)
	}
}

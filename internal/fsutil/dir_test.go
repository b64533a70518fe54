package fsutil

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeDir(t *testing.T, dir string, files ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestReplaceDir(t *testing.T) {
	root := t.TempDir()
	final := filepath.Join(root, "run")

	// Into an empty place.
	tmp := filepath.Join(root, ".run.tmp-1")
	writeDir(t, tmp, "a")
	if err := ReplaceDir(tmp, final); err != nil {
		t.Fatal(err)
	}
	if got := names(t, final); !slices.Equal(got, []string{"a"}) {
		t.Errorf("first publish: %v", got)
	}

	// Over an existing directory: only the new files, nothing left beside it.
	tmp = filepath.Join(root, ".run.tmp-2")
	writeDir(t, tmp, "b")
	if err := ReplaceDir(tmp, final); err != nil {
		t.Fatal(err)
	}
	if got := names(t, final); !slices.Equal(got, []string{"b"}) {
		t.Errorf("replace: %v", got)
	}
	if got := names(t, root); !slices.Equal(got, []string{"run"}) {
		t.Errorf("left beside it: %v", got)
	}

	// A failed publish keeps the old directory.
	if err := ReplaceDir(filepath.Join(root, ".run.tmp-missing"), final); err == nil {
		t.Error("missing temp directory: no error")
	}
	if got := names(t, final); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after a failed publish: %v", got)
	}
}

package sweep

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/experiments/sweep/sweeptest"
)

func repo() string { return sweeptest.Repo() }

func writeShards(t testing.TB, dir string, n, ladder int, seed uint64) {
	sweeptest.WriteShards(t, dir, n, ladder, seed)
}

type fixture struct{ sweeptest.Fixture }

func newFixture(t testing.TB, extra string) fixture { return fixture{sweeptest.New(t, extra)} }

func (f fixture) writeExp(t testing.TB, name, body string) string { return f.Write(t, name, body) }

// tree returns every regular file under dir (relative path -> bytes).
func tree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyTree copies src into dst (merging directories).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	for rel, b := range tree(t, src) {
		p := filepath.Join(dst, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

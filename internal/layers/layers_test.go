package layers

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestModuleLayering: no import of the module runs sideways or up.
func TestModuleLayering(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	ims, err := Imports(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) < 100 {
		t.Fatalf("only %d imports found under %s: the walk is broken", len(ims), root)
	}
	bad, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// TestCheckCatches: the checker flags each kind of violation in a small
// tree and passes the allowed imports.
func TestCheckCatches(t *testing.T) {
	root := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	imp := func(pkg string, paths ...string) string {
		s := "package " + pkg + "\nimport (\n"
		for _, p := range paths {
			s += "\t_ \"example.com/m/" + p + "\"\n"
		}
		return s + ")\n"
	}
	write("go.mod", "module example.com/m\n")
	write("train/a.go", imp("train", "eval/metrics", "feed", "train/sub", "internal/x")) // eval: sideways
	write("data/a.go", imp("data", "model"))                                             // sideways
	write("model/a.go", imp("model", "feed"))                                            // up
	write("feed/a.go", imp("feed", "data/shards", "model", "feed/feedtest"))             // fixture in production
	write("eval/suite/a_test.go", imp("suite", "eval/evaltest", "train", "experiments")) // experiments: up
	write("eval/evaltest/a.go", imp("evaltest", "train", "feed/feedtest"))               // fixtures may go sideways
	write("tools/a.go", imp("tools", "internal/x"))                                      // unplaced
	write("cmd/x/testdata/a.go", imp("x", "cmd/y"))                                      // skipped
	write("_scratch/a.go", imp("s", "cmd/y"))                                            // skipped
	write("nested/go.mod", "module example.com/n\n")
	write("nested/a.go", imp("n", "cmd/y")) // another module
	bad, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"data/a.go imports model",
		"eval/suite/a_test.go imports experiments",
		"feed/a.go imports feed/feedtest",
		"model/a.go imports feed",
		"tools/a.go imports internal/x",
		"train/a.go imports eval/metrics",
	}
	var got []string
	for _, b := range bad {
		got = append(got, b[:strings.Index(b, ":")])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
}

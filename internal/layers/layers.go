// Package layers states the module's import layering and checks it. Every
// top-level directory sits on a level; a package may import packages on
// lower levels and packages under its own top-level directory, nothing
// else. So data and model never import each other, train and eval never
// import each other, and nothing imports a package above it.
//
// Test fixtures (packages whose name ends in "test": feedtest, evaltest,
// sweeptest, testutil) are test code: only tests and other fixtures may
// import them, and test code may import siblings on its own level (a suite
// test trains a checkpoint with train), never a level above.
package layers

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Levels lists the top-level directories from the bottom up.
var Levels = [][]string{
	{"internal"},                // helpers and shared definitions (levels, corr)
	{"data", "model", "config"}, // video data, the network, CLI configuration
	{"feed"},                    // videos -> model inputs -> scores
	{"train", "eval"},
	{"experiments"},
	{"cmd"},
	{"deploy"},
}

// Level is the level of a module-relative package path (-1: unplaced).
func Level(rel string) int {
	top, _, _ := strings.Cut(rel, "/")
	for i, l := range Levels {
		if slices.Contains(l, top) {
			return i
		}
	}
	return -1
}

// Fixture reports whether a package path is a test fixture.
func Fixture(rel string) bool { return strings.HasSuffix(rel[strings.LastIndex(rel, "/")+1:], "test") }

// Import is one import of one file.
type Import struct {
	File string // relative to the module root
	From string // importing package, module-relative
	To   string // imported package, module-relative
	Test bool   // the file is a _test.go file
}

// Imports lists the module-internal imports of every .go file under root
// (the module root), whatever its build constraints. Directories named
// testdata or starting with "." or "_", and nested modules, are skipped,
// as the go command does.
func Imports(root string) ([]Import, error) {
	mod, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	var out []Import
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		from := filepath.ToSlash(filepath.Dir(rel))
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			to, ok := strings.CutPrefix(p, mod+"/")
			if !ok {
				continue
			}
			out = append(out, Import{File: filepath.ToSlash(rel), From: from, To: to, Test: strings.HasSuffix(name, "_test.go")})
		}
		return nil
	})
	return out, err
}

// Check returns the imports under root that break the layering, described.
func Check(root string) ([]string, error) {
	ims, err := Imports(root)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, im := range ims {
		if why := im.violation(); why != "" {
			bad = append(bad, fmt.Sprintf("%s imports %s: %s", im.File, im.To, why))
		}
	}
	return bad, nil
}

func (im Import) violation() string {
	from, to := Level(im.From), Level(im.To)
	switch {
	case from < 0:
		return fmt.Sprintf("%s is on no level (add its directory to layers.Levels)", im.From)
	case to < 0:
		return fmt.Sprintf("%s is on no level (add its directory to layers.Levels)", im.To)
	case Fixture(im.To) && !im.Test && !Fixture(im.From):
		return "a test fixture imported by non-test code"
	case im.Test || Fixture(im.From):
		if to > from {
			return fmt.Sprintf("test code on level %d uses level %d", from, to)
		}
	case sameTop(im.From, im.To):
	case to >= from:
		return fmt.Sprintf("level %d (%s) imports level %d (%s)", from, top(im.From), to, top(im.To))
	}
	return ""
}

func top(rel string) string    { t, _, _ := strings.Cut(rel, "/"); return t }
func sameTop(a, b string) bool { return top(a) == top(b) }

// modulePath reads the module line of a go.mod.
func modulePath(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

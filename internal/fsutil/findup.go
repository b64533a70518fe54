package fsutil

import (
	"os"
	"path/filepath"
)

// FindUpward returns the first existing path dir/rel, for dir the working
// directory and then the executable's directory and each of their parents:
// what make installs under the repository (.deps/...) is found from a
// package directory (tests) and from bin/ (a binary run from elsewhere).
func FindUpward(rel string) (string, bool) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p, true
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", false
}
